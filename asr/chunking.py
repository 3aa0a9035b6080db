"""Cutting long audio into chunks at quiet points.

One request to the aligner covers at most a few minutes (qalign uses 180 s by
default, like the reference's timestamp mode), so longer recordings are cut
into chunks, transcribed and aligned one by one, and merged again
(:mod:`qalign.asr.pipeline`).

How :func:`plan_chunks` cuts:

* the chunks tile the audio exactly: no gap, no overlap, every sample in one chunk;
* no chunk is longer than ``max_seconds`` (the reference may overshoot by up to 5 s;
  here the limit is a promise the aligner can rely on);
* the number of chunks is the smallest possible, ``ceil(duration / max_seconds)``,
  and they are balanced: 190 s with a 180 s limit gives two chunks of about
  95 s instead of 180 s + 10 s;
* each cut is placed in the quietest ``window_seconds`` (100 ms) stretch within
  ``search_seconds`` (5 s) of its balanced position (measured as the mean
  absolute sample value), in the middle of that stretch, so that a cut rarely
  falls inside a word. Among equally quiet stretches (digital silence) the one
  nearest the balanced position wins.

Only numpy is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Default longest chunk, in seconds.
DEFAULT_CHUNK_SECONDS = 180.0
#: How far from its balanced position a cut may move, in seconds.
DEFAULT_SEARCH_SECONDS = 5.0
#: Length of the stretch whose loudness is measured, in seconds.
DEFAULT_WINDOW_SECONDS = 0.1
#: Shortest chunk limit accepted, in seconds.
MIN_CHUNK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    """One chunk: samples ``start`` (inclusive) to ``end`` (exclusive) of the audio.

    Times are derived from the sample indices, so adjacent chunks share their
    boundary time exactly.
    """

    start: int
    end: int
    sample_rate: int = 16000

    @property
    def start_time(self) -> float:
        """Start in seconds."""
        return self.start / self.sample_rate

    @property
    def end_time(self) -> float:
        """End in seconds."""
        return self.end / self.sample_rate

    @property
    def num_samples(self) -> int:
        return self.end - self.start


def _quietest_cut(samples: np.ndarray, lo: int, hi: int, window: int, target: int) -> int:
    """The middle of the quietest ``window``-sample stretch inside ``samples[lo:hi]``."""
    if hi - lo < window:
        return target
    level = np.concatenate(([0.0], np.cumsum(np.abs(samples[lo:hi]), dtype=np.float64)))
    offsets = np.arange(0, hi - lo - window + 1)
    energy = level[offsets + window] - level[offsets]
    starts = offsets + lo
    quietest = energy.min()
    # Exact float ties are common in digital silence; a relative tolerance also
    # treats stretches that differ only by rounding as equally quiet.
    candidates = starts[energy <= quietest + 1e-9 * max(1.0, abs(quietest))]
    middles = candidates + window // 2
    return int(middles[np.argmin(np.abs(middles - target))])


def plan_chunks(
    samples: np.ndarray,
    max_seconds: float = DEFAULT_CHUNK_SECONDS,
    *,
    sample_rate: int = 16000,
    search_seconds: float = DEFAULT_SEARCH_SECONDS,
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
) -> list[ChunkSpan]:
    """Where to cut ``samples`` so that no chunk is longer than ``max_seconds``.

    Args:
        samples: mono audio, shape ``(n,)``.
        max_seconds: longest chunk, in seconds (at least :data:`MIN_CHUNK_SECONDS`).
        sample_rate: samples per second of ``samples``.
        search_seconds: how far a cut may move from its balanced position to find
            a quiet stretch (capped at a quarter of ``max_seconds``).
        window_seconds: length of the stretch whose loudness is compared.

    Returns:
        The chunks in order; one chunk covering everything when the audio is short
        enough (an empty audio gives one empty chunk).

    Raises:
        ValueError: ``max_seconds`` is below :data:`MIN_CHUNK_SECONDS` or ``samples`` is not 1-D.
    """
    if samples.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n,), got {samples.shape}")
    if not max_seconds >= MIN_CHUNK_SECONDS:
        raise ValueError(f"chunk length {max_seconds} s is below the minimum {MIN_CHUNK_SECONDS} s")
    total = int(samples.shape[0])
    max_len = int(max_seconds * sample_rate)
    if total <= max_len:
        return [ChunkSpan(0, total, sample_rate)]
    window = max(1, int(round(window_seconds * sample_rate)))
    expand = min(int(round(search_seconds * sample_rate)), max_len // 4)

    spans: list[ChunkSpan] = []
    start = 0
    while total - start > max_len:
        remaining = total - start
        n_left = math.ceil(remaining / max_len)
        target = start + round(remaining / n_left)
        # Never cut so early that the rest would need one more chunk, nor so late
        # that this chunk would exceed the limit.
        lo = max(target - expand, total - (n_left - 1) * max_len, start + 1)
        hi = min(target + expand, start + max_len)
        cut = _quietest_cut(samples, lo, hi, window, target)
        spans.append(ChunkSpan(start, cut, sample_rate))
        start = cut
    spans.append(ChunkSpan(start, total, sample_rate))
    return spans
