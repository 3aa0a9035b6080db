"""Praat TextGrid, long (default) and short text form, read as Praat reads it
(:mod:`qalign.formats.praat_text`) and written as Praat writes it, in chunks.

File format: https://www.fon.hum.uva.nl/praat/manual/TextGrid_file_formats.html

Writing (format ids ``textgrid``, and ``textgrid-short`` for the short form):

* Interval tiers, in this order: ``words`` (each unit's original text, with
  punctuation; named ``chars`` when every unit is one CJK ideograph, see
  :func:`qalign.formats.wordlist.unit_tier_name`), ``status`` when some unit is
  not confidently aligned (an interval labelled ``uncertain`` or ``unaligned``
  over each such word; unaligned words stay in the word tier at their
  interpolated times, which lie in the gap between their aligned neighbours, so
  aligned intervals are never moved or shortened), ``phones`` when the
  alignment has phones, ``segments`` when it has segments. An alignment
  without units (read from SRT, say) gets only its ``segments`` tier.
* Gaps become empty intervals; every tier spans 0 .. the audio duration.
* Times keep full float precision (``repr``), with three exceptions so that
  every interval is positive and every file reads back: a unit shorter than
  1 µs (the engine's ``[t, t]`` words) is widened to 1 ms into the free time
  after it, else before it, else by taking from its neighbours; a gap shorter
  than 1 µs is closed; a time under 0.1 ms is written as 0 (``repr`` would
  print it in exponent form, which some readers, praatio among them, reject).
* Labels are quoted with ``"`` doubled, as Praat does; control characters are
  made visible (:func:`qalign.formats.safetext.visible`).
  Overlapping segments (subtitle cues) are cut where the next one starts.

Reading: long or short form, any encoding :func:`qalign.formats.base.decode_text`
accepts. The word tier is ``tier=NAME``, else the first interval tier called
``words``, ``word``, ``token(s)``, ``chars``, ``ort`` (any case, also MFA's
``"speaker - words"``), else the first interval tier that is not a segment or
phone tier. Its non-empty intervals become units, except silence marks
(``<eps>``, ``sil``, ``sp``, ``<sil>``, ``[sil]``, ``#sil#``, any case).
Intervals overlapping by less than 1 µs (float noise Praat accepts) are
joined; larger overlaps raise. Segments come from a ``segments``, ``phrase(s)``,
``sentence(s)`` or ``utterance(s)`` tier, phones from ``phones``/``phone``; with a
speaker's word tier (``"anna - words"``) only that speaker's tiers (``"anna - phones"``)
or tiers of no speaker are read, never another speaker's. Point tiers are skipped with a warning. Any text inside a label (``item [2]:``,
``"IntervalTier"``) reads back as the label. Errors name the line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from qalign.alignment import Alignment, Phone
from qalign.formats.base import Format
from qalign.formats.praat_text import Tier, parse_textgrid
from qalign.formats.registry import register
from qalign.formats.safetext import visible
from qalign.formats.wordlist import (
    STATUS_TIER,
    Row,
    alignment_from_rows,
    in_chunks,
    join_small_overlaps,
    status_rows,
    tier_role,
    unit_tier_name,
    with_statuses,
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
    start, end = positive_bounds([s for s, _ in spans], [e for _, e in spans], duration)
    return list(zip(start, end))


def positive_bounds(
    starts: list[float], ends: list[float], duration: float | None = None
) -> tuple[list[float], list[float]]:
    """:func:`positive_spans` on two lists (starts, ends), changed in place and returned:
    no tuple per span, for long tiers."""
    n = len(starts)
    start = starts
    for i in range(n):
        if start[i] < _SMALLEST_TIME:
            start[i] = 0.0
    end = ends
    for i in range(n):
        e = end[i] if end[i] >= _SMALLEST_TIME else 0.0
        end[i] = e if e >= start[i] else start[i]
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
    return start, end


def _number(x: float) -> str:
    """A time as Praat files show it: a whole number without decimals, else ``repr``."""
    whole = int(x)
    if abs(x - whole) <= 1e-14 * max(abs(x), abs(whole)):
        return str(whole)
    return repr(float(x))  # a numpy float64 would print as np.float64(...)


def _quoted(text: str) -> str:
    return '"' + visible(text).replace('"', '""') + '"'


_Tier = tuple[str, list[float], list[float], list[str]]  # name, starts, ends, labels


def _filled(tier: _Tier, xmax: float) -> Iterator[tuple[float, float, str]]:
    """The tier's intervals from 0 to ``xmax``: labelled spans with empty ones in the gaps."""
    _name, starts, ends, labels = tier
    previous = 0.0
    for start, end, label in zip(starts, ends, labels):
        if previous < start:
            yield previous, start, ""
        yield start, end, label
        previous = end
    if previous < xmax or not starts:
        yield previous, xmax, ""


