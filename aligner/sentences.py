"""Grouping alignment units into sentences (the segments of an :class:`~qalign.alignment.Alignment`).

A sentence ends after a unit whose display text ends in a terminator, closing
quotes and brackets aside (``done."``, ``好啊！」``), and wherever a line break
separates two units. Terminators:

* ``!`` ``?`` ``‼`` ``⁇`` ``⁈`` ``⁉`` and the CJK ``。`` ``！`` ``？`` ``｡`` always end a sentence;
* ``.``, ``．`` and the ellipsis (``…`` or ``...``) end one unless
  - a letter or digit follows at once (``3.14`` in char granularity, ``e.g`` inside ``e.g.``),
  - the word is a known abbreviation (``Mr.``, ``Dr.``, ``z.B.``, ``т.е.``), a
    dotted run of single letters (``U.S.``), or one capital letter (``J. R. R. Tolkien``),
  - the word is ``No.``, ``Nr.``, ``p.``, ``Fig.`` ... and a number follows,
  - the transcript uses capital letters and the next word starts in lower
    case (``etc. and so on``, ``just... y'know``).

These are heuristics for display and subtitle cues; they never change timing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from qalign.aligner.qwen3.units import TextUnit
from qalign.alignment import Segment, Unit

_ALWAYS = frozenset("!?‼⁇⁈⁉。！？｡")
_DOTS = frozenset(".．…")
_LINE_BREAKS = frozenset("\n\r\v\f\x85\u2028\u2029")

# Lower-case, without the final dot. Words that often end a sentence ("etc.",
# "usw.", "Inc.") are left out: the lower-case rule handles them mid-sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms mx dr prof sr jr st mt rev hon gen col capt lt sgt gov sen rep pres messrs
    vs cf al approx ca dept est e.g i.e a.m p.m
    hr hrn fr frl bzw z.b u.a d.h evtl ggf vgl sog
    m mm mme mlle mlles me pr ste env av bd p.ex
    sra srta sres dra ud uds dña p.ej
    sig sigg dott ing avv
    profa
    г гг т.е т.к др им ул стр см
    """.split()
)
# Abbreviations that only stay open before a number ("No. 5", "p. 12").
_BEFORE_NUMBER = frozenset("no nr nos núm num art fig vol ch sec p pp pág pag n".split())


def sentence_segments(transcript: str, units: Sequence[Unit]) -> tuple[Segment, ...]:
    """Timed units grouped into sentence :class:`~qalign.alignment.Segment` objects.

    Each segment's text is the transcript between its first and last unit (so
    it keeps the transcript's punctuation and spacing); its times are its
    first unit's start and last unit's end. Units without character offsets
    give no segments.
    """
    if not units or any(u.char_start is None or u.char_end is None for u in units):
        return ()
    return tuple(
        Segment(
            text=transcript[units[a].char_start : units[b - 1].char_end],
            start=units[a].start,
            end=units[b - 1].end,
            unit_start=a,
            unit_end=b,
        )
        for a, b in sentence_spans(transcript, units)  # type: ignore[arg-type]
    )


def sentence_spans(transcript: str, units: Sequence[TextUnit]) -> list[tuple[int, int]]:
    """Index ranges ``[start, end)`` of ``units`` that form sentences, in order.

    The ranges cover every unit exactly once; no units give no ranges.
    ``units`` must come from :func:`qalign.aligner.qwen3.units.split_units` on the
    same ``transcript``.
    """
    cased = any(ch.isupper() for ch in transcript)
    spans: list[tuple[int, int]] = []
    start = 0
    for k in range(len(units) - 1):
        if _line_break_between(transcript, units[k], units[k + 1]) or _ends_sentence(
            transcript, units[k], units[k + 1], cased
        ):
            spans.append((start, k + 1))
            start = k + 1
    if units:
        spans.append((start, len(units)))
    return spans


def _alnum(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN"


def _line_break_between(transcript: str, left: TextUnit, right: TextUnit) -> bool:
    """A line break between the last letter/digit of ``left`` and the first of ``right``."""
    last = next(
        (
            left.char_start + i + 1
            for i in range(len(left.text) - 1, -1, -1)
            if _alnum(left.text[i])
        ),
        left.char_end,
    )
    first = next(
        (right.char_start + i for i, ch in enumerate(right.text) if _alnum(ch)), right.char_start
    )
    return any(ch in _LINE_BREAKS for ch in transcript[last:first])


def _closing(ch: str) -> bool:
    return ch in "\"'" or unicodedata.category(ch) in ("Pe", "Pf")


def _ends_sentence(transcript: str, unit: TextUnit, following: TextUnit, cased: bool) -> bool:
    body = strip_closers(unit.text)
    if not body:
        return False
    after = unit.char_start + len(body)
    glued = after < len(transcript) and _alnum(transcript[after])
    return ends_sentence(_token_before(transcript, after), following.text, cased, glued)


def strip_closers(text: str) -> str:
    """``text`` without closing quotes and brackets at its end (``done."`` -> ``done.``)."""
    while text and _closing(text[-1]):
        text = text[:-1]
    return text


def ends_sentence(token: str, following: str, cased: bool, glued: bool = False) -> bool:
    """Whether a sentence ends after ``token``, the one place these rules live.

    Args:
        token: the word ending at the candidate terminator, closers stripped
            (``"Mr."``, ``"done."``, ``"好啊！"``).
        following: the next word's text (``""`` at the end of the text).
        cased: the text uses capital letters (enables the lower-case rule).
        glued: a letter or digit follows the terminator at once (``3.14``).
    """
    token = strip_closers(token)
    if not token:
        return False
    last = token[-1]
    if last in _ALWAYS:
        return True
    if last not in _DOTS or glued:
        return False
    ellipsis = last == "…" or token.endswith("..")
    if not ellipsis:
        word = _word_of(token)
        key = word.lower()
        if is_abbreviation(word):
            return False
        if len(word) == 1 and word.isalpha() and word.isupper():
            return False  # an initial
        if key in _BEFORE_NUMBER and _starts_with_digit(following):
            return False
    return not (cased and _starts_lower(following))


def is_abbreviation(word: str) -> bool:
    """``word`` (final dots optional) is a known abbreviation or dotted initials (``U.S.``)."""
    key = _word_of(word).lower()
    return key in _ABBREVIATIONS or _dotted_letters(key)


def _word_of(token: str) -> str:
    """Letters, digits and inner dots of a token, without leading punctuation or final dots."""
    token = token.rstrip(".．…")
    begin = 0
    while begin < len(token) and not _alnum(token[begin]):
        begin += 1
    return token[begin:]


def _token_before(transcript: str, end: int) -> str:
    """The whitespace-delimited token ending at ``end``."""
    start = end
    while start > 0 and not transcript[start - 1].isspace():
        start -= 1
    return transcript[start:end]


def _dotted_letters(word: str) -> bool:
    parts = word.split(".")
    return len(parts) > 1 and all(len(part) == 1 and part.isalpha() for part in parts)


def _starts_with_digit(text: str) -> bool:
    first = next((ch for ch in text if _alnum(ch)), "")
    return first.isdigit()


def _starts_lower(text: str) -> bool:
    first = next((ch for ch in text if ch.isalpha()), "")
    return first.islower()
