"""What the sphinx engine aligns: transcript words, noise markers and pronunciations.

:func:`spoken_words` turns a transcript into :class:`SpokenWord` items, one per
unit of :func:`qalign.aligner.qwen3.units.split_units` that holds something to say:

* **Noise markers** (``[laughter]``, ``<VOCNOISE>``, ``{noise}``, ``[adif]``;
  any text inside square, angle or curly brackets) are not aligned. Their text
  stays in the output, attached to the previous word's display text (or to the
  next word's when the transcript starts with one), so nothing of the
  transcript is lost.
* ``norm`` is the **dictionary form**: lower case, curly apostrophes made
  straight, other punctuation dropped, except ``.`` and ``,`` between digits
  and ``-``/``/`` between letters, which :mod:`qalign.aligner.sphinx.g2p` uses
  (``3.5``, ``e-mail``).

:class:`Lexicon` gives each dictionary form its pronunciations: every variant
the dictionary lists (``read``, ``read(2)``), after the readings of a few
abbreviations (``dr`` → ``doctor``, :data:`ABBREVIATIONS`), else the guesses of
:func:`qalign.aligner.sphinx.g2p.guess_pronunciations` (one, or several readings of a number).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from qalign.aligner.sphinx.g2p import guess_pronunciations
from qalign.errors import QalignError

# Text in brackets is a noise or event marker, not speech. No nesting, one line.
MARKER = re.compile(r"\[[^\[\]\n]*\]|<[^<>\n]*>|\{[^{}\n]*\}")

# Abbreviations read as words; their readings come before the dictionary's own
# entry ("dr" is listed as "drive").
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "dr": ("doctor", "drive"),
    "mr": ("mister",),
    "mrs": ("missus",),
    "ms": ("miz",),
    "st": ("saint", "street"),
    "jr": ("junior",),
    "sr": ("senior",),
    "vs": ("versus",),
    "etc": ("et cetera",),
    "prof": ("professor",),
    "mt": ("mount",),
}

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


@dataclass(frozen=True, slots=True)
class SpokenWord:
    """One word to align.

    Attributes:
        norm: the dictionary form (lower case; see the module docstring).
        text: display text: the transcript's characters, markers next to it included.
        char_start: offset of ``text`` in the transcript (characters).
        char_end: offset one past the end of ``text``.
    """

    norm: str
    text: str
    char_start: int
    char_end: int


def dictionary_form(text: str) -> str:
    """The lower-case dictionary form of a token's text (markers removed).

    >>> dictionary_form("“Don’t,")
    "don't"
    >>> dictionary_form("3.5%")
    '3.5'
    """
    spoken = MARKER.sub(" ", text).translate(_APOSTROPHES).lower()
    out: list[str] = []
    for i, ch in enumerate(spoken):
        if ch.isalnum() or ch == "'":
            out.append(ch)
        elif (
            ch in ".,"
            and 0 < i < len(spoken) - 1
            and spoken[i - 1].isdigit()
            and spoken[i + 1].isdigit()
        ):
            out.append(ch)
        elif (
            ch in "-/"
            and out
            and out[-1].isalnum()
            and i + 1 < len(spoken)
            and spoken[i + 1].isalnum()
        ):
            out.append(ch)
    return "".join(out).strip("'")


def spoken_words(transcript: str) -> list[SpokenWord]:
    """The words of an English transcript to align, markers folded into neighbours.

    Returns an empty list when nothing is left to say.
    """
    from qalign.aligner.qwen3.units import split_units

    # Markers are found in the whole transcript: one may span several units ("[laughs loudly]").
    masked = MARKER.sub(lambda m: " " * len(m.group()), transcript)
    words: list[SpokenWord] = []
    pending_start: int | None = None  # a marker before the first word
    for unit in split_units(transcript, "English"):
        norm = dictionary_form(masked[unit.char_start : unit.char_end])
        if not norm:  # a marker (or a token made of one)
            if words:
                last = words[-1]
                words[-1] = SpokenWord(
                    last.norm,
                    transcript[last.char_start : unit.char_end],
                    last.char_start,
                    unit.char_end,
                )
            elif pending_start is None:
                pending_start = unit.char_start
            continue
        start = unit.char_start if pending_start is None else pending_start
        pending_start = None
        words.append(SpokenWord(norm, transcript[start : unit.char_end], start, unit.char_end))
    return words


class Lexicon:
    """Pronunciations for dictionary forms: the dictionary's variants, else a guess.

    Args:
        lookup: word → space-separated ARPAbet phones, or ``None`` when absent
            (``Decoder.lookup_word`` of pocketsphinx). Variants are looked up as
            ``word(2)``, ``word(3)``, ...
    """

    def __init__(self, lookup: Callable[[str], str | None]) -> None:
        self._lookup = lookup
        self._cache: dict[str, tuple[tuple[str, ...], ...]] = {}
        self.guessed: set[str] = set()
        """Dictionary forms whose pronunciation was guessed (not in the dictionary)."""

    def pronunciations(self, norm: str) -> tuple[tuple[str, ...], ...]:
        """All pronunciations of ``norm``, the dictionary's first; never empty.

        Raises:
            QalignError: ``norm`` holds nothing pronounceable (no letter or digit).
        """
        cached = self._cache.get(norm)
        if cached is not None:
            return cached
        variants: list[tuple[str, ...]] = []
        for reading in ABBREVIATIONS.get(norm, ()):
            phones = [self._lookup(w) for w in reading.split()]
            if all(phones):
                variants.append(tuple(" ".join(p for p in phones if p).split()))
        first = self._lookup(norm)
        if first:
            variants.append(tuple(first.split()))
            k = 2
            while (alt := self._lookup(f"{norm}({k})")) is not None:
                variants.append(tuple(alt.split()))
                k += 1
        else:
            guesses = guess_pronunciations(norm, self._lookup)
            if not guesses:
                raise QalignError(f"no pronunciation can be made for {norm!r}")
            variants.extend(guesses)
            self.guessed.add(norm)
        result = tuple(dict.fromkeys(variants))  # unique, in order
        self._cache[norm] = result
        return result