def _tier_lines(tier: _Tier, xmax: float, index: int, short: bool) -> Iterator[str]:
    name = tier[0]
    size = sum(1 for _ in _filled(tier, xmax))
    if short:
        yield from ('"IntervalTier"', _quoted(name), "0", _number(xmax), str(size))
        for start, end, label in _filled(tier, xmax):
            yield _number(start)
            yield _number(end)
            yield _quoted(label)
        return
    tab = "    "
    yield f"{tab}item [{index}]:"
    yield f'{tab * 2}class = "IntervalTier" '
    yield f"{tab * 2}name = {_quoted(name)} "
    yield f"{tab * 2}xmin = 0 "
    yield f"{tab * 2}xmax = {_number(xmax)} "
    yield f"{tab * 2}intervals: size = {size} "
    for i, (start, end, label) in enumerate(_filled(tier, xmax), 1):
        yield f"{tab * 2}intervals [{i}]:"
        yield f"{tab * 3}xmin = {_number(start)} "
        yield f"{tab * 3}xmax = {_number(end)} "
        yield f"{tab * 3}text = {_quoted(label)} "


def _tiers(alignment: Alignment) -> list[_Tier]:
    tiers = []
    if alignment.units:
        units = alignment.units
        tiers.append(
            (
                unit_tier_name(alignment),
                [u.start for u in units],
                [u.end for u in units],
                [u.text for u in units],
            )
        )
    if alignment.phones:
        phones = alignment.phones
        tiers.append(
            (
                "phones",
                [p.start for p in phones],
                [p.end for p in phones],
                [p.label for p in phones],
            )
        )
    if alignment.segments or not alignment.units:
        segs = alignment.segments
        tiers.append(
            ("segments", [x.start for x in segs], [x.end for x in segs], [x.text for x in segs])
        )
    for _name, starts, ends, _labels in tiers:
        positive_bounds(starts, ends, alignment.duration)
    if status_rows(alignment):
        # Units not confidently aligned, at exactly their word intervals: the word tier
        # keeps every unit (unaligned ones at their interpolated times, inside the gap
        # their aligned neighbours leave, so aligned intervals never move).
        _name, starts, ends, _labels = tiers[0]
        marked = [i for i, u in enumerate(alignment.units) if u.status != "aligned"]
        tiers.insert(
            1,
            (
                STATUS_TIER,
                [starts[i] for i in marked],
                [ends[i] for i in marked],
                [alignment.units[i].status for i in marked],
            ),
        )
    return tiers


def iter_textgrid(alignment: Alignment, *, short: bool = False) -> Iterator[str]:
    """:func:`dumps_textgrid` in chunks of lines."""
    tiers = _tiers(alignment)
    # The grid's end: the duration, unless widening pushed a span past it.
    xmax = max([alignment.duration, MIN_INTERVAL, *(ends[-1] for _, _, ends, _ in tiers if ends)])

    def lines() -> Iterator[str]:
        yield 'File type = "ooTextFile"'
        yield 'Object class = "TextGrid"'
        yield ""
        if short:
            yield from ("0", _number(xmax), "<exists>", str(len(tiers)))
        else:
            yield from (
                "xmin = 0 ",
                f"xmax = {_number(xmax)} ",
                "tiers? <exists> ",
                f"size = {len(tiers)} ",
                "item []: ",
            )
        for index, tier in enumerate(tiers, 1):
            yield from _tier_lines(tier, xmax, index, short)

    return in_chunks(lines())


