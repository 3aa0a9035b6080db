"""What a worker needs to align buckets of corpus items and write their outputs.

:class:`CorpusJob` is plain picklable data (an executor may send it to other
processes); :meth:`CorpusJob.make_worker` builds a :class:`CorpusWorker`, which
loads the model once. A worker's :meth:`~CorpusWorker.process` aligns one bucket:
:meth:`~CorpusWorker.prepare` (read transcripts, decode audio: no model involved,
so an executor may run it for the next bucket while the model works) then
:meth:`~CorpusWorker.align` (the whole bucket to the engine, its short items' model
passes batched together by :mod:`qalign.corpus.batching`, then each
item's outputs written atomically under :attr:`CorpusJob.outdir` by the worker
itself, so remote workers write to the shared path).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qalign.aligner.engines import EngineOptions
from qalign.corpus.items import CorpusItem, ItemResult
from qalign.errors import QalignError

if TYPE_CHECKING:
    from qalign.aligner.base import AlignRequest
    from qalign.alignment import Alignment
    from qalign.corpus.utterances import Utterance

logger = logging.getLogger("qalign")

STREAM_SECONDS = 1200.0
"""A whole file longer than this (seconds) is handed to the engine by path, not decoded
here, so that an engine that streams audio keeps memory bounded."""


@dataclass(frozen=True)
class CorpusJob:
    """Everything a worker needs (picklable).

    Attributes:
        outdir: output folder (absolute), or an fsspec URL (``s3://bucket/out``).
        formats: canonical format ids to write (see :func:`qalign.corpus.outputs.check_formats`).
        engine: ``auto``, ``qwen3`` or ``sphinx``.
        engine_options: model, device, dtype, decoder, granularity.
        language: the run's language (items may override it); ``None`` guesses per item.
        overwrite: redo items that are already finished.
        cues: subtitle cue options, ``(name, value)`` pairs.
        bucket_seconds: most seconds of audio in one bucket.
        bucket_items: most items in one bucket.
    """

    outdir: str
    formats: tuple[str, ...]
    engine: str = "auto"
    engine_options: EngineOptions = field(default_factory=EngineOptions)
    language: str | None = None
    overwrite: bool = False
    cues: tuple[tuple[str, Any], ...] = ()
    bucket_seconds: float = 600.0
    bucket_items: int = 16

    def make_worker(self) -> CorpusWorker:
        """A worker with the engine loaded (once).

        Raises:
            QalignError: the engine cannot start (missing weights or extra).
        """
        return CorpusWorker(self)


@dataclass
class Prepared:
    """An item with its transcript read and audio decoded, ready for the model.

    ``requests`` holds one request per utterance (or one for a plain item) and
    ``utterances`` the matching spans (``None`` for a plain item). ``failure`` is
    set when preparing failed.
    """

    item: CorpusItem
    requests: list[AlignRequest] = field(default_factory=list)
    utterances: list[Utterance] | None = None
    duration: float = 0.0
    failure: ItemResult | None = None
    streamed: bool = False  # the engine reads the audio file itself


def _failed(item: CorpusItem, stage: str, exc: BaseException) -> ItemResult:
    message = str(exc) if isinstance(exc, QalignError) else f"{type(exc).__name__}: {exc}"
    return ItemResult(item.key, "failed", stage, " ".join(message.split()), None, item.size_hint)


class CorpusWorker:
    """Aligns buckets of items with one engine instance and writes their outputs."""

    def __init__(self, job: CorpusJob) -> None:
        from qalign.aligner.engines import create_aligner

        self.job = job
        self.aligner = create_aligner(job.engine, job.engine_options, job.language)

    # -- stage 1: no model --------------------------------------------------------------

    def prepare(self, items: Sequence[CorpusItem]) -> list[Prepared]:
        """Read transcripts and decode audio of ``items``; failures are recorded, not raised."""
        return [self._prepare_one(item) for item in items]

    def _prepare_one(self, item: CorpusItem) -> Prepared:
        from qalign.aligner.base import AlignRequest
        from qalign.audio import SAMPLE_RATE, load_audio
        from qalign.corpus.utterances import read_utterances
        from qalign.transcript import read_transcript

        language = item.language or self.job.language
        stage = "read-text"
        try:
            utterances = None
            if item.utterances_path:
                stage = "read-utterances"
                utterances, _ = read_utterances(item.utterances_path)
                if not utterances:
                    raise QalignError(f"{item.utterances_path}: has no utterance with text")
            elif item.text is not None:
                text = item.text
                if not text.strip():
                    raise QalignError(f"{item.key}: transcript is empty")
            else:
                text = read_transcript(item.text_path or "")
            stage = "decode-audio"
            whole_file = item.offset == 0 and item.duration is None
            if utterances is None and whole_file and item.size_hint > STREAM_SECONDS:
                request = AlignRequest(item.audio, text, language, name=item.audio)
                return Prepared(item, [request], None, item.size_hint, streamed=True)
            samples = load_audio(item.audio)
            total = samples.shape[0] / SAMPLE_RATE
            if utterances is not None:
                requests = []
                for u in utterances:
                    lo, hi = round(u.start * SAMPLE_RATE), round(min(u.end, total) * SAMPLE_RATE)
                    name = f"{item.key} [{u.speaker} {u.start:.2f}-{u.end:.2f} s]"
                    requests.append(AlignRequest(samples[lo:hi], u.text, language, name=name))
                return Prepared(item, requests, utterances, total)
            lo = round(item.offset * SAMPLE_RATE)
            hi = (
                samples.shape[0]
                if item.duration is None
                else lo + round(item.duration * SAMPLE_RATE)
            )
            if lo >= samples.shape[0]:
                raise QalignError(
                    f"{item.audio}: offset {item.offset} s is past the end ({total:.2f} s)"
                )
            clip = samples[lo:hi] if (lo or hi < samples.shape[0]) else samples
            return Prepared(
                item, [AlignRequest(clip, text, language, name=item.audio)], None, total
            )
        except Exception as exc:  # noqa: BLE001 - one item's failure never stops the run
            return Prepared(item, failure=_failed(item, stage, exc))

    # -- stage 2: the model, then the outputs -------------------------------------------

    def align(self, prepared: Sequence[Prepared]) -> list[ItemResult]:
        """Align prepared items in one engine call and write each one's outputs."""
        from qalign.corpus.batching import align_bucket

        flat = [(p, r) for p in prepared if p.failure is None for r in p.requests]
        try:
            outcomes: list[Any] = align_bucket(self.aligner, [r for _, r in flat]) if flat else []
        except Exception as exc:  # noqa: BLE001 - the engine failed the whole bucket
            logger.debug("a bucket of %d failed: %r", len(flat), exc)
            failure = (
                exc if isinstance(exc, QalignError) else QalignError(f"{type(exc).__name__}: {exc}")
            )
            outcomes = [failure] * len(flat)
        by_item: dict[int, list[Any]] = {}
        for (p, _), outcome in zip(flat, outcomes, strict=True):
            by_item.setdefault(id(p), []).append(outcome)
        results = []
        for p in prepared:
            if p.failure is not None:
                results.append(p.failure)
                continue
            results.append(self._finish(p, by_item.get(id(p), [])))
        return results

    def process(self, items: Sequence[CorpusItem]) -> list[ItemResult]:
        """Prepare, align and write one bucket; one result per item, in order."""
        return self.align(self.prepare(items))

    def _finish(self, p: Prepared, outcomes: list[Any]) -> ItemResult:
        from qalign.corpus.reports import report_row
        from qalign.corpus.utterances import merge_speaker, shifted
        from qalign.errors import AudioError, AudioTooLongError, TranscriptError

        item = p.item
        try:
            if p.utterances is None:
                (outcome,) = outcomes
                if isinstance(outcome, QalignError):
                    return _failed(item, "align", outcome)
                total = outcome.duration if p.streamed else p.duration
                whole = shifted(outcome, item.offset, total)
                speakers = [(item.speaker, whole)]
                seconds = outcome.duration
            else:
                per_speaker: dict[str, list[tuple[Utterance, Alignment | None]]] = {}
                source = None
                for utt, outcome in zip(p.utterances, outcomes, strict=True):
                    if isinstance(outcome, TranscriptError) or (
                        isinstance(outcome, AudioError)
                        and not isinstance(outcome, AudioTooLongError)
                    ):
                        outcome = None  # nothing alignable, or too short: kept without words
                    elif isinstance(outcome, QalignError):
                        return _failed(item, "align", outcome)
                    else:
                        source = source or outcome.source
                        outcome = shifted(outcome, utt.start, p.duration)
                    per_speaker.setdefault(utt.speaker, []).append((utt, outcome))
                if source is None:
                    return _failed(
                        item, "align", QalignError(f"{item.key}: no utterance could be aligned")
                    )
                speakers = [
                    (s, merge_speaker(parts, p.duration, source))
                    for s, parts in per_speaker.items()
                ]
                seconds = p.duration
            if not any(u.status != "unaligned" for _, a in speakers for u in a.units):
                # Written all the same (the report lists it first); said once on stderr.
                logger.warning(
                    "%s: no part of the transcript could be aligned to this audio "
                    "(its outputs hold interpolated times only)",
                    item.key,
                )
            report = report_row(
                item.key, item.audio, [a for _, a in speakers], seconds, [s for s, _ in speakers]
            )
        except Exception as exc:  # noqa: BLE001 - e.g. an engine result that does not validate
            return _failed(item, "align", exc)
        try:
            self._write(item, speakers, p.utterances is not None, p.duration, report)
        except Exception as exc:  # noqa: BLE001 - a writer's failure is this item's failure
            return _failed(item, "write", exc)
        return ItemResult(item.key, "done", None, None, report, seconds)

    def _write(
        self, item: CorpusItem, speakers: list, by_speaker: bool, duration: float, report: dict
    ) -> None:
        from qalign import formats
        from qalign.cli.common import writer_options
        from qalign.corpus.outputs import local_folder, output_path, write_item
        from qalign.corpus.utterances import dumps_speakers

        job = self.job
        cues = dict(job.cues)
        rendered: list[tuple[Path | str, str]] = []
        local = local_folder(job.outdir)  # None: a remote store (no review pages there)
        for name in job.formats:
            # The output path lets the review page link the audio relative to itself.
            page = str(output_path(local, item.key, name)) if local is not None else None
            options = writer_options(name, cues, item.audio, page)
            if by_speaker and name in ("textgrid", "textgrid-short"):
                text = dumps_speakers(speakers, duration, short=name == "textgrid-short")
                rendered.append((output_path(job.outdir, item.key, name), text))
            elif len(speakers) == 1:
                rendered.append(
                    (
                        output_path(job.outdir, item.key, name),
                        formats.dumps(speakers[0][1], name, **options),
                    )
                )
            else:
                for speaker, alignment in speakers:
                    rendered.append(
                        (
                            output_path(job.outdir, item.key, name, speaker),
                            formats.dumps(alignment, name, **options),
                        )
                    )
        write_item(job.outdir, item.key, job.formats, rendered, report)
