"""Splitting a transcript into the units the aligner times.

Each :class:`TextUnit` carries two strings:

* ``norm``: exactly what the official ``qwen-asr`` 0.0.6 package would feed the
  model for this unit, so timings match the reference implementation;
* ``text``: the unit as written in the transcript, punctuation and casing
  included, with its character offsets, so outputs read ``"Hello,"`` where the
  model saw ``Hello``.

How ``norm`` is made (word granularity)
---------------------------------------
A character is *kept* when it is a Unicode letter (``L*``), a number (``N*``)
or the ASCII apostrophe ``'``; everything else is dropped from ``norm`` (so
``e-mail`` gives ``email``, ``3.14`` gives ``314``, the curly ``’`` and
combining marks vanish: ``it’s`` gives ``its``). No Unicode normalisation is
applied: the model's tokenizer does that later.

* Chinese, Cantonese, English, German, Spanish, French, Italian, Portuguese and
  Russian: split on whitespace (``str.split`` semantics); each token is cleaned
  and then every CJK ideograph (the reference's blocks: U+4E00-9FFF, extensions
  A-E, U+F900-FAFF; not U+2F800-2FA1F) becomes a unit of its own, also inside a
  Latin run (``Qwen3-ASR很好`` gives ``Qwen3ASR``, ``很``, ``好``).
* Japanese: words from ``nagisa`` 0.2.11 (the ``ja`` extra,
  :mod:`qalign.aligner.qwen3.japanese_words`), each cleaned. nagisa
  applies NFKC to its input (full-width ``ＡＢＣ`` becomes ``ABC``, half-width
  katakana full-width), so ``norm`` holds the NFKC form, as in the reference,
  while ``text`` keeps the transcript's own characters. In the rare case where
  NFKC turns one character into several that nagisa then splits (``½`` gives
  ``1⁄2``), the first unit shows the character and the others get empty text.
* Korean: each whitespace-separated word (eojeol) is one unit, cleaned, with no
  further split. The reference splits eojeols with soynlp's ``LTokenizer`` and a
  word-score dictionary bundled in its package (``안녕하세요`` gives ``안녕``,
  ``하세요``). We do not ship that dictionary, and soynlp is GPL-3.0 licensed;
  ``LTokenizer`` *without* scores keeps every eojeol whole, which is exactly
  what this module does without the dependency, and what transformers 5.24's
  native processor does. Korean transcripts therefore give the same units as
  transformers 5.24 and differ from qwen-asr 0.0.6 wherever its dictionary
  splits a word (see ``tests/aligner/test_units_parity.py``).

A token whose cleaned form is empty (``—``, ``&``, an emoji) yields no unit, as
in the reference. An empty or punctuation-only transcript yields no units; the
caller reports that as a :class:`qalign.errors.TranscriptError` (the reference
would still run the model and return nothing).

Character granularity
---------------------
``granularity="char"`` makes every letter or digit its own unit in every
language (``norm`` is that one character; the apostrophe is not a unit here).
It needs no word splitter, so Japanese works without nagisa.

How ``text`` is made
--------------------
A unit's *core* runs from the first to the last transcript character that
produced its ``norm`` (so ``e-mail`` is one piece). The characters between two
cores are shared out so that nothing but whitespace is left over:

* characters glued to a word (no whitespace between) stay with that word:
  ``Hello,`` and ``(but``;
* a run glued to both neighbours (CJK text, ``3-`` in char granularity) goes to
  the previous unit, except its trailing opening quotes and brackets, which go
  to the next: ``話：`` + ``「好``;
* a free-standing run (``—``, ``&``, ``«``) goes to the previous unit, unless it
  is made of opening quotes/brackets (``“ « ( ¿``), which go to the next;
  before the first unit everything goes to the first unit, after the last unit
  to the last.

So ``text`` may contain inner whitespace (``"author —"``) but never starts or
ends with it, ``transcript[char_start:char_end] == text`` always holds, and
units are in order and never overlap.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from qalign.aligner.languages import SUPPORTED, resolve_language
from qalign.errors import QalignError

#: Accepted values of ``granularity``.
GRANULARITIES: tuple[str, ...] = ("word", "char")

# Characters that are not whitespace for str.split but are invisible and must
# not end up at the edge of a unit's display text.
_INVISIBLE = frozenset("\ufeff\u200b\u2060")
# Openers that Unicode files as plain punctuation (Po).
_EXTRA_OPENERS = frozenset("¿¡")


@dataclass(frozen=True, slots=True)
class TextUnit:
    """One unit of a transcript, as the model sees it and as the transcript shows it.

    Attributes:
        norm: the exact string fed to the model for this unit (letters, digits, ``'``).
        text: the unit's text in the transcript, punctuation and casing included.
        char_start: offset (characters, not bytes) of ``text`` in the transcript.
        char_end: offset one past the end of ``text``.
    """

    norm: str
    text: str
    char_start: int
    char_end: int

    def __post_init__(self) -> None:
        if not 0 <= self.char_start <= self.char_end or len(self.text) != (
            self.char_end - self.char_start
        ):
            raise ValueError(
                f"text unit {self.text!r}: offsets {self.char_start}..{self.char_end} "
                f"do not fit its {len(self.text)} characters"
            )


class Core(NamedTuple):
    """What the model sees of one unit (``norm``) and the transcript span that made it
    (``start:end``, from its first to its last kept character)."""

    norm: str
    start: int
    end: int


def keeps_char(ch: str) -> bool:
    """Whether the reference keeps ``ch`` in a unit: a letter, a number or ASCII ``'``."""
    return ch == "'" or unicodedata.category(ch)[0] in "LN"


def is_cjk_ideograph(ch: str) -> bool:
    """Whether ``ch`` is in the CJK blocks the reference makes one unit per character.

    The ranges are the reference's own: the CJK Compatibility Ideographs
    Supplement (U+2F800-2FA1F) and extensions F and later are not included.
    """
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
    )