def dumps_textgrid(alignment: Alignment, *, short: bool = False) -> str:
    """Render ``alignment`` as a TextGrid (long text form unless ``short``)."""
    return "".join(iter_textgrid(alignment, short=short))


def _rows(tier: Tier) -> list[Row]:
    """The tier's labelled intervals (silence marks left out and the order checked by
    :func:`qalign.formats.praat_text.parse_textgrid`), float-noise overlaps joined."""
    return join_small_overlaps(tier.items, _TINY)


def _silence(label: str) -> bool:
    return label.strip().lower() in _SILENCE


def loads_textgrid(text: str, *, tier: str | None = None) -> Alignment:
    """Parse a TextGrid; see the module docstring for how tiers are chosen.

    Raises:
        ValueError: not a TextGrid, an unknown or point ``tier``, or times that
            break the data model (overlapping, reversed, past the grid's end); the
            message names the line.
    """
    grid = parse_textgrid(text, skip=_silence)
    xmax = max(grid.xmax, 0.0)
    intervals = []
    for t in grid.tiers:
        if t.kind == "IntervalTier":
            intervals.append(t)
        elif t.name != tier:
            logger.warning("TextGrid point tier %r skipped: only interval tiers are read", t.name)
    if tier is not None:
        chosen = [t for t in grid.tiers if t.name == tier]
        if not chosen:
            names = ", ".join(repr(t.name) for t in grid.tiers)
            raise ValueError(f"no tier named {tier!r} (tiers: {names})")
        if chosen[0].kind != "IntervalTier":
            raise ValueError(f"tier {tier!r} is a point tier; choose an interval tier")
        words = chosen[0]
    else:
        words = next((t for t in intervals if tier_role(t.name) == "words"), None)
        if words is None:
            words = next((t for t in intervals if not tier_role(t.name)), None)
    rest = [t for t in intervals if t is not words]
    if words is not None and " - " in words.name:
        # A speaker's words ("anna - words"): that speaker's tiers, or tiers of no speaker.
        speaker = words.name.rsplit(" - ", 1)[0] + " - "
        rest = [t for t in rest if " - " not in t.name or t.name.startswith(speaker)]
    segs = next((t for t in rest if tier_role(t.name) == "segments"), None)
    phones = next((t for t in rest if tier_role(t.name) == "phones"), None)
    alignment = alignment_from_rows(
        _rows(words) if words else [],
        duration=xmax,
        segments=_rows(segs) if segs else [],
    )
    if phones:
        phone_list = [Phone(r.text, r.start, r.end) for r in _rows(phones)]
        alignment = replace(alignment, phones=tuple(phone_list))
    status = next((t for t in rest if tier_role(t.name) == "status"), None)
    if status:
        alignment = with_statuses(alignment, _rows(status))
    return alignment


@register
class TextGridFormat(Format):
    name = "textgrid"
    extensions = (".textgrid",)
    description = (
        "Praat TextGrid (long form; short=True for the short form): words, phones, segments"
    )

    def dumps(self, alignment: Alignment, *, short: bool = False, **_: Any) -> str:
        return dumps_textgrid(alignment, short=short)

    def iter_dumps(self, alignment: Alignment, *, short: bool = False, **_: Any) -> Iterator[str]:
        return iter_textgrid(alignment, short=short)

    def loads(self, text: str, *, tier: str | None = None, **_: Any) -> Alignment:
        return loads_textgrid(text, tier=tier)


@register
class ShortTextGridFormat(Format):
    name = "textgrid-short"
    description = "Praat TextGrid, short text form"

    def dumps(self, alignment: Alignment, **_: Any) -> str:
        return dumps_textgrid(alignment, short=True)

    def iter_dumps(self, alignment: Alignment, **_: Any) -> Iterator[str]:
        return iter_textgrid(alignment, short=True)

    def loads(self, text: str, *, tier: str | None = None, **_: Any) -> Alignment:
        return loads_textgrid(text, tier=tier)
