"""One progress line on stderr for corpus runs: files, audio hours and ETA.

Shown only when the stream is a terminal (a log file gets the final summary only).
The ETA divides the audio still to do by the audio-seconds-per-second rate so far.
Results come in bursts (a bucket's items finish together): a result that arrives
within ``interval`` of the last redraw is drawn by a timer thread, so the line
never stays behind the count, and the ETA keeps moving between bursts. While the line
is shown, a message of the ``qalign`` logger (a failed item, say) first clears it and
the line is drawn again below the message, so messages never run into it.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts finished items and audio; redraws one line at most every ``interval`` seconds."""

    def __init__(
        self,
        files: int,
        audio_seconds: float,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        interval: float = 0.5,
    ) -> None:
        self.files = files
        self.audio_seconds = audio_seconds
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.interval = interval
        self.done_files = 0
        self.done_seconds = 0.0
        self.failed = 0
        self.started = time.monotonic()
        self._last = 0.0
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._logger = logging.getLogger("qalign")
        self._clear_filter = _ClearLine(self)
        self._redraw_handler = _Redraw(self)
        if self.enabled:
            self._logger.addFilter(self._clear_filter)  # runs before every handler
            self._logger.addHandler(self._redraw_handler)  # after the ones there already

    def line(self) -> str:
        """The text of the progress line now."""
        elapsed = time.monotonic() - self.started
        text = (
            f"qalign: {self.done_files}/{self.files} files, "
            f"{self.done_seconds / 3600:.2f}/{self.audio_seconds / 3600:.2f} h audio"
        )
        if self.failed:
            text += f", {self.failed} failed"
        if self.done_seconds > 0 and elapsed > 0 and self.audio_seconds > self.done_seconds:
            rate = self.done_seconds / elapsed
            text += f", ETA {_clock((self.audio_seconds - self.done_seconds) / rate)}"
        return text

    def update(self, seconds: float, failed: bool = False) -> None:
        with self._lock:
            self.done_files += 1
            self.done_seconds += seconds
            self.failed += int(failed)
            if not self.enabled:
                return
            now = time.monotonic()
            if now - self._last >= self.interval or self.done_files == self.files:
                self._last = now
                self._draw(self.line())
            elif self._timer is None:
                # Held back: the timer draws it (and keeps redrawing) every interval.
                self._timer = threading.Thread(
                    target=self._redraw_every_interval, name="qalign-progress", daemon=True
                )
                self._timer.start()

    def _redraw_every_interval(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self._stop.is_set():
                    return
                self._last = time.monotonic()
                self._draw(self.line())

    def _draw(self, text: str) -> None:
        pad = max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def clear_line(self) -> None:
        """Blank the progress line and put the cursor at its start (before a message)."""
        with self._lock:
            if self.enabled and self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()

    def redraw(self) -> None:
        """Draw the line again (after a message)."""
        with self._lock:
            if self.enabled and self._width and not self._stop.is_set():
                self._width = 0  # the cursor is at the start of an empty line
                self._draw(self.line())

    def close(self) -> None:
        """Draw the final count and end the line (so the summary starts on a fresh line)."""
        self._logger.removeFilter(self._clear_filter)
        self._logger.removeHandler(self._redraw_handler)
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        with self._lock:
            if self.enabled and self._width:
                self._draw(self.line())
                self.stream.write("\n")
                self.stream.flush()


class _ClearLine(logging.Filter):
    """A logger filter that blanks the progress line before the message is written."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear_line()
        return True


class _Redraw(logging.Handler):
    """A handler, after the one that writes the message, that draws the progress line again."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        self.progress.redraw()
