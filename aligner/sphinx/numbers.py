"""English numbers as words, for pronouncing digits the dictionary cannot look up.

``2014`` → ``twenty fourteen`` (a year) or ``two thousand fourteen``; ``21st``
→ ``twenty first``; ``1,000`` and ``3.5`` are read digit group by group.
Used by :mod:`qalign.aligner.sphinx.g2p`; plain functions on strings, no dictionary.
"""

from __future__ import annotations

import re

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
        if n:
            words.append(_ONES[n])
    elif n or not words:
        words.append(_ONES[n])
    return words


def cardinal_words(n: int) -> list[str]:
    """``n`` (0 ≤ n < 10**15) as English words: ``1203`` → ``one thousand two hundred three``."""
    if n < 0 or n >= 10**15:
        raise ValueError(f"number {n} is out of range for spelling out")
    if n < 1000:
        return _below_thousand(n)
    words: list[str] = []
    for value, name in _SCALES:
        if n >= value:
            words += [*_below_thousand(n // value), name]
            n %= value
    if n:
        words += _below_thousand(n)
    return words


def year_words(n: int) -> list[str]:
    """A four-digit number read as a year: ``1984`` → ``nineteen eighty four``."""
    if 2000 <= n <= 2009 or n % 1000 == 0:
        return cardinal_words(n)
    high, low = divmod(n, 100)
    if low == 0:
        return [*_below_thousand(high), "hundred"]
    if low < 10:
        return [*_below_thousand(high), "oh", _ONES[low]]
    return [*_below_thousand(high), *_below_thousand(low)]


def ordinal_words(n: int) -> list[str]:
    """``n`` as an ordinal: ``21`` → ``twenty first``."""
    words = cardinal_words(n)
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


_NUMBER = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|s)?$")


def _plural(words: list[str]) -> list[str]:
    last = words[-1]
    ending = (
        last[:-1] + "ies" if last.endswith("y") else last + ("es" if last.endswith("x") else "s")
    )
    return [*words[:-1], ending]


def number_readings(token: str) -> list[list[str]]:
    """The ways a numeric token may be read, most likely first; empty when it is not one.

    Handles integers (``42``, ``1,000``), decimals (``3.14`` → ``three point
    one four``), ordinals (``21st``) and plurals of numbers (``1990s``).
    A four-digit number from 1100 to 2099 has up to three readings: as a year in
    pairs (``nineteen eighty four``), with hundreds (``nineteen hundred eighty
    four``, as espeak-ng says it) and as a cardinal (``one thousand nine
    hundred eighty four``). Integers with a leading zero or more than 15 digits
    are read digit by digit.
    """
    m = _NUMBER.match(token.lower())
    if not m:
        return []
    whole, fraction, suffix = m.group(1).replace(",", ""), m.group(2), m.group(3)
    value = int(whole)
    if (whole.startswith("0") and len(whole) > 1) or len(whole) > 15:
        readings = [[_ONES[int(d)] for d in whole]]
    elif suffix in ("st", "nd", "rd", "th") and not fraction:
        return [ordinal_words(value)]
    elif len(whole) == 4 and 1100 <= value <= 2099 and "," not in m.group(1) and not fraction:
        readings = [year_words(value)]
        high, low = divmod(value, 100)
        if value % 100 and value < 2000:
            readings.append([*_below_thousand(high), "hundred", *_below_thousand(low)])
        readings.append(cardinal_words(value))
    else:
        readings = [cardinal_words(value)]
    if fraction:
        readings = [[*r, "point", *(_ONES[int(d)] for d in fraction)] for r in readings]
    if suffix == "s":
        readings = [_plural(r) for r in readings]
    unique: list[list[str]] = []
    for r in readings:
        if r not in unique:
            unique.append(r)
    return unique


def number_words(token: str) -> list[str] | None:
    """The most likely reading of a numeric token (:func:`number_readings`), or ``None``."""
    readings = number_readings(token)
    return readings[0] if readings else None
