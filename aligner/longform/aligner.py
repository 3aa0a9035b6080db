"""The long-form layer: any length of audio against one transcript, through any engine.

Per item:

1. **Map the audio** in one streamed pass (:class:`~qalign.aligner.longform.speech.SpeechMap`):
   energy and speech probability every 10 ms, the peak. Files are never decoded
   whole: the duration comes from the container first, windows are read
   forward from a bounded buffer (:class:`qalign.audio.AudioReader`).
2. **Windows, one after another.** A window starts after the last kept unit
   and ends at a pause near the engine's ``window_seconds`` later. It gets a run
   of text from its first unit on: generous for the first window and after a gap
   (the engine's ``text_slack`` times the units its speech should hold at the
   rate seen so far, plus ``text_pad``); after a window that agreed, an engine may
   ask for less (``agreed_slack``, ``agreed_pad``: Qwen3 takes what the speech
   should hold plus 3). The engine places them; the layer keeps only anchors
   (:func:`~qalign.aligner.longform.anchors.keep`) and the next window starts
   from the last one, backing off a few. Where speech that no
   text explains lies between two kept units (a paragraph missing from the text),
   the text was forced onto it: the window's units stop before it, and a short
   chain before it is no agreement unless it runs on from the units kept before
   it (then it is kept up to its last pause, and the search goes on after it).
3. **Recovery.** A window that keeps too little (under the engine's ``min_agreement``
   of the units its speech should hold) means text and audio disagree there.
   Short probes then search forward, in the text (audio fixed: text never
   spoken) and in the audio (text fixed: speech not in the transcript, music,
   noise), for where they agree again; the nearest agreement wins and the
   windows go on from it. What was skipped stays unaligned.
4. **Stitch** (:func:`~qalign.aligner.longform.stitch.stitch`): statuses,
   interpolated gaps, stretches; sentences as segments. Before it, a refinement
   pass (:mod:`~qalign.aligner.longform.refine`) drops false matches and
   re-aligns the text next to each gap between its now-known neighbours.

Everything is deterministic: the same input gives the same output.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from qalign.aligner.base import Aligner, AlignRequest
from qalign.aligner.longform.engine import Script, WindowEngine
from qalign.aligner.longform.refine import refine
from qalign.aligner.longform.speech import SpeechMap
from qalign.aligner.longform.stitch import Kept, stitch
from qalign.aligner.longform.walk import Progress, WindowRun
from qalign.alignment import Alignment
from qalign.audio import SAMPLE_RATE, AudioReader, iter_blocks, normalize_peak, probe
from qalign.errors import AudioError, AudioTooLongError, QalignError

logger = logging.getLogger("qalign")

#: Longest audio accepted, in seconds (checked from the container before decoding).
MAX_DURATION = 24 * 3600.0


class LongFormAligner(Aligner):
    """Any length of audio through a :class:`WindowEngine`, one window at a time.

    Args:
        engine: the engine that aligns windows.
        progress: called as ``progress(seconds_done, seconds_total)`` after each window.
        vad: use silero-vad for the speech map when it is installed (``False``: energy only).
    """

    def __init__(
        self, engine: WindowEngine, *, progress: Progress | None = None, vad: bool = True
    ) -> None:
        self.engine = engine
        self.name = engine.name  # type: ignore[misc]
        self.progress = progress
        self.vad = vad

    @property
    def source(self):  # noqa: D102
        return self.engine.source

    def align_batch(self, requests: Sequence[AlignRequest]) -> list[Alignment | QalignError]:
        results: list[Alignment | QalignError] = []
        for request in requests:
            try:
                results.append(self._align_one(request))
            except QalignError as exc:
                logger.debug("%s: %s", self.name, exc)
                results.append(exc)
        return results

    # -- input -------------------------------------------------------------------

    def _open(self, request: AlignRequest) -> tuple[SpeechMap, AudioReader]:
        label = request.label
        detector = _detector() if self.vad else None
        if isinstance(request.audio, (str, Path)):
            info = probe(request.audio)
            if info.duration > MAX_DURATION:
                raise AudioTooLongError(label, info.duration, MAX_DURATION)
            speech = SpeechMap.from_blocks(iter_blocks(request.audio, 240.0), vad=detector)
            if speech.duration == 0:
                raise AudioError(label, "holds no audio samples")
            return speech, AudioReader(request.audio, scale=speech.peak)
        samples = np.asarray(request.audio)
        if samples.ndim != 1:
            raise AudioError(label, f"expected mono samples of shape (n,), got {samples.shape}")
        if not np.issubdtype(samples.dtype, np.floating):
            raise AudioError(label, f"expected float samples in [-1, 1], got {samples.dtype}")
        samples = samples.astype(np.float32, copy=False)
        if not samples.size:
            raise AudioError(label, "holds no audio samples")
        if not np.isfinite(samples).all():
            raise AudioError(label, "samples contain NaN or infinity")
        samples = normalize_peak(samples)
        step = 240 * SAMPLE_RATE
        blocks = (samples[i : i + step] for i in range(0, samples.size, step))
        return SpeechMap.from_blocks(blocks, vad=detector), AudioReader(samples)

    # -- the windows ---------------------------------------------------------------

    def _align_one(self, request: AlignRequest) -> Alignment:
        from qalign.aligner.sentences import sentence_segments
        from qalign.transcript import check_rate

        engine = self.engine
        label = request.label
        # A transcript out of proportion to the audio is refused before any work on it.
        if isinstance(request.audio, (str, Path)):
            duration = probe(request.audio).duration
        else:
            duration = np.asarray(request.audio).size / SAMPLE_RATE
        check_rate(request.transcript, duration, label)
        script = engine.script(request.transcript, request.language, label)
        speech, reader = self._open(request)
        run = WindowRun(engine, script, speech, reader, self.progress)
        run.go()
        refine(run)
        kept, tentative = _rescored(engine, script, run)
        units, phones, stretches = stitch(
            script,
            kept,
            engine,
            speech,
            skipped_text=run.skipped_text,
            skipped_audio=run.skipped_audio,
            tentative=tentative,
        )
        if not run.kept:
            logger.debug("%s: no part of the transcript could be aligned to the audio", label)
        alignment = Alignment(
            units=tuple(units),
            segments=sentence_segments(request.transcript, units),
            duration=speech.duration,
            language=script.language,
            source=engine.source,
            phones=tuple(phones),
            stretches=tuple(stretches),
        )
        return engine.finish(alignment, reader.read)


def _detector():
    """A silero-vad speech detector when the package is installed, else ``None`` (energy only)."""
    try:
        from qalign.aligner.longform.vad import SpeechDetector
    except ImportError:  # pragma: no cover - the vad module itself imports nothing optional
        return None
    return SpeechDetector.create()


def _rescored(
    engine: WindowEngine, script: Script, run: WindowRun
) -> tuple[dict[int, Kept], dict[int, Kept]]:
    """The kept and tentative units with the engine's final scores
    (:meth:`~qalign.aligner.longform.engine.WindowEngine.rescore`).

    Kept units are scored among the kept ones (a neighbour nobody kept counts as not
    placed); a unit only some window placed is scored among the kept units and itself.
    """
    n = len(script.units)
    scores = engine.rescore(script, [run.kept.get(i) for i in range(n)], run.pairs)
    kept = {i: replace(k, score=scores[i]) for i, k in run.kept.items()}
    extra = [i for i in run.tentative if i not in run.kept]
    if not extra:
        return kept, dict(run.tentative)
    both = [run.kept.get(i) or run.tentative.get(i) for i in range(n)]
    again = engine.rescore(script, both, run.pairs)
    tentative = {i: replace(k, score=again[i]) for i, k in run.tentative.items()}
    return kept, tentative
