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

from qalign.aligner.sphinx.letter_rules import CONSONANT as _C
from qalign.aligner.sphinx.letter_rules import VOWELS, letter_to_sound
from qalign.aligner.sphinx.numbers import cardinal_words, number_readings, number_words

__all__ = [
    "VOWELS",
    "Lookup",
    "cardinal_words",
    "guess_pronunciation",
    "guess_pronunciations",
    "letter_to_sound",
    "number_readings",
    "number_words",
]

Lookup = Callable[[str], "str | None"]


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
