"""Where to cut an alignment into clips: at word boundaries, never inside a word and
never across text the engine could not place.

:func:`plan_clips` is pure: it looks only at the alignment's times and statuses.

* **Runs.** Units with status ``unaligned`` (and units inside an ``unaligned``
  stretch) are never part of a clip; they split the units into runs of placed words
  (``aligned`` or ``uncertain``). A stretch of audio no text was assigned to
  (an ``unaligned`` stretch with no units) also ends a run when it lies between
  two words.
* **By segment** (``mode="segment"``): each segment (sentence) of the alignment,
  cut further at run breaks; an alignment without segments gives one clip per run.
  Pieces longer than ``max_duration`` are packed as below.
* **Packed** (``mode="pack"``): each run is cut into clips between ``min_duration`` and
  ``max_duration`` seconds (padding included). A clip ends at the latest word boundary
  followed by a pause of at least :data:`PAUSE` seconds, else at the widest gap. A
  word that can start no clip within the limits (longer than ``max_duration``, or too
  short with what follows) and the end of a run shorter than ``min_duration`` are left
  out (counted in :attr:`ClipPlan.dropped_words`).
* **Padding.** ``pad`` seconds of audio are added at both ends, but never past the
  previous or next word, an unaligned stretch, or the audio's ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from qalign.alignment import Alignment

PAUSE = 0.25
"""Seconds of silence between two words that make a good place to cut."""


@dataclass(frozen=True)
class Clip:
    """A clip of the source audio: ``start``..``end`` seconds (padding included), holding
    ``units[unit_start:unit_end]``."""

    start: float
    end: float
    unit_start: int
    unit_end: int

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class ClipPlan:
    clips: tuple[Clip, ...]
    dropped_words: int


def _runs(alignment: Alignment) -> list[tuple[int, int]]:
    units = alignment.units
    blocked = [u.status == "unaligned" for u in units]
    barriers: list[tuple[float, float]] = []
    for st in alignment.stretches:
        if st.status != "unaligned":
            continue
        if st.unit_end > st.unit_start:
            for k in range(st.unit_start, min(st.unit_end, len(units))):
                blocked[k] = True
        else:
            barriers.append((st.start, st.end))
    runs: list[tuple[int, int]] = []
    start = None
    for k, unit in enumerate(units):
        if blocked[k]:
            if start is not None:
                runs.append((start, k))
            start = None
            continue
        if start is not None:
            gap_lo, gap_hi = units[k - 1].end, unit.start
            if any(lo < gap_hi and hi > gap_lo for lo, hi in barriers):
                runs.append((start, k))
                start = None
        if start is None:
            start = k
    if start is not None:
        runs.append((start, len(units)))
    return runs


def _limits(alignment: Alignment, first: int, last: int) -> tuple[float, float]:
    """How far padding may reach around ``units[first:last]``."""
    units = alignment.units
    left = units[first - 1].end if first > 0 else 0.0
    right = units[last].start if last < len(units) else alignment.duration
    lo, hi = units[first].start, units[last - 1].end
    for st in alignment.stretches:
        if st.status == "unaligned" and st.unit_end == st.unit_start:
            if st.end <= lo:
                left = max(left, st.end)
            elif st.start >= hi:
                right = min(right, st.start)
    return left, max(right, hi)


def _clip(alignment: Alignment, first: int, last: int, pad: float) -> Clip:
    left, right = _limits(alignment, first, last)
    start = max(alignment.units[first].start - pad, left, 0.0)
    end = min(alignment.units[last - 1].end + pad, right, alignment.duration)
    return Clip(start, end, first, last)


def _pack(
    alignment: Alignment, first: int, last: int, lo: float, hi: float, pad: float
) -> tuple[list[Clip], int]:
    units = alignment.units
    clips: list[Clip] = []
    dropped = 0
    i = first
    while i < last:
        paused = None
        widest = None
        widest_gap = -1.0
        k = i + 1
        while k <= last and units[k - 1].end - units[i].start + 2 * pad <= hi + 1e-9:
            if units[k - 1].end - units[i].start + 2 * pad >= lo - 1e-9:
                gap = units[k].start - units[k - 1].end if k < last else float("inf")
                if gap >= PAUSE:
                    paused = k
                if gap >= widest_gap:
                    widest, widest_gap = k, gap
            k += 1
        cut = paused or widest
        if cut is None:
            if k > last:  # what is left of the run is shorter than the minimum
                dropped += last - i
                break
            # no clip can start here: this word is too long, or too short with the next
            dropped += 1
            i += 1
            continue
        clips.append(_clip(alignment, i, cut, pad))
        i = cut
    return clips, dropped


def plan_clips(
    alignment: Alignment,
    mode: str = "segment",
    *,
    min_duration: float = 0.0,
    max_duration: float = float("inf"),
    pad: float = 0.0,
) -> ClipPlan:
    """The clips of ``alignment``; see the module docstring.

    Raises:
        ValueError: unknown mode, or ``min_duration > max_duration``, or negative values.
    """
    if mode not in ("segment", "pack"):
        raise ValueError(f"unknown split mode {mode!r}; choose segment or pack")
    if min_duration < 0 or pad < 0 or min_duration > max_duration:
        raise ValueError(
            f"durations must satisfy 0 <= min ({min_duration}) <= max ({max_duration}), pad >= 0"
        )
    runs = _runs(alignment)
    pieces: list[tuple[int, int]] = []
    if mode == "segment" and alignment.segments:
        for seg in alignment.segments:
            for a, b in runs:
                lo, hi = max(a, seg.unit_start), min(b, seg.unit_end)
                if lo < hi:
                    pieces.append((lo, hi))
    else:
        pieces = runs
    clips: list[Clip] = []
    dropped = 0
    for a, b in pieces:
        if mode == "segment":
            whole = _clip(alignment, a, b, pad)
            if whole.duration <= max_duration + 1e-9:
                if whole.duration >= min_duration - 1e-9:
                    clips.append(whole)
                else:
                    dropped += b - a
                continue
        packed, lost = _pack(alignment, a, b, min_duration, max_duration, pad)
        clips.extend(packed)
        dropped += lost
    return ClipPlan(tuple(clips), dropped)
