"""Chunk results put back together: one transcript text and one alignment per recording.

Long audio is transcribed and aligned in chunks that tile it without overlap
(:mod:`qalign.asr.chunking`); this module joins what the chunks give:

* :func:`join_texts`: the chunk texts as one transcript, with where each starts in it
  (a space between pieces, none between two characters of scripts written
  without spaces);
* :func:`merge_chunks`: the chunk alignments as one alignment of the recording,
  times shifted by each chunk's start and kept inside the chunk;
* :func:`dominant_language`: the language most of the text is in.

Only the data model is needed (no numpy, no torch).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qalign.alignment import Alignment, Segment, Source, Unit

# -- text ---------------------------------------------------------------------------------


def _unspaced(ch: str) -> bool:
    """Whether ``ch`` belongs to a script written without spaces (Han, kana, CJK punctuation)."""
    code = ord(ch)
    if 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF:  # CJK and full-width punctuation
        return True
    return unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA"))


def join_texts(texts: Sequence[str]) -> tuple[str, list[int]]:
    """Join chunk texts into one transcript, and where each one starts in it.

    Pieces are separated by one space, except between two characters of scripts
    written without spaces (Chinese, Japanese), which are joined directly.
    Empty pieces add nothing; their offset is where they would have started.
    """
    out = ""
    offsets: list[int] = []
    for text in texts:
        if out and text and not (_unspaced(out[-1]) and _unspaced(text[0])):
            out += " "
        offsets.append(len(out))
        out += text
    return out, offsets


def dominant_language(weighted: Sequence[tuple[str | None, int]]) -> str | None:
    counts: Counter[str] = Counter()
    for language, weight in weighted:
        if language:
            counts[language] += max(weight, 1)
    if not counts:
        return None
    best = max(counts.values())
    # Ties go to the language heard first.
    return next(lang for lang, _ in weighted if lang and counts[lang] == best)


# -- merging ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignedChunk:
    """One chunk's piece of the result.

    Attributes:
        start: where the chunk starts in the recording, in seconds.
        end: where it ends, in seconds.
        text: the chunk's transcript (what was aligned); ``""`` for silence.
        alignment: the chunk aligned against its own audio (times from 0), or
            ``None`` when it has no text.
    """

    start: float
    end: float
    text: str
    alignment: Alignment | None


def merge_chunks(
    chunks: Sequence[AlignedChunk],
    duration: float,
    *,
    language: str | None = None,
    source: Source | None = None,
) -> Alignment:
    """One alignment of the whole recording from its chunks' alignments.

    Unit and segment times are shifted by their chunk's start and clamped into
    the chunk, so times never go back across a cut and never pass ``duration``.
    Character offsets are shifted to the joined transcript (:func:`join_texts`),
    and segments' unit ranges to the merged unit list.

    Args:
        chunks: the chunks in order; they must not overlap.
        duration: length of the recording in seconds.
        language: the recording's language; default: the language of most units.
        source: what produced the timings; default: the first chunk alignment's source.
    """
    _, offsets = join_texts([c.text for c in chunks])
    units: list[Unit] = []
    segments: list[Segment] = []
    weighted: list[tuple[str | None, int]] = []
    for chunk, char_offset in zip(chunks, offsets):
        if chunk.alignment is None:
            continue
        lo, hi = chunk.start, min(chunk.end, duration)

        def place(t: float, lo: float = lo, hi: float = hi, shift: float = chunk.start) -> float:
            return min(max(t + shift, lo), hi)

        first_unit = len(units)
        for u in chunk.alignment.units:
            units.append(
                replace(
                    u,
                    start=place(u.start),
                    end=place(u.end),
                    char_start=None if u.char_start is None else u.char_start + char_offset,
                    char_end=None if u.char_end is None else u.char_end + char_offset,
                )
            )
        for s in chunk.alignment.segments:
            segments.append(
                replace(
                    s,
                    start=place(s.start),
                    end=place(s.end),
                    unit_start=s.unit_start + first_unit,
                    unit_end=s.unit_end + first_unit,
                )
            )
        weighted.append((chunk.alignment.language, len(chunk.alignment.units)))
        if source is None:
            source = chunk.alignment.source
    return Alignment(
        units=tuple(units),
        segments=tuple(segments),
        duration=duration,
        language=language if language is not None else dominant_language(weighted),
        source=source or Source("qwen3"),
    )
