"""The Qwen3-ForcedAligner engine: (audio, transcript) pairs in, :class:`~qalign.Alignment` out.

Per item: resolve the language, split the transcript into units
(:func:`qalign.aligner.qwen3.units.split_units`), read and check the audio, build the
model inputs, run one forward pass (:mod:`qalign.aligner.qwen3.model`), decode
the slot logits into times (:data:`qalign.aligner.qwen3.decoding.DECODERS`) and group
the units into sentences (:func:`qalign.aligner.sentences.sentence_spans`).

Batches are bucketed by sequence length and packed into one language-model pass
per bucket; an item's result never depends on its batch. A failed item (bad
audio, nothing to align, unsupported language, audio too long) yields its error
object and the batch goes on.

Length limit: :data:`DEFAULT_MAX_DURATION` (300 s), the longest audio the model
is documented to support; the head itself can express up to
``num_labels`` x 80 ms = 399.92 s, and ``max_duration`` may be raised to that.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qalign.aligner.base import Aligner, AlignRequest
from qalign.alignment import Alignment, Source, Unit
from qalign.errors import AudioError, AudioTooLongError, QalignError, TranscriptError

if TYPE_CHECKING:
    import torch

    from qalign.aligner.qwen3.decoding import Decoded
    from qalign.aligner.qwen3.model import PreparedItem, Qwen3AlignerModel
    from qalign.aligner.qwen3.units import TextUnit
    from qalign.checkpoint import LoadedModel

log = logging.getLogger("qalign")

#: Longest audio aligned in one pass unless the caller allows more, in seconds.
DEFAULT_MAX_DURATION = 300.0
#: Most items per language-model pass.
DEFAULT_BATCH_SIZE = 8
#: Most tokens per language-model pass (a longer single item still runs alone).
DEFAULT_BATCH_TOKENS = 8192
# Prepared items held in memory at once (log-mel features: 51 kB per second of
# audio); bounds memory for long request lists.
_WINDOW = 64
_WINDOW_SAMPLES = 20 * 60 * 16_000


@dataclass(frozen=True)
class _Ready:
    """An item that passed every check and waits for the model."""

    index: int
    request: AlignRequest
    language: str
    units: tuple[TextUnit, ...]
    num_samples: int
    prepared: PreparedItem


class Qwen3Aligner(Aligner):
    """Forced alignment with Qwen3-ForcedAligner (one forward pass per batch of items).

    Build it with :meth:`from_pretrained`. ``decoder`` picks how slot logits
    become times: ``"monotonic"`` (default: the most probable ordered times
    within the audio) or ``"reference"`` (the official argmax + repair).
    """

    name = "qwen3"

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        decoder: str = "monotonic",
        granularity: str = "word",
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        max_duration: float | None = None,
    ) -> None:
        from qalign.aligner.qwen3.decoding import DECODERS
        from qalign.aligner.qwen3.model import Qwen3AlignerModel
        from qalign.aligner.qwen3.units import GRANULARITIES

        if decoder not in DECODERS:
            raise QalignError(f"unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
        if granularity not in GRANULARITIES:
            raise QalignError(
                f"unknown granularity {granularity!r}; choose one of {', '.join(GRANULARITIES)}"
            )
        if batch_size < 1 or batch_tokens < 1:
            raise QalignError(f"batch_size ({batch_size}) and batch_tokens must be positive")
        self.loaded = loaded
        self.runner: Qwen3AlignerModel = Qwen3AlignerModel(loaded)
        self.decoder = decoder
        self.granularity = granularity
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        head_limit = loaded.config.max_duration or DEFAULT_MAX_DURATION
        limit = DEFAULT_MAX_DURATION if max_duration is None else float(max_duration)
        if not 0 < limit <= head_limit:
            raise QalignError(
                f"max_duration {limit} s is outside (0, {head_limit:.2f}] s, "
                f"the range this checkpoint's {loaded.config.num_labels} timestamp classes cover"
            )
        self.max_duration = min(limit, head_limit)

    @classmethod
    def from_pretrained(
        cls,
        model: str | Path | None = None,
        device: str = "auto",
        dtype: str = "auto",
        decoder: str = "monotonic",
        granularity: str = "word",
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        max_duration: float | None = None,
    ) -> Qwen3Aligner:
        """Load a checkpoint and build the engine.

        Args:
            model: Hub id or local folder; ``None`` uses ``QALIGN_ALIGNER_MODEL``,
                else ``Qwen/Qwen3-ForcedAligner-0.6B``.
            device: ``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda``, ``cuda:N``, ``mps``.
            dtype: ``auto`` (bf16 where fast, else fp32), ``fp32``, ``bf16``, ``fp16``.
            decoder: ``monotonic`` or ``reference``.
            granularity: ``word`` or ``char``.
            batch_size: most items per forward pass.
            batch_tokens: most tokens per forward pass.
            max_duration: longest audio accepted, in seconds (default 300).

        Raises:
            ModelLoadError: the checkpoint cannot be found or loaded safely.
            QalignError: a bad option.
        """
        from qalign.checkpoint import load_model

        loaded = load_model(
            None if model is None else str(model), "aligner", device=device, dtype=dtype
        )
        return cls(
            loaded,
            decoder=decoder,
            granularity=granularity,
            batch_size=batch_size,
            batch_tokens=batch_tokens,
            max_duration=max_duration,
        )

    @property
    def source_name(self) -> str:
        """The model as the user named it (Hub id or folder)."""
        return self.loaded.source

    def __repr__(self) -> str:
        return (
            f"Qwen3Aligner(model={self.loaded.source!r}, device={self.loaded.device!r}, "
            f"dtype={str(self.loaded.dtype).replace('torch.', '')}, decoder={self.decoder!r})"
        )

    # -- checks and inputs -----------------------------------------------------------

    def read_audio(self, request: AlignRequest) -> np.ndarray:
        """The request's audio as mono float32 at 16 kHz, checked against the length limits.

        Raises:
            AudioError: unreadable, empty, not mono, not finite or shorter than 201 samples.
            AudioTooLongError: longer than :attr:`max_duration`.
        """
        from qalign.aligner.qwen3.features import MIN_SAMPLES, SAMPLE_RATE
        from qalign.audio import load_audio, normalize_peak

        label = request.label
        if isinstance(request.audio, (str, Path)):
            samples = load_audio(request.audio, SAMPLE_RATE, max_seconds=self.max_duration)
        else:
            samples = np.asarray(request.audio)
            if samples.ndim != 1:
                raise AudioError(label, f"expected mono samples of shape (n,), got {samples.shape}")
            if not np.issubdtype(samples.dtype, np.floating):
                raise AudioError(label, f"expected float samples in [-1, 1], got {samples.dtype}")
            samples = samples.astype(np.float32, copy=False)
            if samples.size and not np.isfinite(samples).all():
                raise AudioError(label, "samples contain NaN or infinity")
            samples = normalize_peak(samples)
        n = samples.shape[0]
        if n < MIN_SAMPLES:
            raise AudioError(
                label,
                f"audio is too short: {n} samples ({n / SAMPLE_RATE * 1000:.1f} ms); "
                f"at least {MIN_SAMPLES} samples ({MIN_SAMPLES / SAMPLE_RATE * 1000:.1f} ms) are needed",
            )
        duration = n / SAMPLE_RATE
        if duration > self.max_duration:
            raise AudioTooLongError(label, duration, self.max_duration)
        return samples

    def split(
        self, transcript: str, language: str | None, label: str
    ) -> tuple[str, list[TextUnit]]:
        """The canonical language and the units of ``transcript``.

        Raises:
            LanguageError: unsupported language.
            TranscriptError: nothing to align (empty, or punctuation only).
        """
        from qalign.aligner.languages import resolve_language
        from qalign.aligner.qwen3.units import split_units

        if language is None:
            from qalign.transcript import guess_language

            language = guess_language(transcript)
        canonical = resolve_language(language)
        units = split_units(transcript, canonical, self.granularity)
        if not units:
            what = "is empty" if not transcript.strip() else "has no letters or digits to align"
            raise TranscriptError(label, f"transcript {what}")
        return canonical, units

    def _ready(self, index: int, request: AlignRequest) -> _Ready:
        language, units = self.split(request.transcript, request.language, request.label)
        samples = self.read_audio(request)
        prepared = self.runner.prepare(samples, [u.norm for u in units])
        return _Ready(index, request, language, tuple(units), samples.shape[0], prepared)

    # -- the batch -------------------------------------------------------------------

    def _buckets(self, ready: list[_Ready]) -> list[list[_Ready]]:
        """Groups of similar length within the item and token budgets (shortest first)."""
        groups: list[list[_Ready]] = []
        current: list[_Ready] = []
        tokens = 0
        for item in sorted(ready, key=lambda r: len(r.prepared.input_ids)):
            n = len(item.prepared.input_ids)
            if current and (len(current) >= self.batch_size or tokens + n > self.batch_tokens):
                groups.append(current)
                current, tokens = [], 0
            current.append(item)
            tokens += n
        if current:
            groups.append(current)
        return groups

    def align_batch(self, requests: Sequence[AlignRequest]) -> list[Alignment | QalignError]:
        """Align several items; a failed item yields its error in its place.

        Items are bucketed by length and each bucket runs in one forward pass;
        the results equal one-by-one runs exactly.
        """
        results: list[Alignment | QalignError | None] = [None] * len(requests)
        ready: list[_Ready] = []
        held = 0  # audio samples whose features are in memory
        for index, request in enumerate(requests):
            try:
                item = self._ready(index, request)
            except QalignError as exc:
                log.debug("item %s failed: %s", request.label, exc)
                results[index] = exc
                continue
            ready.append(item)
            held += item.num_samples
            if len(ready) >= _WINDOW or held >= _WINDOW_SAMPLES:
                self._run(ready, results)
                ready, held = [], 0
        self._run(ready, results)
        missing = [requests[i].label for i, r in enumerate(results) if r is None]
        if missing:  # pragma: no cover - every index is filled above
            raise RuntimeError(f"no result for {missing}")
        return results  # type: ignore[return-value]

    def _run(self, ready: list[_Ready], results: list) -> None:
        """Run prepared items bucket by bucket and store each result at its index.

        A bucket the model cannot run (out of memory, say) is retried item by
        item, so one failure costs only that item.
        """
        for group in self._buckets(ready):
            try:
                logits = self.runner.slot_logits([r.prepared for r in group])
            except RuntimeError as exc:
                if len(group) == 1:
                    results[group[0].index] = _model_failure(group[0], exc)
                    continue
                log.warning("a batch of %d failed (%s); retrying one by one", len(group), exc)
                for item in group:
                    self._run([item], results)
                continue
            for item, item_logits in zip(group, logits, strict=True):
                try:
                    results[item.index] = self._alignment(item, item_logits)
                except QalignError as exc:
                    results[item.index] = exc
                except ValueError as exc:  # the decoders refuse NaN or infinite logits
                    results[item.index] = _model_failure(item, exc)

    # -- lower level: logits and decoding ---------------------------------------------

    def logits_for(self, audio: np.ndarray, units: Sequence[str]) -> np.ndarray:
        """Float32 ``[2 * len(units), num_labels]`` slot logits for one clip and its unit strings.

        ``audio`` is used as given (mono float32 at 16 kHz; no peak normalisation,
        no length check). ``units`` are the strings fed to the model
        (``TextUnit.norm``); with no units the model still gets one slot pair, as
        in the reference.
        """
        prepared = self.runner.prepare(audio, list(units))
        return self.runner.slot_logits([prepared])[0].cpu().numpy()

    def raw_class_ids(self, audio: np.ndarray, units: Sequence[str]) -> list[int]:
        """The argmax class of every slot (class ``k`` = ``k`` x 80 ms)."""
        return self.logits_for(audio, units).argmax(axis=-1).tolist()

    def decode(self, logits: np.ndarray | torch.Tensor, num_samples: int) -> Decoded:
        """Times for slot logits of a clip of ``num_samples`` samples, with this engine's decoder.

        ``logits`` may be a tensor on the model's device: the per-slot work over the
        classes runs there and only per-slot arrays come to the host.
        """
        from qalign.aligner.qwen3.decoding import DECODERS
        from qalign.aligner.qwen3.features import SAMPLE_RATE

        cfg = self.loaded.config
        step = int(cfg.timestamp_segment_time or 80)
        max_class = min(
            int(num_samples * 1000 // (SAMPLE_RATE * step)), int(cfg.num_labels or 1) - 1
        )
        return DECODERS[self.decoder](logits, max_class, step_ms=step)

    def _alignment(self, item: _Ready, logits: torch.Tensor) -> Alignment:
        from qalign.aligner.qwen3.features import SAMPLE_RATE
        from qalign.aligner.sentences import sentence_segments

        decoded = self.decode(logits, item.num_samples)
        duration = item.num_samples / SAMPLE_RATE
        # The reference decoder has no notion of the audio's end: clip to it.
        starts = np.minimum(decoded.start_s, duration)
        ends = np.minimum(decoded.end_s, duration)
        units = [
            Unit(
                text=u.text,
                norm=u.norm,
                start=float(s),
                end=float(e),
                score=float(sc),
                char_start=u.char_start,
                char_end=u.char_end,
            )
            for u, s, e, sc in zip(item.units, starts, ends, decoded.scores, strict=True)
        ]
        return Alignment(
            units=tuple(units),
            segments=sentence_segments(item.request.transcript, units),
            duration=duration,
            language=item.language,
            source=Source("qwen3", model=self.loaded.source, decoder=self.decoder),
        )


def _model_failure(item: _Ready, exc: Exception) -> QalignError:
    """One line for an item the model could not time (first line of the cause)."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = " (try --dtype float32)" if "nan" in reason.lower() or "finite" in reason.lower() else ""
    return QalignError(f"{item.request.label}: alignment failed: {reason[:200]}{hint}")
