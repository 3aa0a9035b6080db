"""What the word-level formats (TextGrid, CTM, TSV, Audacity, EAF) share.

* :func:`rows_of` picks what a flat list of timed labels holds: the units, or
  the segments when an alignment has no units (one read from SRT, say), or
  the phones when it has neither (a phone-only TextGrid).
* :func:`alignment_from_rows` turns timed labels read back from a file into an
  :class:`~qalign.alignment.Alignment`, with :func:`norm_of` as the unit's
  normalised form.
* :func:`tier_role` tells a word, segment or phone tier of a file by its name.
* :func:`unit_tier_name` names the tier of units: ``chars`` when every unit is
  one CJK ideograph (Chinese and Cantonese are aligned per character),
  ``words`` otherwise.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import NamedTuple

from qalign.alignment import Alignment, Segment, Unit
from qalign.formats.safetext import visible


class Row(NamedTuple):
    """One timed label, times in float seconds; ``score`` in [0, 1] or ``None``."""

    text: str
    start: float
    end: float
    score: float | None = None


def rows_of(alignment: Alignment) -> list[Row]:
    """The units of ``alignment`` as rows; without units its segments, else its phones."""
    if alignment.units:
        return [Row(u.text, u.start, u.end, u.score) for u in alignment.units]
    if alignment.segments:
        return [Row(s.text, s.start, s.end) for s in alignment.segments]
    return [Row(p.label, p.start, p.end, p.score) for p in alignment.phones]


def _keep(ch: str) -> bool:
    return ch == "'" or unicodedata.category(ch)[0] in "LN"


def norm_of(text: str) -> str:
    """The normalised form of a label: its letters, digits and apostrophes, lower-cased.

    Whitespace inside a label (an utterance tier read as words) stays as one
    space between the cleaned words, so words are not glued together.
    """
    words = ("".join(ch for ch in word if _keep(ch)) for word in text.split())
    norm = " ".join(w for w in words if w).lower()
    return text if norm == text else norm  # one string, not two equal ones


_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n|$)")


def numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for each line of ``text`` (``\\n``, ``\\r\\n`` or ``\\r``
    ending), produced one at a time: no list of every line is built."""
    number = 0
    end = len(text)
    for match in _LINE.finditer(text):
        if match.start() == end and number:  # the empty match after the last line ending
            break
        number += 1
        yield number, match.group(1)


def _is_cjk_ideograph(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH") or (
        "\uf900" <= ch <= "\ufaff"  # compatibility ideographs
    )


def unit_tier_name(alignment: Alignment) -> str:
    """``"chars"`` when every unit is a single CJK ideograph, else ``"words"``."""
    units = alignment.units
    if units and all(len(u.norm) == 1 and _is_cjk_ideograph(u.norm) for u in units):
        return "chars"
    return "words"


WORD_TIERS = ("words", "word", "token", "tokens", "chars", "char", "ort")
SEGMENT_TIERS = (
    "segments",
    "segment",
    "phrase",
    "phrases",
    "sentence",
    "sentences",
    "utterance",
    "utterances",
)
PHONE_TIERS = ("phones", "phone")
#: The tier (TextGrid, EAF) that marks units not confidently aligned; absent when all are.
STATUS_TIER = "status"


def tier_role(name: str) -> str:
    """``"words"``, ``"segments"``, ``"phones"``, ``"status"`` or ``""``: what a tier's name says it holds.

    Case is ignored, and so is MFA's ``"speaker - "`` prefix (``"anna - words"``).
    """
    key = name.rsplit(" - ", 1)[-1].strip().lower()
    if key == STATUS_TIER:
        return "status"
    for role, names in (
        ("words", WORD_TIERS),
        ("segments", SEGMENT_TIERS),
        ("phones", PHONE_TIERS),
    ):
        if key in names:
            return role
    return ""


