"""Phones inside given word spans: ``qalign align --engine qwen3 --phones sphinx``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from qalign.aligner.sphinx.decoder import DecodeFailed, Decoder, check_english, pcm16
from qalign.aligner.sphinx.dictionary import dictionary_form
from qalign.alignment import Alignment, Phone
from qalign.audio import SAMPLE_RATE, AudioReader, iter_blocks
from qalign.errors import QalignError

_MARGIN = 0.05  # seconds of audio searched around a given word span


def word_phones(
    dec: Decoder,
    samples: np.ndarray,
    start: float,
    end: float,
    prons: tuple[tuple[str, ...], ...],
    offset: float = 0.0,
) -> list[Phone]:
    """Phones of one word whose span is ``[start, end]`` s of ``samples``; empty when sphinx cannot find it.

    Phone times come back shifted by ``offset`` seconds (where ``samples`` starts).

    The word is aligned in the span widened by :data:`_MARGIN` on each side, then
    its phone boundaries are mapped linearly from the extent sphinx found onto
    ``[start, end]``, so the phones tile the given span exactly.
    """
    if end - start < 0.03:  # under three frames: nothing to time
        return []
    a = max(0, int(round((start - _MARGIN) * SAMPLE_RATE)))
    b = min(len(samples), int(round((end + _MARGIN) * SAMPLE_RATE)))
    try:
        got = dec.decode(pcm16(samples[a:b]), [prons], phones=True, scores=False)  # phones only
    except DecodeFailed:
        return []
    if len(got) != 1 or not got[0].phones:
        return []
    word = got[0]
    lo, hi = word.start, word.end
    if hi <= lo:
        return []
    scale = (end - start) / (hi - lo)
    phones: list[Phone] = []
    for k, (p, s, e) in enumerate(word.phones):
        ps_ = start + (s - lo) * scale
        pe = end if k == len(word.phones) - 1 else start + (e - lo) * scale
        ps_ = min(max(ps_, phones[-1].end if phones else start), end)
        phones.append(Phone(p, ps_, max(ps_, min(pe, end))))
    if offset:
        return [Phone(ph.label, ph.start + offset, ph.end + offset) for ph in phones]
    return phones


def add_sphinx_phones(alignment: Alignment, audio: np.ndarray | str | Path) -> Alignment:
    """The alignment with its ``phones`` timed by sphinx inside each word's span.

    Word times stay as they are (another engine made them); each word's phones
    are searched in its span plus :data:`_MARGIN` (50 ms) either side and then
    fitted exactly into the span, so phones never leave their word. Words that
    are shorter than 30 ms, hold no letter or digit, or that sphinx cannot find
    get no phones. Phones the alignment already had are replaced.

    Args:
        alignment: an English alignment (``language`` ``"English"`` or ``None``).
        audio: the audio it was made from: mono float32 samples at 16 kHz, or a
            file, which is streamed word by word (memory does not grow with its
            length: one pass for the peak, then :class:`~qalign.audio.AudioReader`).

    Raises:
        LanguageError: the alignment is not English.
        MissingDependencyError: pocketsphinx is not installed.
        AudioError: the file cannot be read.
    """
    check_english(alignment.language)
    dec = Decoder()
    read = _reader(audio)
    phones: list[Phone] = []
    for unit in alignment.units:
        norm = dictionary_form(unit.text) or dictionary_form(unit.norm)
        if not norm:
            continue
        try:
            prons = dec.lexicon.pronunciations(norm)
        except QalignError:
            continue
        offset = max(0.0, unit.start - _MARGIN)
        samples = read(offset, unit.end + _MARGIN)
        phones.extend(
            word_phones(dec, samples, unit.start - offset, unit.end - offset, prons, offset)
        )
    return replace(alignment, phones=tuple(phones))


def _reader(audio: np.ndarray | str | Path) -> Callable[[float, float], np.ndarray]:
    """``read(start, end)`` seconds of ``audio``, peak-normalised as :func:`qalign.audio.load_audio` does."""
    if isinstance(audio, (str, Path)):
        peak = 0.0
        for block in iter_blocks(audio, 60.0):
            if block.size:
                peak = max(peak, float(np.max(np.abs(block))))
        return AudioReader(audio, scale=peak).read
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)

    def read(start: float, end: float) -> np.ndarray:
        return samples[int(round(start * SAMPLE_RATE)) : int(round(end * SAMPLE_RATE))]

    return read
