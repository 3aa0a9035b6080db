"""pocketsphinx's decoder, driven through finite-state grammars built per window.

A grammar is the window's words in order, every dictionary variant of each,
with optional silence, noise and ``uh``/``um`` fillers between words (they are
not reported). The grammar may end after any word of a range (more text than
audio: the decoder picks where the speech ends) and, relaxed, may skip words at
a small cost each. Beams are wide (1e-100): the default 1e-48 loses the path on
spontaneous speech ("Final result does not match the grammar"). A second pass
(``set_alignment``) times phones inside the words found; ``hyp()`` is never
called after it (it crashes pocketsphinx 5.1).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qalign.aligner import confidence
from qalign.aligner.sphinx.dictionary import Lexicon
from qalign.errors import LanguageError, MissingDependencyError, QalignError

logger = logging.getLogger("qalign")

FRAME_SECONDS = 0.01
"""pocketsphinx's frame step (100 frames per second): the resolution of every time."""

LANGUAGES = ("English",)

_FILLERS = {"<qalign-uh>": "AH", "<qalign-um>": "AH M"}
_SKIP_PROB = 1e-8  # relaxed grammar: cost of leaving one word out
_MAX_SKIP = 12  # relaxed grammar: most words one jump leaves out (the end is always reachable)
# Optional uh/um between words, for hesitations the transcript leaves out. On the
# MFA corpus (whose transcripts do include them) the mean word boundary shift is
# 35.6 ms at 1e-6, 34.7 ms at 1e-10 and 32.4 ms at 1e-20 (effectively off); with
# um/uh deleted from the transcripts it is 50.7, 52.9 and 57.0 ms. 1e-10 is between.
_FILLER_PROB = 1e-10
_DECODER_CONFIG: dict[str, Any] = {
    "beam": 1e-100,
    "pbeam": 1e-100,
    "wbeam": 1e-80,
    "fillprob": 1e-8,  # [NOISE] between words (breaths, clicks); more lets it swallow speech
    "bestpath": False,  # the lattice's best path can differ from the grammar path and break the phone pass
    "fsgusealtpron": False,  # variants are added to the grammar explicitly
    "loglevel": "FATAL",
}


def require_pocketsphinx() -> None:
    """Raise :class:`~qalign.errors.MissingDependencyError` now when pocketsphinx is missing."""
    _import_pocketsphinx()


def _import_pocketsphinx() -> Any:
    try:
        import pocketsphinx
    except ImportError:
        raise MissingDependencyError(
            "pocketsphinx", "sphinx", "the offline English engine"
        ) from None
    return pocketsphinx


