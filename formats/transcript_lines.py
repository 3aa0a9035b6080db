"""Transcript lines as segments, for ``--cues lines`` (lyrics, scripts, poems).

Each non-blank line of the transcript becomes one segment over the units that
start inside it; its text is the line without surrounding whitespace, its times
run from its first to its last placed unit (``aligned`` or ``uncertain``;
a line with no placed unit keeps the span of its interpolated units). A blank
line ends a stanza: an empty segment without units marks the end, so that the
display clears there (LRC) and the cue before it is not chained to the next.
"""

from __future__ import annotations

import dataclasses
import logging

from qalign.alignment import Alignment, Segment, Unit

logger = logging.getLogger("qalign")


def placed_span(units: tuple[Unit, ...] | list[Unit]) -> tuple[float, float] | None:
    """``(start, end)`` of the first and last unit that is not ``unaligned``; ``None`` if none is."""
    placed = [u for u in units if u.status != "unaligned"]
    if not placed:
        return None
    return placed[0].start, placed[-1].end


def line_segments(alignment: Alignment, transcript: str) -> Alignment:
    """``alignment`` with one segment per non-blank transcript line (module docstring).

    Units without character offsets leave the alignment as it is (logged).
    """
    units = alignment.units
    if not units or any(u.char_start is None for u in units):
        logger.warning("--cues lines needs character offsets; keeping the sentence segments")
        return alignment
    segments: list[Segment] = []
    pos = 0
    k = 0
    blank_run = False
    for line in transcript.split("\n"):
        hi = pos + len(line)
        pos = hi + 1
        if not line.strip():
            blank_run = bool(segments)
            continue
        first = k
        while k < len(units) and units[k].char_start is not None and units[k].char_start < hi:
            k += 1
        if blank_run and segments and segments[-1].text:
            end = segments[-1].end
            segments.append(Segment("", end, end, first, first))
        blank_run = False
        mine = units[first:k]
        if not mine:
            continue  # a line with nothing to align (punctuation only)
        span = placed_span(mine) or (mine[0].start, mine[-1].end)
        segments.append(Segment(line.strip(), span[0], span[1], first, k))
    if k < len(units):  # offsets past the text given: keep the rest as one segment
        rest = units[k:]
        span = placed_span(rest) or (rest[0].start, rest[-1].end)
        segments.append(Segment(" ".join(u.text for u in rest), span[0], span[1], k, len(units)))
    return dataclasses.replace(alignment, segments=tuple(_in_order(segments)))


def _in_order(segments: list[Segment]) -> list[Segment]:
    """Starts never decrease (a line of unplaced units may sit before a placed one)."""
    out: list[Segment] = []
    for seg in segments:
        if out and seg.start < out[-1].start:
            seg = dataclasses.replace(seg, start=out[-1].start, end=max(seg.end, out[-1].start))
        out.append(seg)
    return out
