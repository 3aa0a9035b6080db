"""Praat TextGrid, long (default) and short text form, read and written through praatio.

File format: https://www.fon.hum.uva.nl/praat/manual/TextGrid_file_formats.html

Writing (format ids ``textgrid``, and ``textgrid-short`` for the short form):

* Interval tiers, in this order: ``words`` (each unit's original text, with
  punctuation; named ``chars`` when every unit is one CJK ideograph, see
  :func:`qalign.formats.wordlist.unit_tier_name`), ``phones`` when the
  alignment has phones, ``segments`` when it has segments. An alignment
  without units (read from SRT, say) gets only its ``segments`` tier.
* Gaps become empty intervals; every tier spans 0 .. the audio duration.
* Times keep full float precision (``repr``), with three exceptions so that
  every interval is positive and every file reads back: a unit shorter than
  1 µs (the engine's ``[t, t]`` words) is widened to 1 ms into the free time
  after it, else before it, else by taking from its neighbours; a gap shorter
  than 1 µs is closed; a time under 0.1 ms is written as 0 (praatio would
  print it in exponent form, which its own long-form reader rejects).
  Overlapping segments (subtitle cues) are cut where the next one starts.

Reading: long or short form, any encoding :func:`qalign.formats.base.decode_text`
accepts. The word tier is ``tier=NAME``, else the first interval tier called
``words``, ``word``, ``token(s)``, ``chars``, ``ort`` (any case, also MFA's
``"speaker - words"``), else the first interval tier that is not a segment or
phone tier. Its non-empty intervals become units, except silence marks
(``<eps>``, ``sil``, ``sp``, ``<sil>``, ``[sil]``, ``#sil#``, any case).
Intervals overlapping by less than 1 µs (float noise Praat accepts) are
joined; larger overlaps raise. Segments come from a ``segments``, ``phrase(s)``,
``sentence(s)`` or ``utterance(s)`` tier, phones from ``phones``/``phone``.
Point tiers are skipped with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from qalign.alignment import Alignment, Phone
from qalign.formats.base import Format
from qalign.formats.registry import register
from qalign.formats.safetext import visible
from qalign.formats.wordlist import (
    Row,
    alignment_from_rows,
    join_small_overlaps,
    tier_role,
    unit_tier_name,
)

logger = logging.getLogger("qalign")

MIN_INTERVAL = 0.001
"""Seconds: the length a zero-length interval is widened to."""

_TINY = 1e-6  # seconds: intervals and gaps shorter than this count as zero
_SMALLEST_TIME = 1e-4  # below this repr() uses exponent notation

_SILENCE = frozenset({"", "<eps>", "sil", "sp", "<sil>", "[sil]", "#sil#"})


def positive_spans(
    spans: list[tuple[float, float]], duration: float | None = None
) -> list[tuple[float, float]]:
    """Float spans made safe for an interval tier, changing as little as possible.

    ``spans`` are in start order. Returns spans with ``start < end`` and
    ``end[i] <= start[i + 1]``; ends stay within ``duration`` when it leaves
    :data:`MIN_INTERVAL` per span. See the module docstring for the rule.
    """
    n = len(spans)
    start = [s if s >= _SMALLEST_TIME else 0.0 for s, _ in spans]
    end = [max(e if e >= _SMALLEST_TIME else 0.0, start[i]) for i, (_, e) in enumerate(spans)]
    limit = duration if duration is not None and duration >= n * MIN_INTERVAL else None
    # Overlap (subtitle cues, float noise): the earlier span ends where the later starts.
    for i in range(1, n):
        if start[i] < end[i - 1]:
            end[i - 1] = max(start[i], start[i - 1])
    # A zero-length span grows into free time after it, else before it.
    for i in range(n):
        if end[i] - start[i] >= _TINY:
            continue
        right = start[i + 1] if i + 1 < n else (limit if limit is not None else float("inf"))
        end[i] = max(end[i], min(start[i] + MIN_INTERVAL, right))
        if end[i] - start[i] < _TINY:
            left = end[i - 1] if i else 0.0
            start[i] = min(start[i], max(end[i] - MIN_INTERVAL, left))
    # Forward: no overlap, no tiny gap, a positive length (taking time from the next span).
    for i in range(n):
        if i and start[i] - end[i - 1] < _TINY:
            start[i] = end[i - 1]
        if end[i] - start[i] < _TINY:
            end[i] = start[i] + MIN_INTERVAL
    # Backward: respect the audio's end, taking time from earlier spans.
    if limit is not None:
        bound = limit
        for i in range(n - 1, -1, -1):
            end[i] = min(end[i], bound)
            if end[i] - start[i] < _TINY:
                start[i] = end[i] - MIN_INTERVAL
            bound = start[i]
        for i in range(1, n):  # squeezing may have left a tiny gap
            if start[i] - end[i - 1] < _TINY:
                start[i] = end[i - 1]
    return list(zip(start, end))


def _tier(name: str, rows: list[Row], xmax: float) -> dict[str, Any]:
    from praatio.data_classes.interval_tier import IntervalTier

    spans = positive_spans([(r.start, r.end) for r in rows], xmax)
    # praatio validates the tier (order, overlap, bounds) with the values in its message.
    tier = IntervalTier(name, [(s, e, visible(r.text)) for (s, e), r in zip(spans, rows)], 0.0, xmax)
    return {"class": tier.tierType, "name": name, "xmin": 0.0, "xmax": tier.maxTimestamp,
            "entries": tier.entries}


def _xmax(alignment: Alignment) -> float:
    """The grid's end: the duration, unless widening pushed a span past it."""
    ends = [
        e
        for group in (alignment.units, alignment.phones, alignment.segments)
        for _, e in positive_spans([(x.start, x.end) for x in group], alignment.duration)
    ]
    return max([alignment.duration, MIN_INTERVAL, *ends])


