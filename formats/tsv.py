"""Tab-separated word list: ``start``, ``end`` in integer milliseconds, ``text`` (and ``score``).

Writing (format id ``tsv``, extension ``.tsv``): a header line
``start<TAB>end<TAB>text``, plus a ``score`` column (3 decimals, empty where a
unit has none) when any unit has a score, and a ``status`` column (``aligned``,
``uncertain`` or ``unaligned``, read back into ``Unit.status``) when some unit is
not confidently aligned; then one line per unit, or per
segment when the alignment has no units (per phone without segments either).
Times are rounded once to integer milliseconds (half up) by
:func:`qalign.formats.timing.nonzero_spans`, so no row lasts 0 ms. Integers,
as in whisper's TSV, because a spreadsheet opening a decimal number may read
it in a locale where ``.`` is not the decimal mark (or as a date); an integer
means the same everywhere. Tabs and newlines inside text become spaces.

Reading: the header (a first line with a ``start`` column) is optional:
without one the columns are start, end, text, score; with one, columns are
found by name (``text``, ``word`` or
``label``; ``score``, ``confidence`` or ``probability``). Times must be
integer milliseconds. Rows with empty text are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from qalign.alignment import UNIT_STATUSES, Alignment
from qalign.formats.base import Format
from qalign.formats.registry import register
from qalign.formats.timing import nonzero_spans
from qalign.formats.wordlist import (
    Row,
    alignment_from_rows,
    in_chunks,
    numbered_lines,
    one_line,
    rows_of,
    status_rows,
)

_TEXT_NAMES = ("text", "word", "label")
_SCORE_NAMES = ("score", "confidence", "probability")


def dumps_tsv(alignment: Alignment) -> str:
    """Render ``alignment`` as TSV (see the module docstring)."""
    return "".join(iter_tsv(alignment))


def iter_tsv(alignment: Alignment) -> Iterator[str]:
    """:func:`dumps_tsv` in chunks of lines."""
    return in_chunks(_tsv_lines(alignment))


def _tsv_lines(alignment: Alignment) -> Iterator[str]:
    rows = rows_of(alignment)
    spans = nonzero_spans([(r.start, r.end) for r in rows], 0.001, alignment.duration)
    with_score = any(r.score is not None for r in rows)
    statuses = [u.status for u in alignment.units] if status_rows(alignment) else []
    yield "start\tend\ttext" + ("\tscore" if with_score else "") + ("\tstatus" if statuses else "")
    for k, (row, (start, end)) in enumerate(zip(rows, spans)):
        fields = [str(start), str(end), one_line(row.text)]
        if with_score:
            fields.append("" if row.score is None else f"{row.score:.3f}")
        if statuses:
            fields.append(statuses[k])
        yield "\t".join(fields)


def _columns(header: list[str]) -> tuple[int, int, int, int | None]:
    names = [h.strip().lower() for h in header]

    def find(options: tuple[str, ...]) -> int | None:
        return next((names.index(o) for o in options if o in names), None)

    start, end, text = find(("start",)), find(("end",)), find(_TEXT_NAMES)
    if start is None or end is None or text is None:
        raise ValueError(f"TSV header {header!r} lacks a start, end or text column")
    return start, end, text, find(_SCORE_NAMES)


def _ms(value: str, number: int, what: str) -> float:
    try:
        return int(value) / 1000
    except ValueError:
        raise ValueError(f"line {number}: {what} {value!r} is not integer milliseconds") from None


def loads_tsv(text: str) -> Alignment:
    """Parse TSV text (see the module docstring).

    Raises:
        ValueError: a missing column, a time that is not an integer, a bad score;
            ValidationError for overlapping or reversed rows.
    """
    columns: tuple[int, int, int, int | None] = (0, 1, 2, 3)
    status_col: int | None = None
    rows = []
    statuses: list[str] = []
    for number, line in numbered_lines(text):
        if number == 1 and "start" in (f.strip().lower() for f in line.split("\t")):
            columns = _columns(line.split("\t"))
            names = [f.strip().lower() for f in line.split("\t")]
            status_col = names.index("status") if "status" in names else None
            continue
        start_col, end_col, text_col, score_col = columns
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) <= max(start_col, end_col, text_col):
            raise ValueError(f"line {number}: expected start, end and text, got {line!r}")
        label = fields[text_col].strip()
        if not label:
            continue
        score = None
        if score_col is not None and score_col < len(fields) and fields[score_col].strip():
            try:
                score = float(fields[score_col])
            except ValueError:
                raise ValueError(
                    f"line {number}: score {fields[score_col]!r} is not a number"
                ) from None
        start = _ms(fields[start_col].strip(), number, "start")
        end = _ms(fields[end_col].strip(), number, "end")
        rows.append(Row(label, start, end, score))
        status = (
            fields[status_col].strip().lower()
            if status_col is not None and status_col < len(fields)
            else ""
        )
        statuses.append(status if status in UNIT_STATUSES else "aligned")
    alignment = alignment_from_rows(rows, consume=True)
    if any(st != "aligned" for st in statuses):
        units = tuple(replace(u, status=st) for u, st in zip(alignment.units, statuses))
        alignment = replace(alignment, units=units)
    return alignment


@register
class TsvFormat(Format):
    name = "tsv"
    extensions = (".tsv",)
    description = "Tab-separated words: start, end (integer ms), text, score"

    def dumps(self, alignment: Alignment, **_: Any) -> str:
        return dumps_tsv(alignment)

    def iter_dumps(self, alignment: Alignment, **_: Any) -> Iterator[str]:
        return iter_tsv(alignment)

    def loads(self, text: str, **_: Any) -> Alignment:
        return loads_tsv(text)
