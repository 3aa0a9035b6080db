"""Praat's text file syntax, read as Praat reads it, for TextGrids in the long or short
text form (https://www.fon.hum.uva.nl/praat/manual/TextGrid_file_formats.html).

Praat does not parse the long form by its labels: it reads the values in order and
skips everything between them. So does :func:`parse_textgrid`:

* a value is a string in double quotes (``""`` inside is one quote; a string may span
  lines and hold anything, ``item [2]:`` or ``"IntervalTier"`` included), a flag in
  angle brackets (``<exists>``), or a number (anything starting with a digit, sign or
  point up to the next blank: ``0.5``, ``1.5e-05``);
* skipped: words (``xmin``, ``intervals:``), ``=``, text in square brackets
  (``item [1]:``, at most 40 characters), and comments from ``!`` to the end of the
  line.

Memory and time: the text is scanned once with a regular expression, in time linear
in its length whatever it holds; no list of lines or of tokens is built. Errors name
the line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from qalign.formats.wordlist import Row

# Skipped material, then one value: a string, a flag, a number, a stray character, or
# the end. The value part matches wherever the skipping stops, so the pattern never
# backtracks into the skipped part (no catastrophic backtracking on hostile input).
_TOKEN = re.compile(
    r"""(?:\s+|[A-Za-z_][^\s"\[<!=:]*|\[[^\]\n"]{0,40}\]|![^\n]*|[=:])*
    (?:"((?:[^"]|"")*)"|<([A-Za-z]+)>|([-+.0-9][^\s"]*)|(\S)|(\Z))""",
    re.VERBOSE,
)


TOLERANCE = 1e-6
"""Seconds: an interval may overlap the previous one, or pass the tier's end, by this
much (float noise Praat accepts); more is an error."""


class Tier(NamedTuple):
    """One tier: its labelled intervals (points: ``start == end``) as rows, in file order."""

    kind: str  # "IntervalTier" or "TextTier" (points)
    name: str
    xmin: float
    xmax: float
    items: list[Row]


class Grid(NamedTuple):
    xmin: float
    xmax: float
    tiers: list[Tier]


class _Reader:
    """The values of a Praat text file, one at a time, with their line numbers."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _TOKEN.finditer(text)
        self.pos = 0
        self._line = 1
        self._line_pos = 0

    def line(self, pos: int | None = None) -> int:
        """The line number of ``pos`` (default: the last value read), counted lazily."""
        pos = self.pos if pos is None else pos
        if pos < self._line_pos:
            self._line, self._line_pos = 1, 0
        self._line += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def _next(self, what: str) -> tuple[int, str]:
        for match in self.tokens:
            self.pos = match.start(match.lastindex or 0)
            kind = match.lastindex
            if kind == 4:  # a stray character between values: Praat skips it too
                continue
            if kind == 5:
                break
            assert kind is not None
            return kind, match.group(kind)
        raise ValueError(
            f"line {self.line(len(self.text))}: the file ends where {what} was expected"
        )

    def string(self, what: str) -> str:
        kind, value = self._next(what)
        if kind != 1:
            raise ValueError(
                f"line {self.line()}: expected {what} (a quoted text), found {value!r}"
            )
        return value.replace('""', '"') if '""' in value else value

    def number(self, what: str) -> float:
        kind, value = self._next(what)
        if kind != 3:
            shown = f'"{value[:40]}"' if kind == 1 else value[:40]
            raise ValueError(f"line {self.line()}: expected {what} (a number), found {shown}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"line {self.line()}: {what} {value[:40]!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"line {self.line()}: {what} {value[:40]!r} is not a finite number")
        return number

    def count(self, what: str) -> int:
        number = self.number(what)
        if number != int(number) or number < 0:
            raise ValueError(f"line {self.line()}: {what} {number:g} is not a whole number")
        return int(number)

    def flag(self, what: str) -> str:
        kind, value = self._next(what)
        if kind != 2:
            raise ValueError(
                f"line {self.line()}: expected {what} (<exists>), found {value[:40]!r}"
            )
        return value


def _items(
    reader: _Reader, kind: str, name: str, xmax: float, skip: Callable[[str], bool]
) -> Iterator[Row]:
    """The tier's items, checked: in order, not reversed, not past ``xmax``."""
    size = reader.count(f"the number of items of tier {name!r}")
    previous = 0.0
    for _ in range(size):
        if kind == "IntervalTier":
            start = reader.number("an interval's start")
            end = reader.number("an interval's end")
            label = reader.string("an interval's text")
        else:
            start = end = reader.number("a point's time")
            label = reader.string("a point's mark")
        if skip(label):
            continue
        where = f"line {reader.line()}: tier {name!r}: {label[:40]!r}"
        if end < start:
            raise ValueError(f"{where} ends ({end:g} s) before it starts ({start:g} s)")
        if start < 0:
            raise ValueError(f"{where} starts at a negative time ({start:g} s)")
        if end > xmax + TOLERANCE:
            raise ValueError(f"{where} ends ({end:g} s) past the tier's end ({xmax:g} s)")
        if start < previous - TOLERANCE:
            raise ValueError(
                f"{where} starts ({start:g} s) before the previous one ends ({previous:g} s)"
            )
        previous = end
        yield Row(label, start, end)


def _blank(label: str) -> bool:
    return not label.strip()


def parse_textgrid(text: str, skip: Callable[[str], bool] = _blank) -> Grid:
    """Read a TextGrid in Praat's long or short text form.

    Intervals whose label ``skip`` accepts (default: empty or blank) are left out, and
    not checked.

    Raises:
        ValueError: not a TextGrid, a binary or chronological one, a value missing or
            of the wrong kind, or an interval reversed, overlapping the previous one or
            past the end (beyond :data:`TOLERANCE`); the message names the line.
    """
    head = text[:200]
    if "ooBinaryFile" in head:
        raise ValueError("binary TextGrid is not supported: save it as a text file in Praat")
    reader = _Reader(text)
    try:
        file_type = reader.string('the file type "ooTextFile"')
        object_class = reader.string('the object class "TextGrid"')
    except ValueError:
        raise ValueError('not a TextGrid (no "ooTextFile" header)') from None
    if not file_type.startswith("ooTextFile"):
        raise ValueError(f'not a TextGrid (file type {file_type[:40]!r}, expected "ooTextFile")')
    if object_class.startswith("TextGrid text (chronological)"):
        raise ValueError("chronological TextGrid is not supported: save it as a text file in Praat")
    if not object_class.startswith("TextGrid"):
        raise ValueError(f"not a TextGrid (object class {object_class[:40]!r})")
    xmin = reader.number("the grid's xmin")
    xmax = reader.number("the grid's xmax")
    tiers: list[Tier] = []
    if reader.flag("<exists> or <absent>") == "exists":
        for _ in range(reader.count("the number of tiers")):
            kind = reader.string('the tier class ("IntervalTier" or "TextTier")')
            if kind not in ("IntervalTier", "TextTier"):
                raise ValueError(f"line {reader.line()}: unknown tier class {kind[:40]!r}")
            name = reader.string("the tier name")
            tier_min = reader.number("the tier's xmin")
            tier_max = reader.number("the tier's xmax")
            items = list(_items(reader, kind, name, max(tier_max, xmax), skip))
            tiers.append(Tier(kind, name, tier_min, tier_max, items))
    return Grid(xmin, xmax, tiers)