def dumps_textgrid(alignment: Alignment, *, short: bool = False) -> str:
    """Render ``alignment`` as a TextGrid (long text form unless ``short``)."""
    from praatio.utilities import textgrid_io

    xmax = _xmax(alignment)
    tiers = []
    if alignment.units:
        rows = [Row(u.text, u.start, u.end) for u in alignment.units]
        tiers.append(_tier(unit_tier_name(alignment), rows, xmax))
    if alignment.phones:
        tiers.append(_tier("phones", [Row(p.label, p.start, p.end) for p in alignment.phones], xmax))
    if alignment.segments or not alignment.units:
        tiers.append(_tier("segments", [Row(s.text, s.start, s.end) for s in alignment.segments], xmax))
    grid = {"xmin": 0.0, "xmax": xmax, "tiers": tiers}
    return textgrid_io.getTextgridAsStr(
        grid,
        "short_textgrid" if short else "long_textgrid",
        includeBlankSpaces=True,
        minimumIntervalLength=None,  # never let praatio drop a labelled interval
    )


def _parse(text: str) -> dict[str, Any]:
    from praatio.utilities import errors, textgrid_io

    head = text[:200]
    if "ooBinaryFile" in head:
        raise ValueError("binary TextGrid is not supported: save it as a text file in Praat")
    if "TextGrid" not in head:
        raise ValueError('not a TextGrid (no "TextGrid" object class in the header)')
    try:
        # praatio's short-form reader drops the last label when the file has no final newline.
        return textgrid_io.parseTextgridStr(text + "\n", includeEmptyIntervals=False)
    except (errors.PraatioException, ValueError, IndexError, KeyError, TypeError,
            AttributeError) as exc:
        raise ValueError(f"not a valid TextGrid: {exc or type(exc).__name__}") from None


def _rows(tier: dict[str, Any]) -> list[Row]:
    """The tier's labelled intervals, silence marks left out, float-noise overlaps joined."""
    rows = [
        Row(label, float(start), float(end))
        for start, end, label in tier["entries"]
        if label.strip().lower() not in _SILENCE
    ]
    return join_small_overlaps(rows, _TINY)


def loads_textgrid(text: str, *, tier: str | None = None) -> Alignment:
    """Parse a TextGrid; see the module docstring for how tiers are chosen.

    Raises:
        ValueError: not a TextGrid, an unknown or point ``tier``, or times that
            break the data model (overlapping, reversed, past the grid's end).
    """
    grid = _parse(text)
    intervals = []
    for t in grid["tiers"]:
        if t["class"] == "IntervalTier":
            intervals.append(t)
        elif t["name"] != tier:
            logger.warning("TextGrid point tier %r skipped: only interval tiers are read", t["name"])
    if tier is not None:
        chosen = [t for t in grid["tiers"] if t["name"] == tier]
        if not chosen:
            names = ", ".join(repr(t["name"]) for t in grid["tiers"])
            raise ValueError(f"no tier named {tier!r} (tiers: {names})")
        if chosen[0]["class"] != "IntervalTier":
            raise ValueError(f"tier {tier!r} is a point tier; choose an interval tier")
        words = chosen[0]
    else:
        words = next((t for t in intervals if tier_role(t["name"]) == "words"), None)
        if words is None:
            words = next((t for t in intervals if not tier_role(t["name"])), None)
    rest = [t for t in intervals if t is not words]
    segs = next((t for t in rest if tier_role(t["name"]) == "segments"), None)
    phones = next((t for t in rest if tier_role(t["name"]) == "phones"), None)
    alignment = alignment_from_rows(
        _rows(words) if words else [],
        duration=float(grid["xmax"]),
        segments=_rows(segs) if segs else [],
    )
    if phones:
        phone_list = [Phone(r.text, r.start, r.end) for r in _rows(phones)]
        alignment = replace(alignment, phones=tuple(phone_list))
    return alignment


@register
class TextGridFormat(Format):
    name = "textgrid"
    extensions = (".textgrid",)
    description = "Praat TextGrid (long form; short=True for the short form): words, phones, segments"

    def dumps(self, alignment: Alignment, *, short: bool = False, **_: Any) -> str:
        return dumps_textgrid(alignment, short=short)

    def loads(self, text: str, *, tier: str | None = None, **_: Any) -> Alignment:
        return loads_textgrid(text, tier=tier)


@register
class ShortTextGridFormat(Format):
    name = "textgrid-short"
    description = "Praat TextGrid, short text form"

    def dumps(self, alignment: Alignment, **_: Any) -> str:
        return dumps_textgrid(alignment, short=True)

    def loads(self, text: str, *, tier: str | None = None, **_: Any) -> Alignment:
        return loads_textgrid(text, tier=tier)
