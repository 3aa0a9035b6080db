"""The corpus runner with a fake engine: outputs, skipping, failures, reports, buckets."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from qalign import formats
from qalign.atomic import temp_name
from qalign.corpus.items import CorpusItem
from qalign.corpus.job import CorpusJob
from qalign.corpus.runner import buckets, run_corpus


def _job(out: Path, **kw) -> CorpusJob:
    return CorpusJob(
        outdir=str(out), formats=kw.pop("formats", ("textgrid", "json")), engine="sphinx", **kw
    )


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_outputs_mirror_the_tree_and_failures_are_listed(
    small_corpus: Path, tmp_path: Path, even_engine
) -> None:
    out = tmp_path / "out"
    summary = run_corpus(small_corpus, _job(out))
    assert (summary.done, summary.skipped, summary.failed) == (4, 0, 2)
    assert even_engine.loads == 1  # one model load for the whole run
    for key in ("spk1/a", "spk1/b", "spk2/c"):
        assert (out / f"{key}.TextGrid").is_file() and (out / f"{key}.json").is_file()
    assert {p.name for p in out.glob("meeting*")} == {
        "meeting.TextGrid",
        "meeting.anna.json",
        "meeting.ben.json",
    }
    words = formats.load(out / "spk1" / "a.json")
    assert [u.text for u in words.units] == ["one", "two", "three", "UNALIGNED"]
    assert words.units[1].start == pytest.approx(0.25)
    failures = {r["item"]: r for r in _rows(out / "failures.csv")}
    assert set(failures) == {"spk2/broken", "empty"}
    assert failures["spk2/broken"]["stage"] == "decode-audio"
    assert failures["empty"]["stage"] == "read-text" and "empty" in failures["empty"]["error"]
    assert summary.words_unaligned == 1


def test_report_is_worst_first(small_corpus: Path, tmp_path: Path, even_engine) -> None:
    out = tmp_path / "out"
    run_corpus(small_corpus, _job(out))
    rows = _rows(out / "alignment_report.csv")
    assert rows[0]["item"] == "spk1/a"  # 3 of 4 aligned: the only imperfect file
    assert float(rows[0]["aligned"]) == pytest.approx(0.75)
    assert float(rows[0]["unaligned"]) == pytest.approx(0.25)
    assert {r["item"] for r in rows} == {"spk1/a", "spk1/b", "spk2/c", "meeting"}
    by_item = {r["item"]: r for r in rows}
    assert by_item["meeting"]["words"] == "6"
    assert float(by_item["spk2/c"]["duration_s"]) == pytest.approx(3.0)


def test_utterance_textgrid_keeps_speaker_tiers(
    small_corpus: Path, tmp_path: Path, even_engine
) -> None:
    out = tmp_path / "out"
    run_corpus(small_corpus, _job(out, formats=("textgrid", "json")))
    import textgrid

    grid = textgrid.TextGrid.fromFile(str(out / "meeting.TextGrid"))
    assert [t.name for t in grid] == ["anna", "anna - words", "ben", "ben - words"]
    anna_words = [i for i in grid[1] if i.mark]
    assert [i.mark for i in anna_words] == ["hello", "there", "my", "friend"]
    # aligned inside the utterance's own span 0.5..2.5 s
    assert anna_words[0].minTime == pytest.approx(0.5) and anna_words[-1].maxTime == pytest.approx(
        2.5
    )
    ben_words = [i for i in grid[3] if i.mark]
    assert ben_words[0].minTime == pytest.approx(2.0) and ben_words[-1].maxTime == pytest.approx(
        3.5
    )
    assert [i.mark for i in grid[2] if i.mark] == ["good morning"]
    # other formats: one file per speaker, with the utterance as a segment
    ben = formats.load(out / "meeting.ben.json")
    assert [u.text for u in ben.units] == ["good", "morning"] and ben.duration == pytest.approx(4.0)
    assert [(s.text, s.start, s.end) for s in ben.segments] == [("good morning", 2.0, 3.5)]


def test_rerun_skips_finished_and_overwrite_redoes(
    small_corpus: Path, tmp_path: Path, even_engine
) -> None:
    out = tmp_path / "out"
    run_corpus(small_corpus, _job(out))
    target = out / "spk1" / "b.json"
    before = target.stat().st_mtime_ns
    again = run_corpus(small_corpus, _job(out))
    assert (again.done, again.skipped, again.failed) == (0, 4, 2)
    assert target.stat().st_mtime_ns == before
    # the report still lists the skipped items
    assert len(_rows(out / "alignment_report.csv")) == 4
    # a deleted output makes its item unfinished
    target.unlink()
    third = run_corpus(small_corpus, _job(out))
    assert (third.done, third.skipped) == (1, 3) and target.is_file()
    # another format set: everything is redone
    fourth = run_corpus(small_corpus, _job(out, formats=("json",)))
    assert fourth.done == 4
    redo = run_corpus(small_corpus, _job(out, formats=("json",), overwrite=True))
    assert (redo.done, redo.skipped) == (4, 0)


def test_stale_temporary_files_are_removed(small_corpus: Path, tmp_path: Path, even_engine) -> None:
    out = tmp_path / "out"
    (out / "spk1").mkdir(parents=True)
    stale = out / "spk1" / temp_name("a.json")  # a name our writer makes
    stale.write_text('{"half')
    mine = out / "spk1" / "notes.part"  # not a name our writer makes: left alone
    mine.write_text("keep")
    run_corpus(small_corpus, _job(out))
    assert not stale.exists() and mine.exists()
    assert not [p for p in out.rglob("*.part") if p.name != "notes.part"]


def test_buckets_group_similar_lengths_within_limits() -> None:
    items = [
        CorpusItem(f"k{i}", "a.wav", "x", size_hint=s) for i, s in enumerate([50, 1, 700, 2, 49, 3])
    ]
    groups = buckets(items, max_seconds=100, max_items=2)
    assert [[i.size_hint for i in g] for g in groups] == [[1, 2], [3, 49], [50], [700]]


def test_engine_calls_are_per_bucket(
    small_corpus: Path, tmp_path: Path, even_engine, monkeypatch
) -> None:
    engines = []
    original = even_engine.__init__

    def track(self):
        original(self)
        engines.append(self)

    monkeypatch.setattr(even_engine, "__init__", track)
    run_corpus(small_corpus, _job(tmp_path / "out", bucket_items=2))
    # 6 good + bad items in buckets of 2 (the bad ones fail before the engine);
    # the meeting's two utterances go in one call with its bucket mate.
    assert len(engines) == 1 and len(engines[0].calls) >= 2
    assert max(engines[0].calls) <= 3


def test_manifest_with_offsets(tmp_path: Path, even_engine, make_wav) -> None:
    root = tmp_path / "m"
    make_wav(root / "long.wav", 4.0)
    lines = [
        {"audio": "long.wav", "text": "alpha beta", "offset": 1.0, "duration": 2.0, "speaker": "x"},
        {"audio": "long.wav", "text": "gamma", "offset": 3.0},
        {"audio": "missing.wav", "text": "delta"},
    ]
    (root / "list.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    out = tmp_path / "out"
    summary = run_corpus(root / "list.jsonl", _job(out, formats=("json",)))
    assert (summary.done, summary.failed) == (2, 2)
    first = formats.load(out / "long_00001000.json")
    # times are in the source audio's timeline
    assert [(u.start, u.end) for u in first.units] == [
        pytest.approx((1.0, 2.0)),
        pytest.approx((2.0, 3.0)),
    ]
    assert first.duration == pytest.approx(4.0)
    assert formats.load(out / "long_00003000.json").units[0].start == pytest.approx(3.0)
    stages = {r["item"]: r["stage"] for r in _rows(out / "failures.csv")}
    assert stages == {"missing": "decode-audio", "list.jsonl:4": "discover"}
    # the manifest's speaker is kept in the report (empty where the line names none)
    speakers = {r["item"]: r["speaker"] for r in _rows(out / "alignment_report.csv")}
    assert speakers == {"long_00001000": "x", "long_00003000": ""}


def test_cli_wiring_formats_cues_and_exit_code(
    small_corpus: Path, tmp_path: Path, even_engine, capsys
) -> None:
    from qalign.cli.main import main

    out = tmp_path / "out"
    rc = main(
        ["batch", str(small_corpus), "-o", str(out), "-f", "srt", "-f", "ctm", "--max-chars", "12"]
    )
    err = capsys.readouterr().err
    assert rc == 1  # two items failed
    assert "qalign: batch: 4 done, 0 skipped, 2 failed, 1 words unaligned" in err
    assert "failures.csv" in err
    srt = (out / "spk2" / "c.srt").read_text()
    text_lines = [x for x in srt.splitlines() if x and "-->" not in x and not x.isdigit()]
    assert text_lines == ["six seven", "eight"]  # 12 columns at most
    assert (out / "spk1" / "a.ctm").read_text().split()[0] == "a"  # file id: the audio's stem
    assert main(["batch", str(small_corpus), "-o", str(tmp_path / "x"), "-f", "nope"]) == 2
    assert (
        main(
            [
                "batch",
                str(small_corpus),
                "-o",
                str(tmp_path / "x"),
                "-f",
                "textgrid",
                "-f",
                "textgrid-short",
            ]
        )
        == 2
    )


def test_long_files_go_to_the_engine_by_path(
    tmp_path: Path, make_wav, even_engine, monkeypatch
) -> None:
    from qalign.corpus import job as job_module

    monkeypatch.setattr(job_module, "STREAM_SECONDS", 1.5)
    seen = []
    real = even_engine.align_batch

    def spy(self, requests):
        seen.extend(type(r.audio).__name__ for r in requests)
        return real(self, [r if not isinstance(r.audio, str) else _decoded(r) for r in requests])

    def _decoded(request):
        from dataclasses import replace

        from qalign.audio import load_audio

        return replace(request, audio=load_audio(request.audio))

    monkeypatch.setattr(even_engine, "align_batch", spy)
    root = tmp_path / "c"
    make_wav(root / "short.wav", 1.0)
    (root / "short.lab").write_text("a b")
    make_wav(root / "long.wav", 3.0)
    (root / "long.lab").write_text("c d e")
    summary = run_corpus(root, _job(tmp_path / "out", formats=("json",)))
    assert summary.done == 2
    assert sorted(seen) == ["ndarray", "str"]
    assert formats.load(tmp_path / "out" / "long.json").duration == pytest.approx(3.0)


def test_an_engine_crash_fails_the_bucket_not_the_run(
    small_corpus: Path, tmp_path: Path, even_engine, monkeypatch
) -> None:
    def boom(self, requests):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(even_engine, "align_batch", boom)
    summary = run_corpus(small_corpus, _job(tmp_path / "out"))
    assert (summary.done, summary.failed) == (0, 6)
    stages = {r["item"]: (r["stage"], r["error"]) for r in _rows(tmp_path / "out" / "failures.csv")}
    assert stages["spk1/a"] == ("align", "RuntimeError: out of memory")


def test_nothing_placed_is_written_reported_first_and_warned(
    tmp_path: Path, make_wav, even_engine, caplog
) -> None:
    root = tmp_path / "c"
    make_wav(root / "lost.wav", 1.0)
    (root / "lost.lab").write_text("UNALIGNED UNALIGNED")
    make_wav(root / "fine.wav", 1.0)
    (root / "fine.lab").write_text("UNALIGNED fine")
    summary = run_corpus(root, _job(tmp_path / "out", formats=("json",)))
    assert (summary.done, summary.failed) == (2, 0)
    rows = _rows(tmp_path / "out" / "alignment_report.csv")
    assert [r["item"] for r in rows] == ["lost", "fine"]
    assert float(rows[0]["aligned"]) == 0.0
    assert "lost: no part of the transcript could be aligned" in caplog.text


def test_progress_on_a_terminal_unless_quiet(
    small_corpus: Path, tmp_path: Path, even_engine, monkeypatch
) -> None:
    import io
    import sys

    from qalign.cli.main import main

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    shown = {}
    for flags in ([], ["-q"]):
        tty = Tty()
        monkeypatch.setattr(sys, "stderr", tty)
        main(["batch", str(small_corpus), "-o", str(tmp_path / f"out{len(flags)}"), *flags])
        shown[tuple(flags)] = tty.getvalue()
    assert "6/6 files" in shown[()]
    assert "files," not in shown[("-q",)] and "qalign: batch: 4 done" in shown[("-q",)]


def _interrupt_at_bucket(monkeypatch, n: int, exc: KeyboardInterrupt) -> None:
    """Make the ``n``-th bucket's alignment raise ``exc`` (Ctrl-C, or a signal as raised)."""
    from qalign.corpus.job import CorpusWorker

    real = CorpusWorker.align
    calls = {"n": 0}

    def align(self, prepared):
        calls["n"] += 1
        if calls["n"] == n:
            raise exc
        return real(self, prepared)

    monkeypatch.setattr(CorpusWorker, "align", align)


