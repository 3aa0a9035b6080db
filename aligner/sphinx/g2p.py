"""Pronunciations for English words that the sphinx dictionary lacks.

The offline English engine (:mod:`qalign.aligner.sphinx`) needs a phone string
for every word it aligns. Words missing from the bundled CMU dictionary get one
here, in CMUdict ARPAbet without stress marks (``"HH AH L OW"``), which is what
pocketsphinx's ``en-us`` model uses. The guess only has to be close enough for
the aligner to find the word; it is not meant for speech synthesis.

:func:`guess_pronunciation` tries, in order:

1. **Numbers** (``2014``, ``3.5``, ``21st``, ``1,000``): spelled out as words
   (``twenty fourteen``), each looked up in the dictionary;
   :func:`guess_pronunciations` gives every likely reading of a year.
2. **Pieces**: a token with hyphens, slashes or digits inside (``e-mail``,
   ``mp3``) is pronounced piece by piece.
3. **Analogy with the dictionary**: a known word plus an English suffix
   (``aligner`` = ``align`` + ``-er``; ``hoping`` = ``hope`` - ``e`` + ``-ing``),
   a prefix plus a known word (``unalign``), or a compound of two or three known
   words of at least three letters (``speechwise``).
4. **Letter names** for a token without vowels (``bbc``, ``tv``): spoken as letters.
5. **Letter-to-sound rules** (:func:`letter_to_sound`): about 150 context rules,
   longest grapheme first, written for this module.

Measured on 2,000 random alphabetic entries of the bundled dictionary, each
guessed with that entry hidden: the rules alone give a phone error rate of
22 % (29 % of words exactly right); with the analogy steps, 16 % (46 % exact).
Mostly vowel quality is wrong (``AA`` for ``AO``, ``EH`` for ``AH``), which
moves boundaries little.

Everything takes a ``lookup`` callable (word → phone string or ``None``) so it
works with any dictionary and can be tested without pocketsphinx.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Lookup = Callable[[str], "str | None"]

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
"""ARPAbet vowels (without stress digits)."""

# --- numbers ----------------------------------------------------------------

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


# --- letter-to-sound rules --------------------------------------------------

# A rule is (grapheme, left context, right context, phones). Contexts are
# regular expressions tested against the text before / after the grapheme,
# where "#" marks the word edges. Rules are tried longest grapheme first, and in
# the order written for equal lengths; the first match wins.
_C = "[bcdfghjklmnpqrstvwxz]"
_V = "[aeiouy]"
_FRONT = "[eiy]"
# Magic e: vowel + one consonant + e at the word's end, optionally +s/+d.
_MAGIC = _C + r"e(s|d|ly|ment|ness|ful|less)?#"

_RULES_TEXT: list[tuple[str, str, str, str]] = [
    # multi-letter consonant groups
    ("tch", "", "", "CH"),
    ("sch", "", "", "S K"),
    ("dge", "", "", "JH"),
    ("tion", "", "", "SH AH N"),
    ("sion", _V, "", "ZH AH N"),
    ("sion", "", "", "SH AH N"),
    ("cian", "", "", "SH AH N"),
    ("tial", "", "", "SH AH L"),
    ("cial", "", "", "SH AH L"),
    ("tious", "", "", "SH AH S"),
    ("cious", "", "", "SH AH S"),
    ("geous", "", "", "JH AH S"),
    ("ture", "", "", "CH ER"),
    ("sure", "", "", "ZH ER"),
    ("ough", "", "t", "AO"),
    ("ough", "", "", "OW"),
    ("augh", "", "", "AO"),
    ("eigh", "", "", "EY"),
    ("igh", "", "", "AY"),
    ("ous", "", "#", "AH S"),
    ("ious", "", "#", "IY AH S"),
    ("que", "", "#", "K"),
    ("qu", "", "", "K W"),
    ("ch", "", "r", "K"),
    ("ch", "#", "", "CH"),
    ("ch", "", "", "CH"),
    ("ck", "", "", "K"),
    ("ph", "", "", "F"),
    ("sh", "", "", "SH"),
    ("th", "", "", "TH"),
    ("wh", "", "", "W"),
    ("wr", "#", "", "R"),
    ("kn", "", "", "N"),
    ("gn", "#", "", "N"),
    ("gn", "", "#", "N"),
    ("mb", "", "#", "M"),
    ("gh", "#", "", "G"),
    ("gh", "", "", ""),
    ("ng", "", _V, "NG G"),
    ("ng", "", "", "NG"),
    ("nk", "", "", "NG K"),
    ("cc", "", _FRONT, "K S"),
    ("xc", "", _FRONT, "K S"),
    ("ed", "[td]", "#", "IH D"),
    ("ed", "[ptkfsxh]", "#", "T"),
    ("ed", _C, "#", "D"),
    ("es", "(s|z|x|sh|ch|ge|ce)", "#", "IH Z"),
    ("le", _C, "#", "AH L"),
    ("re", _C, "#", "ER"),
    ("ss", "", "", "S"),
    ("ll", "", "", "L"),
    ("tt", "", "", "T"),
    ("pp", "", "", "P"),
    ("bb", "", "", "B"),
    ("dd", "", "", "D"),
    ("ff", "", "", "F"),
    ("gg", "", "", "G"),
    ("mm", "", "", "M"),
    ("nn", "", "", "N"),
    ("rr", "", "", "R"),
    ("zz", "", "", "Z"),
    # vowel groups
    ("eau", "", "", "OW"),
    ("ai", "", "", "EY"),
    ("ay", "", "", "EY"),
    ("au", "", "", "AO"),
    ("aw", "", "", "AO"),
    ("ar", "", "(" + _C + "|#)", "AA R"),
    ("are", "", "#", "EH R"),
    ("all", "", "", "AO L"),
    ("alk", "", "", "AO K"),
    ("ee", "", "", "IY"),
    ("ea", "", "", "IY"),
    ("ei", "", "", "EY"),
    ("ey", "", "#", "IY"),
    ("ey", "", "", "EY"),
    ("ew", "", "", "UW"),
    ("er", "", "", "ER"),
    ("eo", "", "", "IY AH"),
    ("ie", "", "#", "AY"),
    ("ie", "", "", "IY"),
    ("ir", "", "", "ER"),
    ("ia", "", "", "IY AH"),
    ("io", "", "", "IY OW"),
    ("oo", "", "k", "UH"),
    ("oo", "", "", "UW"),
    ("ou", "", "", "AW"),
    ("ow", "", "#", "OW"),
    ("ow", "", "", "AW"),
    ("oi", "", "", "OY"),
    ("oy", "", "", "OY"),
    ("oa", "", "", "OW"),
    ("oe", "", "#", "OW"),
    ("or", "", "", "AO R"),
    ("old", "", "", "OW L D"),
    ("ue", "", "#", "UW"),
    ("ui", "", "", "UW"),
    ("ur", "", "", "ER"),
    ("ye", "", "#", "AY"),
    # single vowels
    ("a", "", _MAGIC, "EY"),
    ("a", "", "[ts]ion", "EY"),
    ("a", "", "#", "AH"),
    ("a", "#", _C + _V, "AH"),
    ("a", "", "", "AE"),
    ("e", "#" + _C + "*", "#", "IY"),
    ("e", "", "#", ""),
    ("e", "", _MAGIC, "IY"),
    ("e", "", "", "EH"),
    ("i", "", _MAGIC, "AY"),
    ("i", "", "nd#", "AY"),
    ("i", "", "ld#", "AY"),
    ("i", "", _V, "IY"),
    ("i", "", "", "IH"),
    ("o", "", _MAGIC, "OW"),
    ("o", "", "#", "OW"),
    ("o", "", "st#", "AO"),
    ("o", "", "", "AA"),
    ("u", "", _MAGIC, "UW"),
    ("u", "#", "n", "AH"),
    ("u", "", "", "AH"),
    ("y", "#", "", "Y"),
    ("y", "#" + _C + "+", "#", "AY"),
    ("y", "", "#", "IY"),
    ("y", _C, _C, "IH"),
    ("y", "", _V, "Y"),
    ("y", "", "", "IY"),
    # single consonants
    ("b", "", "", "B"),
    ("c", "", _FRONT, "S"),
    ("c", "", "", "K"),
    ("d", "", "", "D"),
    ("f", "", "", "F"),
    ("g", "", "(e|i|y)" + _C, "JH"),
    ("g", "", "e#", "JH"),
    ("g", "", "", "G"),
    ("h", "", _V, "HH"),
    ("h", "", "", ""),
    ("j", "", "", "JH"),
    ("k", "", "", "K"),
    ("l", "", "", "L"),
    ("m", "", "", "M"),
    ("n", "", "", "N"),
    ("p", "", "", "P"),
    ("q", "", "", "K"),
    ("r", "", "", "R"),
    ("s", "#", "", "S"),
    ("s", _V, _V, "Z"),
    ("s", "[bdglmnrv]|" + _V, "#", "Z"),
    ("s", "", "", "S"),
    ("t", "", "", "T"),
    ("v", "", "", "V"),
    ("w", "", "", "W"),
    ("x", "#", "", "Z"),
    ("x", "", "", "K S"),
    ("z", "", "", "Z"),
    ("'", "", "", ""),
]


def _compile_rules() -> dict[
    str, list[tuple[str, re.Pattern[str] | None, re.Pattern[str] | None, tuple[str, ...]]]
]:
    table: dict[
        str, list[tuple[str, re.Pattern[str] | None, re.Pattern[str] | None, tuple[str, ...]]]
    ] = {}
    for graph, left, right, phones in _RULES_TEXT:
        table.setdefault(graph[0], []).append(
            (
                graph,
                re.compile("(?:" + left + ")$") if left else None,
                re.compile(right) if right else None,
                tuple(phones.split()),
            )
        )
    for rules in table.values():
        rules.sort(key=lambda r: -len(r[0]))  # stable: keeps the written order within a length
    return table


_RULES = _compile_rules()


def letter_to_sound(word: str) -> tuple[str, ...]:
    """Phones for ``word`` from the context rules alone (no dictionary).

    ``word`` is lower-cased; characters other than ``a``-``z`` and ``'`` are
    ignored. Returns an empty tuple when nothing is pronounceable.
    """
    letters = "".join(ch for ch in word.lower() if "a" <= ch <= "z" or ch == "'")
    padded = "#" + letters + "#"
    phones: list[str] = []
    i = 1
    end = len(padded) - 1
    while i < end:
        for graph, left, right, out in _RULES.get(padded[i], ()):
            if not padded.startswith(graph, i) or i + len(graph) > end:
                continue
            if left is not None and not left.search(padded, 0, i):
                continue
            if right is not None and not right.match(padded, i + len(graph)):
                continue
            phones.extend(out)
            i += len(graph)
            break
        else:
            i += 1  # no rule: skip the character
    # Collapse doubled consonants across graphemes ("back" + "k"): one phone.
    collapsed: list[str] = []
    for p in phones:
        if collapsed and p == collapsed[-1] and p not in VOWELS:
            continue
        collapsed.append(p)
    if collapsed and not any(p in VOWELS for p in collapsed):
        # A consonant cluster with no vowel rule (a fragment): add a schwa to make it sayable.
        collapsed.insert(1 if len(collapsed) > 1 else 0, "AH")
    return tuple(collapsed)


# --- analogy with the dictionary ------------------------------------------------

_VOICELESS = frozenset("P T K F TH S SH CH HH".split())
_SIBILANTS = frozenset("S Z SH ZH CH JH".split())

# Suffix → phones; "S" and "D" endings are chosen by the stem's last phone.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ingly", "IH NG L IY"),
    ("ness", "N AH S"),
    ("less", "L AH S"),
    ("ment", "M AH N T"),
    ("ments", "M AH N T S"),
    ("able", "AH B AH L"),
    ("ably", "AH B L IY"),
    ("ings", "IH NG Z"),
    ("ing", "IH NG"),
    ("ers", "ER Z"),
    ("er", "ER"),
    ("est", "AH S T"),
    ("ly", "L IY"),
    ("ful", "F AH L"),
    ("ish", "IH SH"),
    ("ism", "IH Z AH M"),
    ("ist", "IH S T"),
    ("ists", "IH S T S"),
    ("ity", "AH T IY"),
    ("ize", "AY Z"),
    ("ized", "AY Z D"),
    ("izes", "AY Z IH Z"),
    ("ise", "AY Z"),
    ("wise", "W AY Z"),
    ("like", "L AY K"),
    ("y", "IY"),
    ("ies", "IY Z"),
    ("ied", "IY D"),
    ("ed", "@D"),
    ("es", "@S"),
    ("s", "@S"),
    ("'s", "@S"),
    ("'d", "D"),
    ("'ll", "L"),
    ("'re", "ER"),
    ("'ve", "V"),
    ("n't", "AH N T"),
)
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("counter", "K AW N T ER"),
    ("under", "AH N D ER"),
    ("inter", "IH N T ER"),
    ("super", "S UW P ER"),
    ("trans", "T R AE N Z"),
    ("micro", "M AY K R OW"),
    ("multi", "M AH L T IY"),
    ("over", "OW V ER"),
    ("anti", "AE N T IY"),
    ("semi", "S EH M IY"),
    ("mini", "M IH N IY"),
    ("mega", "M EH G AH"),
    ("self", "S EH L F"),
    ("non", "N AA N"),
    ("pre", "P R IY"),
    ("post", "P OW S T"),
    ("mis", "M IH S"),
    ("dis", "D IH S"),
    ("out", "AW T"),
    ("sub", "S AH B"),
    ("un", "AH N"),
    ("re", "R IY"),
    ("de", "D IY"),
    ("co", "K OW"),
    ("ex", "EH K S"),
)


def _first(lookup: Lookup, word: str) -> tuple[str, ...] | None:
    found = lookup(word) if word else None
    return tuple(found.split()) if found else None


def _join_suffix(stem: tuple[str, ...], suffix: str) -> tuple[str, ...]:
    if suffix == "@S":
        last = stem[-1] if stem else ""
        if last in _SIBILANTS:
            return (*stem, "IH", "Z")
        return (*stem, "S" if last in _VOICELESS else "Z")
    if suffix == "@D":
        last = stem[-1] if stem else ""
        if last in ("T", "D"):
            return (*stem, "IH", "D")
        return (*stem, "T" if last in _VOICELESS else "D")
    return (*stem, *suffix.split())


def _stems(word: str, suffix: str) -> list[str]:
    """Candidate stems of ``word`` without ``suffix`` (hop-ing → hope, hopp-ing → hop)."""
    base = word[: -len(suffix)]
    if len(base) < 2:
        return []
    out = [base]
    if suffix[0] in "aeiouy" and not suffix.startswith("'"):
        # hop-ing: "hope" before "hop" when one vowel letter precedes one consonant.
        if re.search(f"(^|{_C})[aeiou]{_C}$", base) and base[-1] not in "wxy":
            out.insert(0, base + "e")
        else:
            out.append(base + "e")
        if len(base) > 2 and base[-1] == base[-2] and base[-1] not in "aeiousl":
            out.append(base[:-1])
    if base.endswith("i") and suffix in (
        "es",
        "ed",
        "er",
        "ers",
        "est",
        "ly",
        "ness",
        "ful",
        "less",
    ):
        out.append(base[:-1] + "y")
    return out


def _by_suffix(word: str, lookup: Lookup) -> tuple[str, ...] | None:
    for suffix, phones in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            for stem in _stems(word, suffix):
                found = _first(lookup, stem)
                if found:
                    return _join_suffix(found, phones)
    return None


def _by_prefix(word: str, lookup: Lookup) -> tuple[str, ...] | None:
    for prefix, phones in _PREFIXES:
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) >= 3:
            found = _first(lookup, rest) or _by_suffix(rest, lookup)
            if found:
                return (*phones.split(), *found)
    return None


def _by_compound(word: str, lookup: Lookup, parts: int = 3) -> tuple[str, ...] | None:
    """``word`` as two or three dictionary words of at least three letters, longest first part."""
    if parts < 2:
        return None
    for cut in range(len(word) - 3, 2, -1):
        head = _first(lookup, word[:cut])
        if not head:
            continue
        tail = word[cut:]
        rest = _first(lookup, tail) or _by_suffix(tail, lookup)
        if rest is None and parts > 2:
            rest = _by_compound(tail, lookup, parts - 1)
        if rest:
            return (*head, *rest)
    return None


def _by_analogy(word: str, lookup: Lookup) -> tuple[str, ...] | None:
    return _by_suffix(word, lookup) or _by_prefix(word, lookup) or _by_compound(word, lookup)


def _spell_letters(word: str, lookup: Lookup) -> tuple[str, ...] | None:
    phones: list[str] = []
    for ch in word:
        found = _first(lookup, ch)
        if not found:
            return None
        phones.extend(found)
    return tuple(phones)


_PIECES = re.compile(r"\d[\d,.]*(?:st|nd|rd|th|s)?(?![a-z])|\d+|[a-z']+")


def guess_pronunciations(word: str, lookup: Lookup) -> tuple[tuple[str, ...], ...]:
    """Pronunciations for a word the dictionary does not hold, most likely first.

    Numbers may have several readings (:func:`number_readings`); other words get
    one guess (:func:`guess_pronunciation`). Empty when ``word`` holds no letter or digit.
    """
    readings = number_readings(word.lower().strip("'"))
    if readings:
        return tuple(
            dict.fromkeys(
                tuple(p for w in r for p in (_first(lookup, w) or letter_to_sound(w)))
                for r in readings
            )
        )
    guess = guess_pronunciation(word, lookup)
    return (guess,) if guess else ()


def guess_pronunciation(word: str, lookup: Lookup) -> tuple[str, ...]:
    """A pronunciation (ARPAbet phones) for a word the dictionary does not hold.

    Args:
        word: the token as it appears, any case (``"yknow"``, ``"2014"``,
            ``"e-mail"``, ``"3.5"``, ``"BBC"``).
        lookup: the dictionary: a word (lower case) → space-separated phones, or ``None``.

    Returns:
        The phones; empty only when ``word`` holds no letter or digit.
    """
    token = word.lower().strip("'")
    found = _first(lookup, token)
    if found:
        return found
    spelled = number_words(token)
    if spelled is not None:
        return tuple(p for w in spelled for p in (_first(lookup, w) or letter_to_sound(w)))
    pieces = _PIECES.findall(token)
    if len(pieces) > 1 or (pieces and pieces[0] != token):
        return tuple(p for piece in pieces for p in guess_pronunciation(piece, lookup))
    if not pieces:
        return ()
    analogy = _by_analogy(token, lookup)
    if analogy:
        return analogy
    if not re.search("[aeiouy]", token) and len(token) <= 6:
        letters = _spell_letters(token, lookup)
        if letters:
            return letters
    return letter_to_sound(token)
