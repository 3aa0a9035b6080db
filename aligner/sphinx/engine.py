"""Offline English alignment with pocketsphinx: word and phone timings, no GPU, no download.

pocketsphinx 5 (the ``sphinx`` extra) ships an English acoustic model and the
CMU pronouncing dictionary inside its wheel. :class:`SphinxAligner` uses them
to time every word and every phone (ARPAbet, as the dictionary writes them) of
an English transcript, on the CPU, at 10 ms resolution (the model's frame rate).

How one file is aligned
-----------------------
The transcript is split into words (:func:`qalign.aligner.sphinx.dictionary.spoken_words`):
noise markers such as ``[laughter]`` are not aligned but kept in a neighbour's
display text; words missing from the dictionary get a guessed pronunciation
(:mod:`qalign.aligner.sphinx.g2p`). Audio of any length then goes through the
long-form layer (:mod:`qalign.aligner.longform`), which cuts it into windows
of about :attr:`SphinxWindows.window_seconds` at pauses and offers each a run
of words; :class:`SphinxWindows` decodes one window against a grammar of those
words that may end after any of them (:mod:`qalign.aligner.sphinx.decoder`).
When the strict grammar finds no path, a relaxed one in which words may be
skipped is tried. Words placed are anchors; what is not placed comes out
``unaligned`` with interpolated times, and the summary says where.

Scores come from :mod:`qalign.aligner.confidence`: how the forced path fits a word's
frames against a free phone loop, which phones the loop hears there, the word
posterior, the word's speaking rate and its neighbours; a placed word scoring below
:data:`~qalign.aligner.confidence.UNCERTAIN_BELOW` is ``uncertain``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from qalign.aligner.confidence import UNCERTAIN_BELOW
from qalign.aligner.longform.aligner import LongFormAligner
from qalign.aligner.longform.engine import Placed, Script, WindowEngine, WindowJob
from qalign.aligner.longform.walk import Progress
from qalign.aligner.sphinx.decoder import (
    FRAME_SECONDS,
    DecodeFailed,
    Decoder,
    check_english,
    pcm16,
    pocketsphinx_version,
    require_pocketsphinx,
)
from qalign.aligner.sphinx.dictionary import spoken_words
from qalign.alignment import Alignment, Phone, Source
from qalign.errors import QalignError, TranscriptError

logger = logging.getLogger("qalign")


class SphinxWindows(WindowEngine):
    """pocketsphinx as a :class:`WindowEngine`: one grammar decode per window.

    Args:
        window_seconds: target window length.
        phones: time phones (the second pass); ``False`` roughly halves the time.
    """

    name = "sphinx"
    keep_score = 0.0
    sure_score = UNCERTAIN_BELOW  # see qalign.aligner.confidence
    min_unit_seconds = 0.03  # three frames: the shortest word the decoder can place

    def __init__(self, *, window_seconds: float = 30.0, phones: bool = True) -> None:
        if window_seconds <= 1.0:
            raise QalignError(f"window_seconds must be above 1 s, not {window_seconds}")
        require_pocketsphinx()
        self.window_seconds = window_seconds
        self.max_window_seconds = 2.0 * window_seconds
        self.phones = phones
        self._decoder: Decoder | None = None

    @property
    def source(self) -> Source:
        return Source(
            engine="sphinx", model=f"pocketsphinx {pocketsphinx_version()} en-us", decoder=None
        )

    def decoder(self) -> Decoder:
        """The pocketsphinx decoder (built on first use; loading the model takes ~1 s)."""
        if self._decoder is None:
            self._decoder = Decoder()
        return self._decoder

    def script(self, transcript: str, language: str | None, label: str) -> Script:
        check_english(language)
        words = spoken_words(transcript)
        if not words:
            raise TranscriptError(
                label, "has no words to align (only punctuation or noise markers)"
            )
        dec = self.decoder()
        try:
            prons = [dec.lexicon.pronunciations(w.norm) for w in words]
        except QalignError as exc:
            exc.message = f"{label}: {exc.message}"  # keep the error's class and exit code
            raise
        guessed = sorted({w.norm for w in words} & dec.lexicon.guessed)
        if guessed:
            logger.info(
                "%s: guessed pronunciations for %d word(s) not in the dictionary: %s",
                label,
                len(guessed),
                ", ".join(guessed[:10]),
            )
        weights = tuple(float(min(len(v) for v in variants)) for variants in prons)
        return Script("English", tuple(words), weights, data=prons)

    def align_windows(self, script: Script, jobs: Sequence[WindowJob]) -> list[list[Placed]]:
        return [self._one(script, job) for job in jobs]

    def _one(self, script: Script, job: WindowJob) -> list[Placed]:
        if job.stop <= job.first or job.samples.size < 480:
            return []
        dec = self.decoder()
        prons = script.data[job.first : job.stop]
        pcm = pcm16(job.samples)
        ends = range(1, len(prons) + 1) if job.open_end else None
        starts = range(len(prons)) if job.open_start else None
        try:
            got = dec.decode(pcm, prons, ends=ends, starts=starts, phones=self.phones)
        except DecodeFailed:
            try:
                got = dec.decode(
                    pcm, prons, ends=ends, starts=starts, relaxed=True, phones=self.phones
                )
            except DecodeFailed as exc:
                logger.debug("sphinx: no path through a window of %d words (%s)", len(prons), exc)
                return []
        limit = job.samples.size / 16000
        return [
            Placed(
                job.first + t.index,
                t.start * FRAME_SECONDS,
                min(limit, t.end * FRAME_SECONDS),
                t.score,
                tuple(
                    (p, a * FRAME_SECONDS, min(limit, b * FRAME_SECONDS)) for p, a, b in t.phones
                ),
            )
            for t in got
        ]

    def finish(self, alignment: Alignment, read) -> Alignment:  # type: ignore[no-untyped-def]
        """Phones for kept words whose phone pass failed (timed inside the word's span)."""
        if not self.phones:
            return alignment
        import bisect
        from dataclasses import replace

        from qalign.aligner.sphinx.phones import word_phones

        starts = [p.start for p in alignment.phones]
        missing = [
            u
            for u in alignment.units
            if u.status != "unaligned"
            and u.end - u.start >= 0.03
            and bisect.bisect_left(starts, u.start - 1e-6)
            == bisect.bisect_left(starts, u.end - 1e-6)
        ]
        if not missing:
            return alignment
        dec = self.decoder()
        extra: list[Phone] = []
        for unit in missing:
            samples = read(max(0.0, unit.start - 0.05), unit.end + 0.05)
            offset = max(0.0, unit.start - 0.05)
            try:
                prons = dec.lexicon.pronunciations(unit.norm)
            except QalignError:
                continue
            extra.extend(
                word_phones(dec, samples, unit.start - offset, unit.end - offset, prons, offset)
            )
        phones = sorted([*alignment.phones, *extra], key=lambda p: p.start)
        return replace(alignment, phones=tuple(phones))


class SphinxAligner(LongFormAligner):
    """Word and phone alignment of English speech with pocketsphinx (offline, CPU), any length.

    Args:
        chunk_seconds: target window length (seconds).
        phones: time phones (the second pass); ``False`` roughly halves the time.
        progress: called as ``progress(seconds_done, seconds_total)`` after each window.

    Raises:
        MissingDependencyError: pocketsphinx is not installed (``pip install "qalign[sphinx]"``).
    """

    def __init__(
        self,
        *,
        chunk_seconds: float = 30.0,
        phones: bool = True,
        progress: Progress | None = None,
        vad: bool = True,
    ) -> None:
        super().__init__(
            SphinxWindows(window_seconds=chunk_seconds, phones=phones), progress=progress, vad=vad
        )
        self.chunk_seconds = chunk_seconds
        self.phones = phones


__all__ = ["SphinxAligner", "SphinxWindows", "np"]
