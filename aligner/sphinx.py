"""Offline English alignment with pocketsphinx: word and phone timings, no GPU, no download.

pocketsphinx 5 (the ``sphinx`` extra) ships an English acoustic model and the
CMU pronouncing dictionary inside its wheel. :class:`SphinxAligner` uses them
to time every word and every phone (ARPAbet, as the dictionary writes them) of
an English transcript, on the CPU, at 10 ms resolution (the model's frame rate).

How one file is aligned
-----------------------
1. The transcript is split into words (:func:`qalign.aligner.sphinx_dict.spoken_words`):
   noise markers such as ``[laughter]`` are not aligned but kept in a
   neighbour's display text; words missing from the dictionary get a guessed
   pronunciation (:mod:`qalign.aligner.g2p`).
2. The audio is cut into chunks of about :attr:`SphinxAligner.chunk_seconds` at
   quiet points (lowest smoothed energy). The transcript is shared out in
   proportion to duration (by phone counts), and re-anchored after every chunk:
   a chunk's grammar may end after any word in a window around the estimate and
   the decoder picks the best; words ending in the chunk's last 5 s are then
   dropped and the next chunk starts where the last kept word ends, with the
   word after it, so a wrong guess at a chunk's end is redone.
3. Each chunk is decoded against a finite-state grammar: the words in order,
   every dictionary variant, with optional silence, noise and ``uh``/``um``
   fillers between words (they are not reported). Beams are wide (1e-100): the
   default 1e-48 loses the path on spontaneous speech ("Final result does not
   match the grammar").
4. A second pass (``set_alignment``) times phones inside the words found;
   word times are taken from that pass so phones always lie inside their word.
   ``hyp()`` is never called after it (it crashes pocketsphinx 5.1).

What does not go through
------------------------
When a chunk's strict grammar still fails, it is decoded again with a relaxed
grammar in which any word may be skipped at a small cost. Skipped words are
placed evenly in the gap their neighbours leave, with ``score`` 0.0 and no
phones, and a warning says how many. When the phone pass fails, phones are
aligned word by word inside the word spans (as :func:`add_sphinx_phones` does).
Only when nothing can be aligned at all does the file fail, with a
:class:`~qalign.errors.QalignError` that names it.

Scores are pocketsphinx's word posteriors in [0, 1].

:func:`add_sphinx_phones` adds phones to an alignment made by another engine
(``qalign align --engine qwen3 --phones sphinx``), keeping its word times.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qalign.aligner.base import Aligner, AlignRequest
from qalign.aligner.sphinx_dict import Lexicon, SpokenWord, dictionary_form, spoken_words
from qalign.alignment import Alignment, Phone, Source, Unit
from qalign.audio import SAMPLE_RATE
from qalign.errors import LanguageError, MissingDependencyError, QalignError, TranscriptError

logger = logging.getLogger("qalign")

FRAME_SECONDS = 0.01
"""pocketsphinx's frame step (100 frames per second): the resolution of every time."""

LANGUAGES = ("English",)

_FILLERS = {"<qalign-uh>": "AH", "<qalign-um>": "AH M"}
_SKIP_PROB = 1e-8  # relaxed grammar: cost of leaving one word out
_GUARD_FRAMES = 500  # chunking: words ending in the last 5 s of a chunk are redone by the next
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
        raise MissingDependencyError("pocketsphinx", "sphinx", "the offline English engine") from None
    return pocketsphinx


