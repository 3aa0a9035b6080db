"""Transcribe, then align: audio in, one timed :class:`~qalign.alignment.Alignment` out.

For every input recording:

1. the audio is cut at quiet points into chunks of at most ``chunk_seconds``
   (:func:`qalign.asr.chunking.plan_chunks`); short audio is one chunk;
2. every chunk of every recording is transcribed in one batched call
   (:meth:`Transcriber.transcribe_batch`);
3. every chunk with text is aligned, again in one batched call, against its own
   audio, in the language the recogniser heard (or the one forced);
4. the chunk alignments are merged (:func:`qalign.asr.chunk_merge.merge_chunks`): times shifted by the
   chunk's start, kept inside the chunk, units and segments concatenated in
   order. The chunks tile the audio without overlap, so every word belongs to
   exactly one chunk: none is duplicated or dropped at a cut, and no segment
   spans a cut.

The recogniser is released before the aligner is built when this module built
both (:func:`transcribe_batch`), so the two models are never in memory together.
A recording that fails (unreadable audio, a language the aligner cannot time)
yields its error in its place; the others go on.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from qalign.alignment import Alignment, Source
from qalign.asr.base import Transcriber, TranscribeRequest, Transcript, TranscriptChunk
from qalign.asr.chunk_merge import AlignedChunk, dominant_language, join_texts, merge_chunks
from qalign.asr.chunking import DEFAULT_CHUNK_SECONDS, ChunkSpan, plan_chunks
from qalign.audio import SAMPLE_RATE
from qalign.errors import AudioError, LanguageError, QalignError, TranscriptError

if TYPE_CHECKING:
    from qalign.aligner.base import Aligner

logger = logging.getLogger("qalign")

#: Longest chunk the aligner is trained for, in seconds (its head reaches 400 s).
MAX_ALIGN_SECONDS = 300.0

Result: TypeAlias = "Alignment | Transcript | QalignError"
TranscriberSource: TypeAlias = "Transcriber | Callable[[], Transcriber]"
AlignerSource: TypeAlias = "Aligner | Callable[[], Aligner]"


# -- the pipeline -------------------------------------------------------------------------


@dataclass
class _Recording:
    index: int
    request: TranscribeRequest
    samples: np.ndarray
    spans: list[ChunkSpan]
    transcripts: list[Transcript] | None = None


def _load(request: TranscribeRequest) -> np.ndarray:
    if isinstance(request.audio, (str, Path)):
        from qalign.audio import load_audio

        return load_audio(request.audio)
    samples = np.asarray(request.audio)
    if samples.ndim != 1 or not np.issubdtype(samples.dtype, np.floating):
        raise AudioError(
            request.label,
            f"expected mono float samples of shape (n,), got {samples.dtype} {samples.shape}",
        )
    return np.ascontiguousarray(samples, dtype=np.float32)


def _chunk_label(rec: _Recording, span: ChunkSpan) -> str:
    if len(rec.spans) == 1:
        return rec.request.label
    return f"{rec.request.label} [{span.start_time:.2f}-{span.end_time:.2f} s]"


def _build_transcriber(source: TranscriberSource) -> Transcriber:
    return source if isinstance(source, Transcriber) else source()


def _build_aligner(source: AlignerSource) -> Aligner:
    from qalign.aligner.base import Aligner

    return source if isinstance(source, Aligner) else source()


def run_pipeline(
    requests: Sequence[TranscribeRequest],
    transcriber: TranscriberSource,
    aligner: AlignerSource | None,
    *,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    release_transcriber: bool = False,
) -> list[Result]:
    """Transcribe (and align, unless ``aligner`` is ``None``) every request.

    Args:
        requests: the recordings, with an optional forced language and context each.
        transcriber: a :class:`Transcriber`, or a function building one (called once).
        aligner: an :class:`~qalign.aligner.base.Aligner`, a function building one
            (called after transcription, only if some text was heard), or ``None``
            for text only.
        chunk_seconds: longest chunk sent to the models, in seconds.
        release_transcriber: drop the transcriber before building the aligner (only
            sensible when ``transcriber`` is a function, so nothing else holds it).

    Returns:
        Per request, in order: an :class:`Alignment` (or a :class:`Transcript` when
        ``aligner`` is ``None``), or the error that stopped it.
    """
    if aligner is not None and chunk_seconds > MAX_ALIGN_SECONDS:
        raise ValueError(
            f"chunk length {chunk_seconds} s is above {MAX_ALIGN_SECONDS} s, the longest "
            "audio the aligner is trained for"
        )
    results: list[Result | None] = [None] * len(requests)
    recordings: list[_Recording] = []
    for index, request in enumerate(requests):
        try:
            samples = _load(request)
            spans = plan_chunks(samples, chunk_seconds, sample_rate=SAMPLE_RATE)
        except QalignError as exc:
            results[index] = exc
            continue
        recordings.append(_Recording(index, request, samples, spans))

    if recordings:
        model = _build_transcriber(transcriber)
        limit = model.max_seconds
        if chunk_seconds > limit:
            raise ValueError(
                f"chunk length {chunk_seconds} s is above the recogniser's limit {limit} s"
            )
        _transcribe_all(recordings, model, results)
        del model
        if release_transcriber:
            transcriber = None  # type: ignore[assignment]
            gc.collect()
    done = [r for r in recordings if r.transcripts is not None]
    if aligner is None:
        for rec in done:
            results[rec.index] = _whole_transcript(rec)
    else:
        todo = [r for r in done if any(t.text.strip() for t in r.transcripts or [])]
        for rec in done:
            if rec not in todo:  # silence everywhere: an empty alignment, not an error
                results[rec.index] = _empty_alignment(rec)
        if todo:
            _align_all(todo, _build_aligner(aligner), results)
    return [r if r is not None else QalignError("internal error: no result") for r in results]


def _transcribe_all(
    recordings: list[_Recording], transcriber: Transcriber, results: list[Result | None]
) -> None:
    owners: list[_Recording] = []
    chunk_requests: list[TranscribeRequest] = []
    for rec in recordings:
        for span in rec.spans:
            owners.append(rec)
            chunk_requests.append(
                TranscribeRequest(
                    rec.samples[span.start : span.end],
                    rec.request.language,
                    rec.request.context,
                    _chunk_label(rec, span),
                )
            )
    n_chunks = len(chunk_requests)
    logger.info("transcribing %d chunk(s) of %d recording(s)", n_chunks, len(recordings))
    outcome = transcriber.transcribe_batch(chunk_requests)
    by_rec: dict[int, list[Transcript]] = {}
    for rec, result in zip(owners, outcome):
        if results[rec.index] is not None:
            continue
        if isinstance(result, QalignError):
            results[rec.index] = result
            continue
        by_rec.setdefault(rec.index, []).append(result)
    for rec in recordings:
        if results[rec.index] is None:
            rec.transcripts = by_rec[rec.index]


def _whole_transcript(rec: _Recording) -> Transcript:
    parts = rec.transcripts or []
    text, _ = join_texts([t.text for t in parts])
    chunks = tuple(
        TranscriptChunk(span.start_time, span.end_time, t.text, t.language)
        for span, t in zip(rec.spans, parts)
    )
    language = dominant_language([(t.language, len(t.text)) for t in parts])
    duration = rec.samples.shape[0] / SAMPLE_RATE
    model = next((t.model for t in parts if t.model), None)
    return Transcript(text, language, duration, chunks, model)


def _empty_alignment(rec: _Recording) -> Alignment:
    transcript = _whole_transcript(rec)
    return Alignment(
        units=(),
        duration=transcript.duration,
        language=transcript.language,
        source=Source("qwen3", transcriber=transcript.model),
    )


def _align_language(rec: _Recording, transcript: Transcript) -> str | None:
    if transcript.language:
        return transcript.language
    if rec.request.language:
        return rec.request.language
    from qalign.transcript import guess_language

    return guess_language(transcript.text)


def _align_all(todo: list[_Recording], aligner: Aligner, results: list[Result | None]) -> None:
    from qalign.aligner.base import AlignRequest

    jobs: list[tuple[_Recording, int]] = []
    align_requests: list[AlignRequest] = []
    for rec in todo:
        for k, (span, transcript) in enumerate(zip(rec.spans, rec.transcripts or [])):
            if not transcript.text.strip():
                continue
            jobs.append((rec, k))
            align_requests.append(
                AlignRequest(
                    rec.samples[span.start : span.end],
                    transcript.text,
                    _align_language(rec, transcript),
                    name=_chunk_label(rec, span),
                )
            )
    logger.info("aligning %d chunk(s)", len(align_requests))
    outcome = aligner.align_batch(align_requests)
    per_chunk: dict[tuple[int, int], Alignment] = {}
    for (rec, k), request, result in zip(jobs, align_requests, outcome):
        if results[rec.index] is not None:
            continue
        if isinstance(result, TranscriptError):
            # Text without letters or digits (a lone "…", a music note): nothing to time.
            logger.debug("%s: %s", request.label, result)
        elif isinstance(result, LanguageError):
            results[rec.index] = QalignError(
                f"{rec.request.label}: heard {request.language}, which the aligner cannot time "
                f"({result}); use --no-align for the text only"
            )
        elif isinstance(result, QalignError):
            results[rec.index] = result
        else:
            per_chunk[(rec.index, k)] = result
    for rec in todo:
        if results[rec.index] is not None:
            continue
        transcripts = rec.transcripts or []
        pieces = [
            AlignedChunk(span.start_time, span.end_time, t.text, per_chunk.get((rec.index, k)))
            for k, (span, t) in enumerate(zip(rec.spans, transcripts))
        ]
        duration = rec.samples.shape[0] / SAMPLE_RATE
        merged = merge_chunks(pieces, duration)
        model = next((t.model for t in transcripts if t.model), None)
        results[rec.index] = replace(merged, source=replace(merged.source, transcriber=model))


# -- the Python API -----------------------------------------------------------------------


def load_transcriber(
    model: str | Path | None,
    device: str = "auto",
    dtype: str = "auto",
    batch_size: int = 8,
    max_new_tokens: int | None = None,
) -> Transcriber:
    """The Qwen3-ASR recogniser :func:`transcribe_batch` builds (Hub id, folder or default)."""
    from qalign.asr.qwen3 import Qwen3Transcriber

    return Qwen3Transcriber.from_pretrained(
        model, device=device, dtype=dtype, batch_size=batch_size, max_new_tokens=max_new_tokens
    )


def load_aligner(
    model: str | Path | None,
    device: str = "auto",
    dtype: str = "auto",
    decoder: str = "monotonic",
    language: str | None = None,
) -> Aligner:
    """The Qwen3 forced aligner :func:`transcribe_batch` builds (Hub id, folder or default)."""
    from qalign.aligner.engines import EngineOptions, create_aligner

    options = EngineOptions(
        model=None if model is None else str(model), device=device, dtype=dtype, decoder=decoder
    )
    return create_aligner("qwen3", options, language)


def transcribe_batch(
    audio: Sequence[str | Path | np.ndarray],
    *,
    language: str | None = None,
    context: str = "",
    align: bool = True,
    asr_model: str | Path | None = None,
    aligner_model: str | Path | None = None,
    device: str = "auto",
    dtype: str = "auto",
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    batch_size: int = 8,
    max_new_tokens: int | None = None,
    decoder: str = "monotonic",
    transcriber: Transcriber | None = None,
    aligner: Aligner | None = None,
) -> list[Result]:
    """Transcribe several recordings, and time every word unless ``align`` is false.

    Args:
        audio: file paths, or mono float32 arrays at 16 kHz.
        language: force this language (name or code); ``None`` lets the model identify it.
        context: text that helps recognition: hot words, names, background.
        align: time the words with the forced aligner (default), or return text only.
        asr_model: Qwen3-ASR Hub id or folder (default ``$QALIGN_ASR_MODEL``, else
            ``Qwen/Qwen3-ASR-0.6B``; ``Qwen/Qwen3-ASR-1.7B`` is the larger one).
        aligner_model: forced-aligner Hub id or folder (default ``$QALIGN_ALIGNER_MODEL``,
            else ``Qwen/Qwen3-ForcedAligner-0.6B``).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto``, ``fp32``, ``bf16`` or ``fp16``.
        chunk_seconds: longest piece of audio sent to the models at once (default
            180 s; at most 300 s when aligning).
        batch_size: recognition requests decoded together.
        max_new_tokens: fixed token budget per chunk; default: scaled to its length.
        decoder: the aligner's timestamp decoder (``monotonic`` or ``reference``).
        transcriber: an already built recogniser to use instead of loading ``asr_model``.
        aligner: an already built aligner to use instead of loading ``aligner_model``.

    Returns:
        Per recording, in order: an :class:`~qalign.alignment.Alignment` (with
        ``align``) or a :class:`~qalign.asr.base.Transcript`, or the
        :class:`~qalign.errors.QalignError` that stopped that recording.

    Raises:
        LanguageError: ``language`` is not one the recogniser (or, when aligning, the aligner) knows.
        ModelLoadError: a model cannot be loaded.
        ValueError: ``chunk_seconds`` is out of range.
    """
    from qalign.asr.languages import resolve_asr_language

    forced = resolve_asr_language(language) if language else None
    if forced and align:
        from qalign.aligner.languages import resolve_language

        resolve_language(forced)
    requests = [TranscribeRequest(a, forced, context or "") for a in audio]

    def build_transcriber() -> Transcriber:
        return load_transcriber(asr_model, device, dtype, batch_size, max_new_tokens)

    def build_aligner() -> Aligner:
        return load_aligner(aligner_model, device, dtype, decoder, forced)

    return run_pipeline(
        requests,
        transcriber if transcriber is not None else build_transcriber,
        (aligner if aligner is not None else build_aligner) if align else None,
        chunk_seconds=chunk_seconds,
        release_transcriber=transcriber is None,
    )


def transcribe(audio: str | Path | np.ndarray, **options: object) -> Alignment | Transcript:
    """Transcribe one recording: an :class:`Alignment`, or a :class:`Transcript` with ``align=False``.

    Takes the keyword arguments of :func:`transcribe_batch`. A recording with no
    speech gives an empty alignment (or transcript), not an error.

    Raises:
        QalignError: the audio, the language or a model is unusable.
    """
    (result,) = transcribe_batch([audio], **options)  # type: ignore[arg-type]
    if isinstance(result, QalignError):
        raise result
    return result