def test_an_interrupted_run_reports_what_was_done(
    small_corpus: Path, tmp_path: Path, even_engine, monkeypatch
) -> None:
    from qalign.corpus.runner import BatchInterrupted

    out = tmp_path / "out"
    _interrupt_at_bucket(monkeypatch, 3, KeyboardInterrupt())
    with pytest.raises(BatchInterrupted) as caught:
        run_corpus(small_corpus, _job(out, bucket_items=1))
    summary = caught.value.summary
    assert isinstance(caught.value.cause, KeyboardInterrupt)
    # six items, one per bucket: two buckets finished (done or failed), four never ran
    assert summary.done + summary.failed == 2 and summary.interrupted == 4
    assert f"{summary.failed} failed, 4 interrupted, " in summary.line()
    assert len(_rows(out / "alignment_report.csv")) == summary.done  # reports written
    rerun = run_corpus(small_corpus, _job(out, bucket_items=1))  # the 3rd call has passed
    assert rerun.interrupted == 0 and rerun.skipped == summary.done
    assert rerun.done + rerun.skipped + rerun.failed == 6
    assert " interrupted" not in rerun.line()


@pytest.mark.parametrize(
    ("signum", "code", "last_line"),
    [("SIGINT", 130, "qalign: interrupted"), ("SIGTERM", 143, "qalign: terminated (SIGTERM)")],
)
def test_cli_prints_the_summary_of_an_interrupted_run(
    small_corpus: Path, tmp_path: Path, even_engine, monkeypatch, capsys, signum, code, last_line
) -> None:
    import re
    import signal

    from qalign.cli.main import Interrupted, main

    exc = KeyboardInterrupt() if signum == "SIGINT" else Interrupted(getattr(signal, signum))
    _interrupt_at_bucket(monkeypatch, 2, exc)
    rc = main(["batch", str(small_corpus), "-o", str(tmp_path / "out"), "--bucket-items", "1"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == code
    assert lines[-1] == last_line
    found = re.fullmatch(
        r"qalign: batch: (\d+) done, 0 skipped, (\d+) failed, 5 interrupted, .*", lines[-2]
    )
    assert found and int(found[1]) + int(found[2]) == 1, lines


def test_items_written_before_the_interruption_count_as_done(
    small_corpus: Path, tmp_path: Path, even_engine, monkeypatch
) -> None:
    """One bucket of six: stopped while writing its third item, the two written are done."""
    from qalign.corpus.job import CorpusWorker
    from qalign.corpus.runner import BatchInterrupted

    real, writes = CorpusWorker._write, []

    def write(self, item, *args):
        if len(writes) == 2:
            raise KeyboardInterrupt
        writes.append(item.key)
        return real(self, item, *args)

    monkeypatch.setattr(CorpusWorker, "_write", write)
    out = tmp_path / "out"
    with pytest.raises(BatchInterrupted) as caught:
        run_corpus(small_corpus, _job(out))
    summary = caught.value.summary
    assert (summary.done, summary.failed, summary.interrupted) == (2, 0, 4)
    assert sorted(r["item"] for r in _rows(out / "alignment_report.csv")) == sorted(writes)
