"""Subtitle cues built from an alignment, shared by the SRT, WebVTT, ASS and LRC writers.

A cue is what a subtitle shows at once: one to ``max_lines`` lines of text over
a span of float seconds. The rules are the fields of
:class:`~qalign.formats.cue_options.CueOptions` (presets ``netflix``, the
default, ``bbc``, ``cjk`` and ``karaoke``); how lines and cues are cut is in
:mod:`qalign.formats.line_breaking`, when they show in
:mod:`qalign.formats.cue_timing`.

Two modes (``CueOptions.cues``):

* ``auto``: :func:`build_cues` groups the units (their transcript text,
  punctuation included) into cues a subtitler would accept. Cues never straddle
  two segments (sentences) and never overlap, and a run of ``unaligned`` units
  (text the engine could not place) never shares a cue with placed units, so no
  cue stretches over it. Units join with a space when the transcript had one
  between them (``char_start``/``char_end``), else with none around CJK
  characters.
* ``lines``: one cue per segment, with the segment's own text and line breaks
  and the segment's times (a transcript line, a stanza line, or a cue of a
  re-timed subtitle file). Segments with blank text give no cue.

An alignment without units (say, one read from a subtitle file) gives one cue
per segment with its text and times, except that an end running into the next
segment is clipped to that segment's start.

Writers call :func:`timed_cues`, which rounds cue times to integer ticks with
:func:`qalign.formats.timing.nonzero_spans`: no written cue is zero-length, and a
gap the rules leave is never shorter than ``min_gap`` once rounded (a tick longer
instead).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qalign.alignment import Alignment, Segment, Source, Unit
from qalign.errors import ValidationError
from qalign.formats.cue_options import PRESETS, CueOptions
from qalign.formats.cue_timing import hold
from qalign.formats.line_breaking import default_width, split_block, text_width
from qalign.formats.timing import nonzero_spans

__all__ = [
    "PRESETS",
    "Cue",
    "CueOptions",
    "alignment_from_cues",
    "build_cues",
    "text_width",
    "timed_cues",
]


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle: ``text`` (lines joined by ``"\\n"``) shown from ``start`` to ``end`` seconds.

    ``units`` are the units shown, each preceded by ``seps[i]`` so that
    ``text == "".join(seps[i] + units[i].text) + tail``. Cues built from words have
    separators ``""``, ``" "`` or ``"\\n"`` and no tail; a cue kept from a segment
    (``lines`` mode) may also carry text that is no unit (a dash, a note sign) in
    its separators and tail. A cue made from a segment without units has no units.
    ``segment`` is the index of the segment a ``lines`` cue comes from; ``stanza_end``
    marks the last line of a stanza (an empty segment without units follows it).
    """

    start: float
    end: float
    text: str
    units: tuple[Unit, ...] = ()
    seps: tuple[str, ...] = ()
    tail: str = ""
    segment: int | None = None
    stanza_end: bool = False

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def build_cues(alignment: Alignment, options: CueOptions | None = None) -> list[Cue]:
    """Cues for ``alignment``, in time order, never overlapping (see the module docstring)."""
    opts = options or CueOptions()
    if opts.cues == "lines" and alignment.segments:
        cues = _line_cues(alignment)
    elif not alignment.units:
        return _segment_cues(alignment.segments)
    else:
        max_chars = opts.max_chars or default_width(alignment.units)
        cues = []
        for lo, hi in _blocks(alignment):
            block = [u for u in alignment.units[lo:hi] if u.text.strip()]
            for i, j, seps in split_block(block, opts, max_chars) if block else ():
                units = tuple(block[i:j])
                text = "".join(s + u.text for s, u in zip(seps, units))
                cues.append(Cue(units[0].start, units[-1].end, text, units, tuple(seps)))
    spans = [(c.start, c.end) for c in cues]
    sizes = [(len(c.text.replace("\n", "")), max(1, len(c.text.split()))) for c in cues]
    return hold(
        cues,
        spans,
        sizes,
        opts,
        alignment.duration,
        lambda cue, end: dataclasses.replace(cue, end=end),
        [c.stanza_end for c in cues],
    )


def timed_cues(alignment: Alignment, tick: float, **options: Any) -> list[tuple[int, int, Cue]]:
    """Cues with times in whole ticks of ``tick`` seconds (rounded half up), never
    zero-length or overlapping; ``options`` are :class:`CueOptions` fields and
    ``preset`` (other keys are ignored)."""
    opts = CueOptions.from_options(options)
    cues = build_cues(alignment, opts)
    spans = nonzero_spans([(c.start, c.end) for c in cues], tick, alignment.duration)
    return [(s, e, c) for (s, e), c in zip(_whole_gaps(spans, cues, opts, tick), cues)]