def pocketsphinx_version() -> str:
    """The installed pocketsphinx version (``"5.1.1"``), or ``"?"``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pocketsphinx")
    except PackageNotFoundError:  # pragma: no cover - imported from a source tree
        return "?"


def check_english(language: str | None) -> None:
    if language is None:
        return
    try:
        from qalign.aligner.languages import resolve_language

        canonical = resolve_language(language)
    except LanguageError:
        raise LanguageError(language, LANGUAGES) from None
    if canonical not in LANGUAGES:
        raise LanguageError(language, LANGUAGES)


NOISE_FLOOR = 1e-4
"""RMS of the white noise (-80 dBFS) added before decoding; see :func:`pcm16`."""


def pcm16(samples: np.ndarray) -> bytes:
    """float samples in [-1, 1] → 16-bit little-endian PCM bytes, over a faint noise floor.

    Digital silence (exact zeros: synthetic speech, edited pauses) has no usable
    log energy, and the decoder then loses the grammar path ("no path" on
    espeak-ng speech). White noise at -80 dBFS, far below any microphone's own,
    fixes that. It is seeded, so results are reproducible (pocketsphinx's own
    ``dither`` draws new noise on every pass).
    """
    noise = np.random.default_rng(0).standard_normal(len(samples)) * NOISE_FLOOR
    return (np.clip(samples + noise, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


# --- results of one decoding pass ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Timed:
    """A word found by the decoder: chunk-local index, frames (end exclusive), phones."""

    index: int
    start: int
    end: int
    score: float | None
    phones: tuple[tuple[str, int, int], ...] = ()


class DecodeFailed(Exception):
    """pocketsphinx found no path through the grammar (or its phone pass failed)."""


class Decoder:
    """One pocketsphinx decoder, with grammar words named so results map back to indexes."""

    def __init__(self) -> None:
        ps = _import_pocketsphinx()
        try:
            self._ps = ps.Decoder(**_DECODER_CONFIG)
        except (RuntimeError, ValueError) as exc:  # pragma: no cover - broken install
            raise QalignError(f"pocketsphinx could not load its English model: {exc}") from None
        self.lexicon = Lexicon(self._ps.lookup_word)
        # Grammar words are named per pronunciation ("<q17>"); a pronunciation used
        # n times in one grammar needs n names, so results map back to one word each.
        self._names: dict[tuple[str, ...], list[str]] = {}
        self._count = 0
        self._loop_ready = False
        for name, phones in _FILLERS.items():
            self._ps.add_word(name, phones, False)

    def _name(self, phones: tuple[str, ...], occurrence: int) -> str:
        names = self._names.setdefault(phones, [])
        while len(names) <= occurrence:
            self._count += 1
            name = f"<q{self._count}>"
            # update=False: the grammar search built next by add_fsg reads the new words.
            self._ps.add_word(name, " ".join(phones), False)
            names.append(name)
        return names[occurrence]

    def decode(
        self,
        pcm: bytes,
        prons: Sequence[tuple[tuple[str, ...], ...]],
        *,
        ends: range | None = None,
        starts: range | None = None,
        relaxed: bool = False,
        phones: bool = True,
        scores: bool = True,
    ) -> list[Timed]:
        """Align ``pcm`` to words with pronunciations ``prons``; results in word order.

        Args:
            ends: word counts the grammar may stop after (``None``: all words).
            starts: words the grammar may begin at (``None``: the first only), at no cost:
                the audio may start inside the text, the acoustics choose where.
            relaxed: any word may be skipped (at a cost of :data:`_SKIP_PROB`).
            phones: run the phone pass; when it fails the words come back without phones.
            scores: score the words (:mod:`qalign.aligner.confidence`; costs a phone-loop
                pass over ``pcm``); ``False`` keeps the decoder's word posteriors.

        Raises:
            DecodeFailed: no path reaches the end of the grammar.
        """
        n = len(prons)
        used: dict[tuple[str, ...], int] = {}
        owner: dict[str, int] = {}
        pron_of: dict[str, tuple[str, ...]] = {}
        names: list[list[str]] = []
        for i, variants in enumerate(prons):
            names.append([])
            for pron in variants:
                name = self._name(pron, used.get(pron, 0))
                used[pron] = used.get(pron, 0) + 1
                owner[name] = i
                pron_of[name] = pron
                names[i].append(name)
        # States 0..n sit between words; n + 1 is the final state. Null transitions
        # are avoided: a hypothesis that took one cannot be phone-aligned, and
        # pocketsphinx follows only one at a time. So an end or a skip is a copy
        # of a word's transition with another source or target state.
        final = n + 1
        allowed = sorted(set(ends)) if ends is not None else [n]
        reach = _MAX_SKIP if relaxed else 0
        begin = set(starts) if starts is not None else set()
        transitions: list[tuple[Any, ...]] = []
        for j in range(n):
            targets = [(j + 1, 1.0)]
            targets += [(final, _skip_prob(e - j - 1)) for e in allowed if 0 <= e - j - 1 <= reach]
            sources = list(range(max(0, j - reach), j + 1))
            if j in begin and sources[0] > 0:
                sources.insert(0, 0)
            for i in sources:
                # An open start enters word j from the first state at no cost.
                skip = 1.0 if i == 0 and j in begin else _skip_prob(j - i)
                for target, p_end in targets:
                    p = skip * p_end
                    transitions += [(i, target, max(p, 1e-32), name) for name in names[j]]
        if allowed and allowed[0] == 0 or (relaxed and n <= reach):
            transitions.append((0, final, 1.0 if allowed[0] == 0 else _skip_prob(n)))
        for state in range(final + 1):
            for filler in _FILLERS:
                transitions.append((state, state, _FILLER_PROB, filler))
        ps = self._ps
        try:
            fsg = ps.create_fsg("qalign", 0, final, transitions)
            ps.add_fsg("qalign", fsg)
            ps.activate_search("qalign")
            ps.start_utt()
            ps.process_raw(pcm, full_utt=True)
            ps.end_utt()
            segments = ps.seg()
        except (RuntimeError, ValueError) as exc:
            raise DecodeFailed(str(exc)) from None
        if segments is None:
            raise DecodeFailed("no path through the grammar")
        segments = [s for s in segments if s.word in owner]
        words = [
            Timed(owner[s.word], s.start_frame, s.end_frame + 1, _prob(s.prob)) for s in segments
        ]
        # What the scores are made of, read now: the next search replaces these results.
        forced = {owner[s.word]: (_log_score(s.ascore), pron_of[s.word]) for s in segments}
        if not phones or not words:
            return self._scored(pcm, words, words, forced, scores)
        try:
            ps.set_alignment()
            ps.start_utt()
            ps.process_raw(pcm, full_utt=True)
            ps.end_utt()
            detailed: list[Timed] = []
            k = 0
            for entry in ps.get_alignment():  # read each entry now: they share one C iterator
                if entry.name not in owner:
                    continue
                plist = tuple((p.name, p.start, p.start + p.duration) for p in entry)
                score = words[k].score if k < len(words) else None
                detailed.append(
                    Timed(
                        owner[entry.name], entry.start, entry.start + entry.duration, score, plist
                    )
                )
                k += 1
        except (RuntimeError, ValueError, TypeError) as exc:
            logger.debug("sphinx phone pass failed (%s); timing phones word by word", exc)
            return self._scored(pcm, words, words, forced, scores)
        if [w.index for w in detailed] != [w.index for w in words]:
            return self._scored(pcm, words, words, forced, scores)
        return self._scored(pcm, words, detailed, forced, scores)

    def _scored(
        self,
        pcm: bytes,
        words: list[Timed],
        result: list[Timed],
        forced: dict[int, tuple[float, tuple[str, ...]]],
        scores: bool = True,
    ) -> list[Timed]:
        """``result`` with scores from :mod:`qalign.aligner.confidence`.

        The evidence: the first pass's word frames and acoustic scores against a free
        phone loop decoded over the same audio (how much better any phone sequence fits
        those frames, and which phones it hears there), and the word posteriors. Words
        of the grammar before the last one placed that are missing were skipped.
        """
        if not words or not scores:
            return result
        loop = self._phone_loop(pcm)
        free = np.zeros(max(b for _, _, b, _ in loop) + 1 if loop else 1)
        for _, a, b, score in loop:
            free[a:b] += score / max(1, b - a)
        placed = {w.index: w for w in words}
        evidence: list[confidence.WordEvidence | None] = []
        for i in range(max(placed) + 1):
            w = placed.get(i)
            if w is None:
                evidence.append(None)
                continue
            ascore, pron = forced[i]
            frames = max(1, w.end - w.start)
            heard = [
                label
                for label, a, b, _ in loop
                if b > w.start + 1 and a < w.end - 1 and not label.startswith(("+", "SIL"))
            ]
            evidence.append(
                confidence.WordEvidence(
                    frames=frames,
                    phones=max(1, len(pron)),
                    fit=(ascore - float(free[w.start : w.end].sum())) / frames if loop else 0.0,
                    posterior=1.0 if w.score is None else w.score,
                    agreement=confidence.phone_agreement(pron, heard) if loop else 1.0,
                )
            )
        scores = confidence.word_scores(evidence)
        return [replace(t, score=scores[t.index]) for t in result]

    def _phone_loop(self, pcm: bytes) -> list[tuple[str, int, int, float]]:
        """The free phone loop over ``pcm``: ``(phone, first frame, end frame, score)``,
        silence (``SIL``) and noise (``+NSN+``...) included; empty when the search fails."""
        ps = self._ps
        try:
            if not self._loop_ready:
                ps.add_allphone_file("qalign-phones", None)
                self._loop_ready = True
            ps.activate_search("qalign-phones")
            ps.start_utt()
            ps.process_raw(pcm, full_utt=True)
            ps.end_utt()
            segments = ps.seg() or []
            return [
                (s.word, s.start_frame, s.end_frame + 1, _log_score(s.ascore)) for s in segments
            ]
        except (RuntimeError, ValueError) as exc:
            logger.debug("sphinx phone loop failed (%s); scoring without it", exc)
            return []


def _skip_prob(words: int) -> float:
    """Grammar probability of leaving ``words`` words out.

    Floored at 1e-32: pocketsphinx takes grammar probabilities as 32-bit floats,
    and a smaller one would underflow to zero.
    """
    return 1.0 if words <= 0 else max(1e-32, _SKIP_PROB ** min(words, 8))


def _log_score(value: float) -> float:
    """A score pocketsphinx reports as a probability back in its log units (base 1.0001)."""
    return math.log(value) / math.log(1.0001) if value > 0 else -1e5


def _prob(value: float) -> float | None:
    if value != value:  # NaN
        return None
    return min(1.0, max(0.0, float(value)))
