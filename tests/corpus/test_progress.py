"""The progress line: files, audio hours, ETA; silent when stderr is not a terminal."""

from __future__ import annotations

import io

from qalign.corpus.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_shows_files_hours_and_eta(monkeypatch) -> None:
    clock = iter([100.0, 100.0, 160.0, 160.0, 190.0, 190.0])
    monkeypatch.setattr("qalign.corpus.progress.time.monotonic", lambda: next(clock))
    stream = _Tty()
    progress = Progress(4, 4 * 1800.0, stream, interval=0.0)
    assert progress.enabled
    progress.update(1800.0)  # 0.5 h of audio in 60 s: 30 s of audio per second
    text = stream.getvalue()
    assert "1/4 files" in text and "0.50/2.00 h audio" in text
    assert "ETA 3:00" in text  # 5400 s of audio left at 30 s/s
    progress.update(0.0, failed=True)
    assert "1 failed" in stream.getvalue().rsplit("\r", 1)[-1]
    progress.close()
    assert stream.getvalue().endswith("\n")


def test_hidden_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(2, 10.0, stream)
    progress.update(5.0)
    progress.update(5.0)
    progress.close()
    assert stream.getvalue() == ""


def test_a_burst_of_results_is_drawn_soon_after_not_left_behind() -> None:
    # A bucket's items finish together: all but the first arrive within the interval.
    import time

    stream = _Tty()
    progress = Progress(5, 50.0, stream, interval=0.05)
    for _ in range(3):
        progress.update(10.0)
    assert stream.getvalue().rsplit("\r", 1)[-1].startswith("qalign: 1/5 files")
    time.sleep(0.3)  # nothing else arrives (the next bucket is still with the model)
    assert stream.getvalue().rsplit("\r", 1)[-1].startswith("qalign: 3/5 files")
    progress.close()
    assert stream.getvalue().endswith("\n")


def test_a_message_clears_the_line_and_the_line_comes_back_below_it() -> None:
    import logging

    stream = _Tty()
    logger = logging.getLogger("qalign")
    handler = logging.StreamHandler(stream)  # as the CLI's: messages on the same stream
    handler.setFormatter(logging.Formatter("qalign: %(message)s"))
    logger.addHandler(handler)
    try:
        progress = Progress(4, 40.0, stream, interval=0.0)
        progress.update(10.0)
        logger.warning("spk1/a: failed at align: nope")
        text = stream.getvalue()
        before, after = text.split("qalign: spk1/a: failed", 1)
        assert before.endswith("\r") and before.rsplit("\r", 2)[-2].strip() == ""  # blanked
        assert (
            after.split("\n", 1)[1].lstrip("\r").startswith("qalign: 1/4 files")
        )  # drawn again below
        progress.close()
        logger.warning("after close")
        assert stream.getvalue().endswith("qalign: after close\n")  # no line drawn any more
    finally:
        logger.removeHandler(handler)