def _whole_gaps(
    spans: list[tuple[int, int]], cues: Sequence[Cue], opts: CueOptions, tick: float
) -> list[tuple[int, int]]:
    """Widen each gap the cue rules left (``min_gap`` seconds or more) that rounding to
    ticks made shorter than ``min_gap``, by ending the earlier cue a tick sooner:
    two frames at 24 fps (83.3 ms) are written as 84 ms or 9 cs, never 83 ms or 8 cs."""
    need = math.ceil(opts.min_gap / tick - 1e-9)
    out = list(spans)
    for k in range(len(out) - 1):
        (start, end), nxt = out[k], out[k + 1][0]
        intended = cues[k + 1].start - cues[k].end >= opts.min_gap - 1e-9
        if intended and 0 <= nxt - end < need and nxt - need > start:
            out[k] = (start, nxt - need)
    return out


def _segment_cues(segments: Sequence[Segment]) -> list[Cue]:
    kept = [s for s in segments if s.text.strip()]
    cues = []
    for i, seg in enumerate(kept):
        end = seg.end
        if i + 1 < len(kept) and end > kept[i + 1].start:
            end = max(seg.start, kept[i + 1].start)
        cues.append(Cue(seg.start, end, seg.text))
    return cues


def _line_cues(alignment: Alignment) -> list[Cue]:
    """One cue per non-blank segment, keeping its text; ends clipped to the next start.
    An empty segment without units after a cue marks it as a stanza's end."""
    cues: list[Cue] = []
    segments = alignment.segments
    kept = [k for k, s in enumerate(segments) if s.text.strip()]
    for n, k in enumerate(kept):
        seg = segments[k]
        units = alignment.units[seg.unit_start : seg.unit_end]
        seps, tail = _separators(seg.text, units)
        end = seg.end
        if n + 1 < len(kept):
            end = max(seg.start, min(end, segments[kept[n + 1]].start))
        stanza_end = any(
            not s.text and s.unit_start == s.unit_end
            for s in segments[k + 1 : kept[n + 1] if n + 1 < len(kept) else len(segments)]
        )
        if seps is None:  # the units are not in the text: show the text, no word times
            cues.append(Cue(seg.start, end, seg.text, segment=k, stanza_end=stanza_end))
        else:
            cues.append(
                Cue(seg.start, end, seg.text, tuple(units), tuple(seps), tail, k, stanza_end)
            )
    return cues


def _separators(text: str, units: Sequence[Unit]) -> tuple[list[str] | None, str]:
    """The text before each unit inside ``text`` (``None`` when a unit is not found in
    order) and the text after the last unit."""
    seps = []
    pos = 0
    for unit in units:
        at = text.find(unit.text, pos)
        if at < 0 or not unit.text:
            return None, ""
        seps.append(text[pos:at])
        pos = at + len(unit.text)
    return seps, text[pos:]


def _blocks(alignment: Alignment) -> list[tuple[int, int]]:
    """Unit ranges no cue may straddle: each segment's, and the runs between them, cut
    again where units change between unaligned and placed."""
    ranges = sorted(
        (s.unit_start, s.unit_end) for s in alignment.segments if s.unit_end > s.unit_start
    )
    blocks: list[tuple[int, int]] = []
    pos = 0
    for lo, hi in ranges:
        lo = max(lo, pos)
        if hi <= lo:
            continue
        if lo > pos:
            blocks.append((pos, lo))
        blocks.append((lo, hi))
        pos = hi
    if pos < len(alignment.units):
        blocks.append((pos, len(alignment.units)))
    units = alignment.units
    out = []
    for lo, hi in blocks:
        start = lo
        for k in range(lo + 1, hi):
            if (units[k].status == "unaligned") != (units[k - 1].status == "unaligned"):
                out.append((start, k))
                start = k
        out.append((start, hi))
    return out


# -- reading -------------------------------------------------------------------------


def alignment_from_cues(cues: Iterable[tuple[float, float, str]], engine: str) -> Alignment:
    """An alignment whose segments are subtitle cues read from a file; no units.

    Cues with blank text are dropped. Cues are sorted by start time (stable); a cue
    starting at the same time as the one before merges into it (texts joined by a
    line break, the later end kept); a cue starting before the previous one ends
    clips that one's end to its start. ``duration`` is the last end.

    Raises:
        ValidationError: a cue ends before it starts.
    """
    kept = []
    for start, end, text in cues:
        if end < start:
            raise ValidationError(f"cue {text!r} ends at {end} s, before its start {start} s")
        if text.strip():
            kept.append((start, end, text))
    kept.sort(key=lambda c: c[0])
    merged: list[list[Any]] = []
    for start, end, text in kept:
        if merged and start == merged[-1][0]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] += "\n" + text
            continue
        if merged and start < merged[-1][1]:
            merged[-1][1] = start
        merged.append([start, end, text])
    segments = tuple(Segment(text, start, end) for start, end, text in merged)
    duration = max((s.end for s in segments), default=0.0)
    return Alignment(units=(), segments=segments, duration=duration, source=Source(engine))
