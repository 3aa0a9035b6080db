"""Audacity label track: ``start<TAB>end<TAB>label``, times in seconds with 6 decimals.

Audacity imports it with File > Import > Labels and exports it from a label
track. Format id ``audacity``; extensions ``.audacity.txt`` and
``.labels.txt`` (a plain ``.txt`` is a transcript, not labels).

Writing: one label per unit, or per segment when the alignment has no
units (per phone when it has neither). A zero-length unit is first widened to 1 ms as in the TextGrid writer
(:func:`qalign.formats.textgrid.positive_spans`); times are then rounded
once to whole microseconds (half up) by
:func:`qalign.formats.timing.nonzero_spans` and printed with 6 decimals, as
Audacity writes them. Tabs and newlines inside a
label become spaces.

Reading: blank lines and Audacity's spectral-selection lines (starting with
``\\``) are skipped; a point label (start = end) becomes a zero-length unit;
an empty label is skipped. Labels must not overlap (Audacity allows it; an
alignment does not).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from qalign.alignment import Alignment
from qalign.formats.base import Format
from qalign.formats.registry import register
from qalign.formats.textgrid import positive_spans
from qalign.formats.timing import nonzero_spans
from qalign.formats.wordlist import (
    Row,
    alignment_from_rows,
    in_chunks,
    numbered_lines,
    one_line,
    rows_of,
)

_TICK = 1e-6  # seconds: one microsecond, the 6th decimal


def _seconds(us: int) -> str:
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def dumps_audacity(alignment: Alignment) -> str:
    """Render ``alignment`` as an Audacity label track (see the module docstring)."""
    return "".join(iter_audacity(alignment))


def iter_audacity(alignment: Alignment) -> Iterator[str]:
    """:func:`dumps_audacity` in chunks of lines."""
    rows = rows_of(alignment)
    widened = positive_spans([(r.start, r.end) for r in rows], alignment.duration)
    spans = nonzero_spans(widened, _TICK, alignment.duration)  # now only rounds
    del widened
    return in_chunks(
        f"{_seconds(start)}\t{_seconds(end)}\t{one_line(row.text)}"
        for row, (start, end) in zip(rows, spans)
    )


def loads_audacity(text: str) -> Alignment:
    """Parse an Audacity label track.

    Raises:
        ValueError: a line without two numeric times; ValidationError for
            overlapping or reversed labels.
    """
    rows = []
    for number, line in numbered_lines(text):
        if not line.strip() or line.startswith("\\"):
            continue
        fields = line.split("\t", 2)
        if len(fields) < 2:
            raise ValueError(f"line {number}: expected 'start<TAB>end<TAB>label', got {line!r}")
        try:
            start, end = float(fields[0]), float(fields[1])
        except ValueError:
            raise ValueError(f"line {number}: start/end are not numbers in {line!r}") from None
        label = fields[2].strip() if len(fields) > 2 else ""
        if label:
            rows.append(Row(label, start, end))
    return alignment_from_rows(rows, consume=True)


@register
class AudacityFormat(Format):
    name = "audacity"
    extensions = (".audacity.txt", ".labels.txt")
    description = "Audacity label track: start, end (seconds, 6 decimals), label"

    def dumps(self, alignment: Alignment, **_: Any) -> str:
        return dumps_audacity(alignment)

    def iter_dumps(self, alignment: Alignment, **_: Any) -> Iterator[str]:
        return iter_audacity(alignment)

    def loads(self, text: str, **_: Any) -> Alignment:
        return loads_audacity(text)