def pocketsphinx_version() -> str:
    """The installed pocketsphinx version (``"5.1.1"``), or ``"?"``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pocketsphinx")
    except PackageNotFoundError:  # pragma: no cover - imported from a source tree
        return "?"


def _english(language: str | None) -> None:
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
"""RMS of the white noise (-80 dBFS) added before decoding; see :func:`_pcm`."""


def _pcm(samples: np.ndarray) -> bytes:
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
class _Timed:
    """A word found by the decoder: chunk-local index, frames (end exclusive), phones."""

    index: int
    start: int
    end: int
    score: float | None
    phones: tuple[tuple[str, int, int], ...] = ()


class _DecodeFailed(Exception):
    """pocketsphinx found no path through the grammar (or its phone pass failed)."""


class _Decoder:
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
        relaxed: bool = False,
        phones: bool = True,
    ) -> list[_Timed]:
        """Align ``pcm`` to words with pronunciations ``prons``; results in word order.

        Args:
            ends: word counts the grammar may stop after (``None``: all words).
            relaxed: any word may be skipped (at a cost of :data:`_SKIP_PROB`).
            phones: run the phone pass; when it fails the words come back without phones.

        Raises:
            _DecodeFailed: no path reaches the end of the grammar.
        """
        n = len(prons)
        used: dict[tuple[str, ...], int] = {}
        owner: dict[str, int] = {}
        names: list[list[str]] = []
        for i, variants in enumerate(prons):
            names.append([])
            for pron in variants:
                name = self._name(pron, used.get(pron, 0))
                used[pron] = used.get(pron, 0) + 1
                owner[name] = i
                names[i].append(name)
        # States 0..n sit between words; n + 1 is the final state. Null transitions
        # are avoided: a hypothesis that took one cannot be phone-aligned, and
        # pocketsphinx follows only one at a time. So an end or a skip is a copy
        # of a word's transition with another source or target state.
        final = n + 1
        allowed = sorted(set(ends)) if ends is not None else [n]
        reach = _MAX_SKIP if relaxed else 0
        transitions: list[tuple[Any, ...]] = []
        for j in range(n):
            targets = [(j + 1, 1.0)]
            targets += [(final, _skip_prob(e - j - 1)) for e in allowed if 0 <= e - j - 1 <= reach]
            for i in range(max(0, j - reach), j + 1):
                for target, p_end in targets:
                    p = _skip_prob(j - i) * p_end
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
            raise _DecodeFailed(str(exc)) from None
        if segments is None:
            raise _DecodeFailed("no path through the grammar")
        words = [
            _Timed(owner[s.word], s.start_frame, s.end_frame + 1, _prob(s.prob))
            for s in segments
            if s.word in owner
        ]
        if not phones or not words:
            return words
        try:
            ps.set_alignment()
            ps.start_utt()
            ps.process_raw(pcm, full_utt=True)
            ps.end_utt()
            detailed: list[_Timed] = []
            k = 0
            for entry in ps.get_alignment():  # read each entry now: they share one C iterator
                if entry.name not in owner:
                    continue
                plist = tuple((p.name, p.start, p.start + p.duration) for p in entry)
                score = words[k].score if k < len(words) else None
                detailed.append(_Timed(owner[entry.name], entry.start, entry.start + entry.duration, score, plist))
                k += 1
        except (RuntimeError, ValueError, TypeError) as exc:
            logger.debug("sphinx phone pass failed (%s); timing phones word by word", exc)
            return words
        if [w.index for w in detailed] != [w.index for w in words]:
            return words
        return detailed


def _skip_prob(words: int) -> float:
    """Grammar probability of leaving ``words`` words out.

    Floored at 1e-32: pocketsphinx takes grammar probabilities as 32-bit floats,
    and a smaller one would underflow to zero.
    """
    return 1.0 if words <= 0 else max(1e-32, _SKIP_PROB ** min(words, 8))


def _prob(value: float) -> float | None:
    if value != value:  # NaN
        return None
    return min(1.0, max(0.0, float(value)))


# --- quiet points ---------------------------------------------------------------


def frame_energy_db(samples: np.ndarray, frame: int = 160) -> np.ndarray:
    """Log energy (dB) of consecutive ``frame``-sample frames (10 ms at 16 kHz)."""
    count = len(samples) // frame
    if count == 0:
        return np.zeros(0)
    blocks = samples[: count * frame].astype(np.float64).reshape(count, frame)
    return 10.0 * np.log10(np.mean(blocks * blocks, axis=1) + 1e-10)


def quiet_point(energy_db: np.ndarray, lo: int, hi: int, smooth: int = 15) -> int:
    """The frame in ``[lo, hi)`` with the lowest energy averaged over ``smooth`` frames."""
    lo, hi = max(0, lo), min(len(energy_db), hi)
    if hi - lo <= 1:
        return lo
    kernel = np.ones(smooth) / smooth
    smoothed = np.convolve(energy_db, kernel, mode="same")
    return lo + int(np.argmin(smoothed[lo:hi]))


# --- the engine -----------------------------------------------------------------


class SphinxAligner(Aligner):
    """Word and phone alignment of English speech with pocketsphinx (offline, CPU).

    Args:
        chunk_seconds: target chunk length; audio up to 1.5 times this is decoded in one piece.
        phones: time phones (the second pass); ``False`` roughly halves the time.

    Raises:
        MissingDependencyError: pocketsphinx is not installed (``pip install "qalign[sphinx]"``).
    """

    name = "sphinx"

    def __init__(self, *, chunk_seconds: float = 30.0, phones: bool = True) -> None:
        if chunk_seconds <= 1.0:
            raise QalignError(f"chunk_seconds must be above 1 s, not {chunk_seconds}")
        _import_pocketsphinx()
        self.chunk_seconds = chunk_seconds
        self.phones = phones
        self._decoder: _Decoder | None = None

    @property
    def source(self) -> Source:
        """The :class:`Source` recorded in every result."""
        return Source(engine="sphinx", model=f"pocketsphinx {pocketsphinx_version()} en-us", decoder=None)

    def _dec(self) -> _Decoder:
        if self._decoder is None:
            self._decoder = _Decoder()
        return self._decoder

    def align_batch(self, requests: Sequence[AlignRequest]) -> list[Alignment | QalignError]:
        results: list[Alignment | QalignError] = []
        for request in requests:
            try:
                results.append(self._align_one(request))
            except QalignError as exc:
                logger.debug("sphinx: %s", exc)  # the caller reports it
                results.append(exc)
        return results

    def _align_one(self, request: AlignRequest) -> Alignment:
        from qalign.aligner.sentences import sentence_segments

        label = request.label
        _english(request.language)
        if isinstance(request.audio, (str, Path)):
            from qalign.audio import load_audio

            samples = load_audio(request.audio)
        else:
            samples = np.asarray(request.audio, dtype=np.float32).reshape(-1)
        duration = len(samples) / SAMPLE_RATE
        words = spoken_words(request.transcript)
        if not words:
            raise TranscriptError(label, "has no words to align (only punctuation or noise markers)")
        dec = self._dec()
        try:
            prons = [dec.lexicon.pronunciations(w.norm) for w in words]
        except QalignError as exc:
            exc.message = f"{label}: {exc.message}"  # keep the error's class and exit code
            raise
        guessed = sorted({w.norm for w in words} & dec.lexicon.guessed)
        if guessed:
            logger.info("%s: guessed pronunciations for %d word(s) not in the dictionary: %s",
                        label, len(guessed), ", ".join(guessed[:10]))
        timed = self._align_chunks(samples, prons, label)
        units, phones = self._build(samples, words, prons, timed, duration, label)
        return Alignment(
            units=tuple(units),
            segments=sentence_segments(request.transcript, units),
            duration=duration,
            language="English",
            source=self.source,
            phones=tuple(phones),
        )

    # -- chunking ----------------------------------------------------------------

    def _align_chunks(
        self, samples: np.ndarray, prons: list[tuple[tuple[str, ...], ...]], label: str
    ) -> dict[int, tuple[float, float, float | None, tuple[tuple[str, float, float], ...]]]:
        """Word index → (start s, end s, score, phones in seconds) for the words found."""
        dec = self._dec()
        energy = frame_energy_db(samples)
        total_frames = len(energy)
        weights = [min(len(v) for v in variants) + 1.0 for variants in prons]
        found: dict[int, tuple[float, float, float | None, tuple[tuple[str, float, float], ...]]] = {}
        target = int(round(self.chunk_seconds / FRAME_SECONDS))
        first_word, frame0 = 0, 0
        n = len(prons)
        while first_word < n and frame0 < total_frames:
            left = total_frames - frame0
            last = left <= 1.5 * target
            if last:
                frame1 = total_frames
                stop = n
                ends = None
            else:
                frame1 = quiet_point(energy, frame0 + int(0.75 * target), frame0 + int(1.25 * target))
                share = (frame1 - frame0) / left * sum(weights[first_word:])
                acc, estimate = 0.0, first_word
                while estimate < n and acc + weights[estimate] / 2 <= share:
                    acc += weights[estimate]
                    estimate += 1
                window = max(10, math.ceil(0.3 * (estimate - first_word)))
                stop = min(n, estimate + window)
                ends = range(max(0, estimate - window - first_word), stop - first_word + 1)
            start_sample = frame0 * 160
            end_sample = len(samples) if last else frame1 * 160
            pcm = _pcm(samples[start_sample:end_sample])
            chunk = prons[first_word:stop]
            span = f"{label} ({frame0 * FRAME_SECONDS:.2f}-{end_sample / SAMPLE_RATE:.2f} s)"
            try:
                got = dec.decode(pcm, chunk, ends=ends, phones=self.phones)
            except _DecodeFailed as exc:
                logger.debug("%s: strict grammar failed (%s); retrying with skippable words", span, exc)
                try:
                    got = dec.decode(pcm, chunk, ends=ends, relaxed=True, phones=self.phones)
                except _DecodeFailed as exc2:
                    raise QalignError(f"{span}: pocketsphinx cannot align this audio to its transcript ({exc2})") from None
            if not last:
                # Trust only words that end well before the cut: near it, the grammar's
                # free end may have stopped early and filled the rest with silence. The
                # next chunk starts where the last trusted word ends and redoes the tail.
                guard = min(_GUARD_FRAMES, (frame1 - frame0) // 4)
                trusted = [t for t in got if t.end <= frame1 - frame0 - guard]
                if trusted and trusted[-1].end >= (frame1 - frame0) // 4:
                    got = trusted
                    frame1 = frame0 + trusted[-1].end
            offset = frame0 * FRAME_SECONDS
            limit = (len(samples) if last else frame1 * 160) / SAMPLE_RATE
            for t in got:
                phone_times = tuple(
                    (p, offset + a * FRAME_SECONDS, min(limit, offset + b * FRAME_SECONDS)) for p, a, b in t.phones
                )
                found[first_word + t.index] = (
                    offset + t.start * FRAME_SECONDS,
                    min(limit, offset + t.end * FRAME_SECONDS),
                    t.score,
                    phone_times,
                )
            if last:
                break
            first_word += max((t.index + 1 for t in got), default=0)
            frame0 = frame1
        return found

    # -- assembling the result -----------------------------------------------------

    def _build(
        self,
        samples: np.ndarray,
        words: list[SpokenWord],
        prons: list[tuple[tuple[str, ...], ...]],
        found: dict[int, tuple[float, float, float | None, tuple[tuple[str, float, float], ...]]],
        duration: float,
        label: str,
    ) -> tuple[list[Unit], list[Phone]]:
        if not found:
            raise QalignError(f"{label}: pocketsphinx aligned none of the {len(words)} words")
        spans: list[tuple[float, float, float | None]] = []
        missing = 0
        i = 0
        n = len(words)
        while i < n:
            if i in found:
                s, e, score, _ = found[i]
                prev_end = spans[-1][1] if spans else 0.0
                s = max(s, prev_end)
                spans.append((s, max(s, e), score))
                i += 1
                continue
            j = i
            while j < n and j not in found:
                j += 1
            gap_start = spans[-1][1] if spans else 0.0
            gap_end = found[j][0] if j < n else duration
            gap_end = max(gap_start, gap_end)
            weights = [min(len(v) for v in prons[k]) for k in range(i, j)]
            total = float(sum(weights)) or 1.0
            acc = 0.0
            for w in weights:
                a = gap_start + (gap_end - gap_start) * acc / total
                acc += w
                b = gap_start + (gap_end - gap_start) * acc / total
                spans.append((a, b, 0.0))
            missing += j - i
            i = j
        if missing:
            logger.warning("%s: %d of %d words could not be aligned and were placed evenly between their neighbours",
                           label, missing, n)
        units = [
            Unit(text=w.text, norm=w.norm, start=s, end=e, score=score, char_start=w.char_start, char_end=w.char_end)
            for w, (s, e, score) in zip(words, spans)
        ]
        phones: list[Phone] = []
        if not self.phones:
            return units, phones
        extra = {
            k: _word_phones(self._dec(), samples, units[k].start, units[k].end, prons[k])
            for k in found
            if not found[k][3]
        }
        for k, unit in enumerate(units):
            if k in found and found[k][3]:
                for p, a, b in found[k][3]:
                    a, b = max(a, unit.start), min(b, unit.end)
                    phones.append(Phone(p, a, max(a, b)))
            elif k in extra:
                phones.extend(extra[k])
        return units, phones


# --- phones inside given word spans -------------------------------------------------

_MARGIN = 0.05  # seconds of audio searched around a given word span


def _word_phones(
    dec: _Decoder, samples: np.ndarray, start: float, end: float, prons: tuple[tuple[str, ...], ...]
) -> list[Phone]:
    """Phones of one word whose span is ``[start, end]`` s; empty when sphinx cannot find it.

    The word is aligned in the span widened by :data:`_MARGIN` on each side, then
    its phone boundaries are mapped linearly from the extent sphinx found onto
    ``[start, end]``, so the phones tile the given span exactly.
    """
    if end - start < 0.03:  # under three frames: nothing to time
        return []
    a = max(0, int(round((start - _MARGIN) * SAMPLE_RATE)))
    b = min(len(samples), int(round((end + _MARGIN) * SAMPLE_RATE)))
    try:
        got = dec.decode(_pcm(samples[a:b]), [prons], phones=True)
    except _DecodeFailed:
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
    return phones


def add_sphinx_phones(alignment: Alignment, samples: np.ndarray) -> Alignment:
    """The alignment with its ``phones`` timed by sphinx inside each word's span.

    Word times stay as they are (another engine made them); each word's phones
    are searched in its span plus :data:`_MARGIN` (50 ms) either side and then
    fitted exactly into the span, so phones never leave their word. Words that
    are shorter than 30 ms, hold no letter or digit, or that sphinx cannot find
    get no phones. Phones the alignment already had are replaced.

    Args:
        alignment: an English alignment (``language`` ``"English"`` or ``None``).
        samples: the audio it was made from, mono float32 at 16 kHz.

    Raises:
        LanguageError: the alignment is not English.
        MissingDependencyError: pocketsphinx is not installed.
    """
    _english(alignment.language)
    dec = _Decoder()
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    phones: list[Phone] = []
    for unit in alignment.units:
        norm = dictionary_form(unit.text) or dictionary_form(unit.norm)
        if not norm:
            continue
        try:
            prons = dec.lexicon.pronunciations(norm)
        except QalignError:
            continue
        phones.extend(_word_phones(dec, samples, unit.start, unit.end, prons))
    return replace(alignment, phones=tuple(phones))