def in_chunks(lines: Iterable[str], size: int = 4000) -> Iterator[str]:
    """Lines (each without its newline) joined into chunks of ``size`` lines, each line
    ending in a newline: how the word-list writers stream a long file."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield "\n".join(batch) + "\n"
            batch = []
    if batch:
        yield "\n".join(batch) + "\n"


_SPACE = re.compile(r"\s+")


def one_line(text: str, space: str = " ") -> str:
    """``text`` with every run of whitespace (tabs, newlines) replaced by ``space``, stripped,
    and other control characters made visible (:func:`qalign.formats.safetext.visible`)."""
    return visible(_SPACE.sub(space, text.strip()))


def join_small_overlaps(rows: Iterable[Row], tolerance: float) -> list[Row]:
    """``rows`` where a row starting at most ``tolerance`` seconds before the previous
    row's end is made to start at that end (rounding noise of the file's times)."""
    out: list[Row] = []
    for row in rows:
        if out and out[-1].end - tolerance <= row.start < out[-1].end:
            row = row._replace(start=out[-1].end, end=max(row.end, out[-1].end))
        out.append(row)
    return out


_WIDENED = 0.0011  # seconds: a unit this short may be a zero-length one a writer widened


def _inside(unit: Unit, segment: Row) -> bool:
    """Whether ``unit`` belongs to ``segment``: its midpoint lies inside, or it is a
    widened zero-length unit (at most ~1 ms) that starts inside."""
    if segment.start <= (unit.start + unit.end) / 2 <= segment.end:
        return True
    return unit.end - unit.start <= _WIDENED and segment.start <= unit.start <= segment.end


def _before(unit: Unit, segment: Row) -> bool:
    return (unit.start + unit.end) / 2 < segment.start and not _inside(unit, segment)


def _check_finite(r: Row) -> None:
    if not (math.isfinite(r.start) and math.isfinite(r.end)):
        raise ValueError(f"{r.text!r}: time is not a finite number ({r.start}, {r.end})")


def alignment_from_rows(
    rows: Iterable[Row],
    *,
    duration: float | None = None,
    segments: Iterable[Row] = (),
    consume: bool = False,
) -> Alignment:
    """An alignment whose units are ``rows`` (in file order) and segments ``segments``.

    Each segment covers the units whose midpoint lies inside it (and a unit of
    at most ~1 ms that starts inside it: a zero-length unit a writer widened).
    ``duration`` defaults to the latest end. With ``consume``, ``rows`` must be a list
    the caller no longer needs: each entry is dropped as its unit is made, so the rows
    and the units are never all held at once (a reader's peak memory).

    Raises:
        ValueError: a time is not finite.
        ValidationError: times are negative, reversed, overlapping or past ``duration``.
    """
    if not (consume and isinstance(rows, list)):
        rows = list(rows)
    seg_rows = list(segments)
    for r in seg_rows:
        _check_finite(r)
    units = []
    for i, r in enumerate(rows):
        _check_finite(r)
        units.append(Unit(r.text, norm_of(r.text), r.start, r.end, r.score))
        if consume:
            rows[i] = None  # type: ignore[call-overload]
    if duration is None:
        duration = max(
            max((u.end for u in units), default=0.0), max((r.end for r in seg_rows), default=0.0)
        )
    segs = []
    first = 0
    for s in seg_rows:
        while first < len(units) and _before(units[first], s):
            first += 1
        last = first
        while last < len(units) and _inside(units[last], s):
            last += 1
        segs.append(Segment(s.text, s.start, s.end, first, last))
        first = last
    return Alignment(units=tuple(units), segments=tuple(segs), duration=duration)


def status_rows(alignment: Alignment) -> list[Row]:
    """One row per unit that is not ``aligned`` (label: its status), at the unit's times.

    Empty when every unit is aligned: writers then add no status tier or column.
    """
    return [Row(u.status, u.start, u.end) for u in alignment.units if u.status != "aligned"]


def with_statuses(alignment: Alignment, rows: Iterable[Row]) -> Alignment:
    """``alignment`` with unit statuses read back from :func:`status_rows` rows (matched by time)."""
    marks = {(round(r.start, 3), round(r.end, 3)): r.text.strip().lower() for r in rows}
    units = []
    changed = False
    for u in alignment.units:
        status = marks.get((round(u.start, 3), round(u.end, 3)))
        if status in ("uncertain", "unaligned"):
            u = replace(u, status=status)
            changed = True
        units.append(u)
    return replace(alignment, units=tuple(units)) if changed else alignment
