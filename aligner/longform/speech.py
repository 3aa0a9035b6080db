"""Where the speech is: a map of one recording at 10 ms resolution, built in one streamed pass.

:class:`SpeechMap` holds, per 10 ms frame, the log energy and a speech
probability. The probability comes from silero-vad when it is installed (see
:mod:`qalign.aligner.longform.vad`) and otherwise from the energy against the
recording's own noise floor. The map is all the long-form layer keeps of the
audio between windows: 2 hours is 720,000 frames, about 6 MB.

It answers three questions: how much speech lies between two times (to size a
window's text), where the best place to cut is (the middle of the longest,
quietest pause near a target time) and where speech starts after a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger("qalign")

FRAME = 160  # samples per frame at 16 kHz (10 ms)
FRAME_SECONDS = 0.01
#: Frames whose speech probability is at least this count as speech.
SPEECH_THRESHOLD = 0.5


def frame_energy_db(samples: np.ndarray) -> np.ndarray:
    """Log energy (dB) of consecutive 10 ms frames (a trailing partial frame included)."""
    count = -(-len(samples) // FRAME)
    if count == 0:
        return np.zeros(0)
    padded = np.zeros(count * FRAME, np.float64)
    padded[: len(samples)] = samples
    blocks = padded.reshape(count, FRAME)
    return 10.0 * np.log10(np.mean(blocks * blocks, axis=1) + 1e-10)


@dataclass(frozen=True, eq=False)
class SpeechMap:
    """Per-frame energy (dB) and speech probability of a recording.

    Attributes:
        energy_db: float64 ``[frames]``.
        speech: float32 ``[frames]`` in [0, 1].
        duration: the recording's length in seconds.
        peak: the largest absolute sample value.
        method: ``"silero-vad"`` or ``"energy"``.
    """

    energy_db: np.ndarray
    speech: np.ndarray
    duration: float
    peak: float
    method: str

    @classmethod
    def from_blocks(cls, blocks: Iterable[np.ndarray], *, vad: object | None = None) -> SpeechMap:
        """Build the map from consecutive blocks of samples (each a multiple of 10 ms but the last).

        Args:
            vad: a :class:`~qalign.aligner.longform.vad.SpeechDetector`, or ``None`` for energy only.
        """
        energies: list[np.ndarray] = []
        probs: list[np.ndarray] = []
        peak, total = 0.0, 0
        for block in blocks:
            if block.size == 0:
                continue
            total += block.size
            peak = max(peak, float(np.max(np.abs(block))))
            energies.append(frame_energy_db(block))
            if vad is not None:
                probs.append(vad.feed(block))  # type: ignore[attr-defined]
        energy = np.concatenate(energies) if energies else np.zeros(0)
        if vad is not None:
            speech = np.concatenate(probs) if probs else np.zeros(0, np.float32)
            speech = _fit(speech, energy.size)
            method = "silero-vad"
        else:
            speech = energy_speech(energy)
            method = "energy"
        return cls(energy, speech, total / 16000, peak, method)

    @property
    def frames(self) -> int:
        return int(self.energy_db.size)

    def _frame(self, t: float) -> int:
        return min(self.frames, max(0, int(round(t / FRAME_SECONDS))))

    def speech_seconds(self, start: float, end: float) -> float:
        """Seconds of speech between ``start`` and ``end``."""
        a, b = self._frame(start), self._frame(end)
        return float(np.count_nonzero(self.speech[a:b] >= SPEECH_THRESHOLD)) * FRAME_SECONDS

    def cut(self, lo: float, hi: float) -> float:
        """The best time in ``[lo, hi]`` to cut: the middle of the quietest long pause there."""
        a, b = self._frame(lo), self._frame(hi)
        if b - a <= 1:
            return lo
        # Prefer non-speech; among non-speech frames, the middle of the longest run;
        # without any, the lowest smoothed energy.
        quiet = self.speech[a:b] < SPEECH_THRESHOLD
        if quiet.any():
            best_len, best_mid, run = 0, a, 0
            for i, q in enumerate(quiet):
                run = run + 1 if q else 0
                if run > best_len:
                    best_len, best_mid = run, a + i - run // 2
            return best_mid * FRAME_SECONDS
        smooth = np.convolve(self.energy_db[a:b], np.ones(15) / 15, mode="same")
        return (a + int(np.argmin(smooth))) * FRAME_SECONDS

    def next_speech(self, t: float, min_run: float = 0.1) -> float | None:
        """Start of the first run of at least ``min_run`` s of speech at or after ``t``; ``None`` when none."""
        a = self._frame(t)
        need = max(1, int(round(min_run / FRAME_SECONDS)))
        is_speech = self.speech[a:] >= SPEECH_THRESHOLD
        run = 0
        for i, s in enumerate(is_speech):
            run = run + 1 if s else 0
            if run >= need:
                return (a + i - need + 1) * FRAME_SECONDS
        return None

    def pauses(self, start: float, end: float, min_seconds: float) -> list[tuple[float, float]]:
        """Runs of non-speech of at least ``min_seconds`` within ``[start, end]``."""
        a, b = self._frame(start), self._frame(end)
        quiet = np.concatenate([[False], self.speech[a:b] < SPEECH_THRESHOLD, [False]])
        edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
        out = []
        for s, e in zip(edges[::2], edges[1::2]):
            if (e - s) * FRAME_SECONDS >= min_seconds:
                out.append(((a + s) * FRAME_SECONDS, (a + e) * FRAME_SECONDS))
        return out


def energy_speech(energy_db: np.ndarray) -> np.ndarray:
    """Speech probability from energy alone: frames well above the recording's noise floor.

    The floor is the 10th percentile of frame energies; frames 12 dB above it
    (smoothed over 100 ms) are speech. A rough stand-in for silero-vad: noise
    and music count as speech here.
    """
    if energy_db.size == 0:
        return np.zeros(0, np.float32)
    floor = float(np.percentile(energy_db, 10))
    peak = float(np.percentile(energy_db, 99))
    level = floor + min(12.0, max(3.0, (peak - floor) / 3))
    smooth = np.convolve(energy_db, np.ones(10) / 10, mode="same")
    return (smooth >= level).astype(np.float32)


def _fit(values: np.ndarray, size: int) -> np.ndarray:
    if values.size >= size:
        return values[:size].astype(np.float32)
    pad = np.full(size - values.size, values[-1] if values.size else 0.0, np.float32)
    return np.concatenate([values.astype(np.float32), pad])