def split_units(transcript: str, language: str, granularity: str = "word") -> list[TextUnit]:
    """The alignment units of ``transcript``, in order.

    Args:
        transcript: the text to align (any punctuation, casing and whitespace).
        language: a canonical name from :data:`qalign.aligner.languages.SUPPORTED`
            (pass user input through :func:`~qalign.aligner.languages.resolve_language`
            first; anything else is resolved here). Only Japanese and Korean
            change the word splitting.
        granularity: ``"word"`` (the reference's units) or ``"char"`` (every
            letter and digit on its own).

    Returns:
        The units; empty when the transcript has no letter or digit (nor, at
        word granularity, an apostrophe).

    Raises:
        LanguageError: ``language`` is not one of the eleven supported languages.
        MissingDependencyError: Japanese at word granularity without ``nagisa``.
        QalignError: an unknown granularity.
    """
    if language not in SUPPORTED:
        language = resolve_language(language)
    if granularity == "char":
        cores = _char_cores(transcript)
    elif granularity == "word":
        if language == "Japanese":
            # The Japanese splitter builds on this module's cores and needs the ja extra.
            from qalign.aligner.qwen3.japanese_words import japanese_cores

            cores = japanese_cores(transcript)
        else:
            cores = whitespace_cores(transcript, split_cjk=language != "Korean")
    else:
        raise QalignError(
            f"unknown granularity {granularity!r}; choose one of {', '.join(GRANULARITIES)}"
        )
    return _attach(transcript, cores)


# --- units the model sees ---------------------------------------------------


def whitespace_cores(text: str, *, split_cjk: bool) -> list[Core]:
    """Whitespace tokens, cleaned, with CJK ideographs split off when ``split_cjk``."""
    cores: list[Core] = []
    n = len(text)
    i = 0
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        kept: list[str] = []
        first = last = -1
        while i < n and not text[i].isspace():
            ch = text[i]
            if keeps_char(ch):
                if split_cjk and is_cjk_ideograph(ch):
                    if kept:
                        cores.append(Core("".join(kept), first, last + 1))
                        kept = []
                    cores.append(Core(ch, i, i + 1))
                else:
                    if not kept:
                        first = i
                    kept.append(ch)
                    last = i
            i += 1
        if kept:
            cores.append(Core("".join(kept), first, last + 1))
    return cores


def _char_cores(text: str) -> list[Core]:
    return [Core(ch, i, i + 1) for i, ch in enumerate(text) if unicodedata.category(ch)[0] in "LN"]


# --- display text -----------------------------------------------------------


def _blank(ch: str) -> bool:
    return ch.isspace() or ch in _INVISIBLE


def _opens(ch: str, *, glued: bool = False) -> bool:
    """An opening quote or bracket (``glued``: also ASCII ``"`` right before a word)."""
    if ch in _EXTRA_OPENERS or (glued and ch == '"'):
        return True
    return unicodedata.category(ch) in ("Ps", "Pi")


def _runs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Maximal runs of non-blank characters in ``text[start:end]``."""
    runs: list[tuple[int, int]] = []
    i = start
    while i < end:
        if _blank(text[i]):
            i += 1
            continue
        j = i
        while j < end and not _blank(text[j]):
            j += 1
        runs.append((i, j))
        i = j
    return runs


def _split_gap(text: str, start: int, end: int, has_prev: bool, has_next: bool) -> tuple[int, int]:
    """Share ``text[start:end]`` (between two cores) out.

    Returns ``(left_end, right_start)``: the previous unit's text extends to
    ``left_end``, the next unit's starts at ``right_start``; what lies between
    is blank.
    """
    runs = _runs(text, start, end)
    if not runs:
        return start, end
    if not has_prev:
        return start, runs[0][0]
    if not has_next:
        return runs[-1][1], end
    if runs == [(start, end)]:
        cut = end
        while cut > start and _opens(text[cut - 1], glued=True):
            cut -= 1
        return cut, cut
    first_right = len(runs)
    for index, (run_start, run_end) in enumerate(runs):
        if run_start == start:
            continue  # glued to the previous word
        if run_end == end or all(_opens(ch) for ch in text[run_start:run_end]):
            first_right = index
            break
    left_end = runs[first_right - 1][1] if first_right > 0 else start
    right_start = runs[first_right][0] if first_right < len(runs) else end
    return left_end, right_start


def _attach(text: str, cores: list[Core]) -> list[TextUnit]:
    if not cores:
        return []
    starts = [core.start for core in cores]
    ends = [core.end for core in cores]
    count = len(cores)
    for k in range(count + 1):
        gap_start = cores[k - 1].end if k > 0 else 0
        gap_end = cores[k].start if k < count else len(text)
        left_end, right_start = _split_gap(text, gap_start, gap_end, k > 0, k < count)
        if k > 0:
            ends[k - 1] = left_end
        if k < count:
            starts[k] = right_start
    for k, core in enumerate(cores):
        if core.start == core.end:
            # A word with an empty span (the second word of one expanded character)
            # takes the gap's text; blanks at its edges belong to no word.
            while starts[k] < ends[k] and _blank(text[starts[k]]):
                starts[k] += 1
            while ends[k] > starts[k] and _blank(text[ends[k] - 1]):
                ends[k] -= 1
    return [
        TextUnit(core.norm, text[start:end], start, end)
        for core, start, end in zip(cores, starts, ends)
    ]
