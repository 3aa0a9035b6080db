"""One progress line on stderr for corpus runs: files, audio hours and ETA.

Shown only when the stream is a terminal (a log file gets the final summary only).
The ETA divides the audio still to do by the audio-seconds-per-second rate so far.
"""

from __future__ import annotations

import sys
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
        self.done_files += 1
        self.done_seconds += seconds
        self.failed += int(failed)
        now = time.monotonic()
        if self.enabled and (now - self._last >= self.interval or self.done_files == self.files):
            self._last = now
            self._draw(self.line())

    def _draw(self, text: str) -> None:
        pad = max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        """End the progress line (so the summary starts on a fresh line)."""
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
