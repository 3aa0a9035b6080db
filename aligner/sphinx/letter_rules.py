"""Letter-to-sound rules for English words no dictionary holds.

About 150 context rules written for this package, longest grapheme first; the
last resort of :mod:`qalign.aligner.sphinx.g2p`. Phones are CMUdict ARPAbet
without stress marks.
"""

from __future__ import annotations

import re

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
"""ARPAbet vowels (without stress digits)."""


# A rule is (grapheme, left context, right context, phones). Contexts are
# regular expressions tested against the text before / after the grapheme,
# where "#" marks the word edges. Rules are tried longest grapheme first, and in
# the order written for equal lengths; the first match wins.
CONSONANT = "[bcdfghjklmnpqrstvwxz]"
"""A regular-expression class of one English consonant letter."""
_C = CONSONANT
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
