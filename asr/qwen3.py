"""Qwen3-ASR behind the :class:`~qalign.asr.base.Transcriber` interface.

One request is one clip of at most :attr:`Qwen3Transcriber.max_seconds`
(20 minutes, the model's stated limit); longer audio is cut by the caller
(:mod:`qalign.asr.pipeline`). For each clip:

1. log-mel features of the clip alone (:func:`qalign.aligner.qwen3.features.log_mel`);
2. audio embeddings from the encoder, the way the reference computes them
   (:func:`qalign.aligner.qwen3.audio_encoder.encode_audio`);
3. the prompt (:mod:`qalign.asr.prompt`) with one ``<|audio_pad|>`` per audio
   embedding, the embeddings written over them;
4. greedy decoding (:func:`qalign.asr.decoding.greedy_decode`) until a stop id
   read from the checkpoint, or the clip's token budget: ``32 + 12`` tokens per
   second of audio unless ``max_new_tokens`` is set;
5. the answer decoded without special tokens and parsed
   (:func:`qalign.asr.parse.parse_answer`): ``language None`` (no speech) gives
   an empty transcript, not an error.

Requests are sorted by length and run in batches; a batch gives each clip the
result it gets alone.

This module imports torch; ``import qalign.asr`` does not import it.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from qalign.aligner.qwen3.audio_encoder import encode_audio, use_channels_last
from qalign.aligner.qwen3.features import MIN_SAMPLES, log_mel
from qalign.asr.base import Transcriber, TranscribeRequest, Transcript, TranscriptChunk
from qalign.asr.decoding import greedy_decode
from qalign.asr.languages import resolve_asr_language
from qalign.asr.parse import parse_answer
from qalign.asr.prompt import PromptIds, build_prompt
from qalign.errors import AudioError, AudioTooLongError, QalignError

if TYPE_CHECKING:
    from qalign.checkpoint import LoadedModel

logger = logging.getLogger("qalign")

#: The model's stated limit for one request, in seconds (20 minutes).
MAX_SECONDS = 1200.0
#: Token budget: a fixed allowance (language header, short answers) plus tokens per second.
BUDGET_BASE_TOKENS = 32
BUDGET_TOKENS_PER_SECOND = 12
#: Batch limits: requests per batch, and prompt tokens per batch (bounds the KV cache).
DEFAULT_BATCH_SIZE = 8
DEFAULT_BATCH_TOKENS = 16_000


def token_budget(seconds: float) -> int:
    """Most tokens generated for ``seconds`` of audio (about 3x fast speech, plus the header)."""
    return BUDGET_BASE_TOKENS + math.ceil(BUDGET_TOKENS_PER_SECOND * max(0.0, seconds))


@dataclass(frozen=True)
class Answer:
    """What the model said for one request, before parsing.

    Attributes:
        label: the request's name.
        duration: audio length in seconds.
        forced_language: the canonical language the prompt forced, or ``None``.
        input_ids: the prompt ids, one ``<|audio_pad|>`` per audio token.
        n_audio_tokens: audio embeddings (13 per second of audio).
        generated_ids: the answer's ids, without the stop id.
        raw_text: the answer decoded without special tokens.
    """

    label: str
    duration: float
    forced_language: str | None
    input_ids: tuple[int, ...]
    n_audio_tokens: int
    generated_ids: tuple[int, ...]
    raw_text: str


@dataclass
class _Prepared:
    index: int
    label: str
    duration: float
    language: str | None
    ids: list[int]
    audio: torch.Tensor | None  # embeddings; None when the clip is too short to hold speech
    budget: int


class Qwen3Transcriber(Transcriber):
    """Speech recognition with Qwen3-ASR (0.6B or 1.7B), any checkpoint layout.

    Build it with :meth:`from_pretrained`; the constructor takes an already
    loaded model.

    Attributes:
        loaded: the model, tokenizer and ids from :func:`qalign.checkpoint.load_model`.
        batch_size: most requests decoded together.
        max_new_tokens: fixed token budget per request, or ``None`` to scale it
            with the audio length (:func:`token_budget`).
    """

    name = "qwen3-asr"
    max_seconds = MAX_SECONDS

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        max_new_tokens: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.loaded = loaded
        use_channels_last(loaded.model)
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.max_new_tokens = max_new_tokens
        self.model_name = loaded.source
        self.stop_ids = _stop_ids(loaded)
        self._prompts: dict[tuple[str, str | None], PromptIds] = {}
        #: Seconds the last :meth:`answer_batch` spent per stage: ``encode`` (features and
        #: audio encoder), ``prefill`` (prompts up to each batch's first token), ``decode``;
        #: and counts: ``batches`` decoded, decoding ``steps`` after the first token (all batches).
        self.timings: dict[str, float] = {}

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path | None = None,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_new_tokens: int | None = None,
    ) -> Qwen3Transcriber:
        """Load a Qwen3-ASR checkpoint by Hub id or folder (default ``Qwen/Qwen3-ASR-0.6B``,
        or the ``QALIGN_ASR_MODEL`` environment variable).

        Raises:
            ModelLoadError: missing, partial, unsafe or non-ASR checkpoint.
            QalignError: unknown device or dtype.
        """
        from qalign.checkpoint import load_model

        loaded = load_model(name_or_path, "asr", device=device, dtype=dtype)
        return cls(loaded, batch_size=batch_size, max_new_tokens=max_new_tokens)

    # -- public --------------------------------------------------------------------------

    def transcribe_batch(
        self, requests: Sequence[TranscribeRequest]
    ) -> list[Transcript | QalignError]:
        return [
            a if isinstance(a, QalignError) else self._transcript(a)
            for a in self.answer_batch(requests)
        ]

    def answer_batch(self, requests: Sequence[TranscribeRequest]) -> list[Answer | QalignError]:
        """The model's raw answers, before parsing (what :meth:`transcribe_batch` parses)."""
        results: list[Answer | QalignError | None] = [None] * len(requests)
        ready: list[_Prepared] = []
        self.timings = {"encode": 0.0, "prefill": 0.0, "decode": 0.0, "batches": 0, "steps": 0}
        start = time.perf_counter()
        for index, request in enumerate(requests):
            try:
                item = self._prepare(index, request)
            except QalignError as exc:
                results[index] = exc
                continue
            except (RuntimeError, ValueError) as exc:  # the encoder ran out of memory, say
                results[index] = QalignError(f"{request.label}: audio encoding failed: {exc}")
                continue
            if item.audio is None:
                results[index] = self._answer(item, [])
            else:
                ready.append(item)
        self.timings["encode"] = time.perf_counter() - start
        for group in self._batches(ready):
            for item, ids in zip(group, self._decode(group)):
                results[item.index] = (
                    ids if isinstance(ids, QalignError) else self._answer(item, ids)
                )
        return [r for r in results if r is not None]

    def prompt_ids(self, context: str, language: str | None) -> PromptIds:
        """The tokenised prompt for a context and a (canonical) forced language."""
        key = (context, language)
        if key not in self._prompts:
            cfg = self.loaded.config
            self._prompts[key] = build_prompt(
                self.loaded.tokenizer, cfg.audio_pad_token_id, context, language
            )
        return self._prompts[key]

    def audio_embeddings(self, samples: np.ndarray) -> torch.Tensor:
        """The encoder's embeddings for one clip of 16 kHz samples (``(n_tokens, hidden)``)."""
        feats = log_mel(samples, self.loaded.config.num_mel_bins)
        return encode_audio(self.loaded.model, feats)

    def prompt_embeddings(self, ids: Sequence[int], audio: torch.Tensor) -> torch.Tensor:
        """The embedded prompt with the audio embeddings over its ``<|audio_pad|>`` positions."""
        model = self.loaded.model
        device = audio.device
        ids_t = torch.tensor(list(ids), dtype=torch.long, device=device)
        with torch.no_grad():
            embeds = model.get_input_embeddings()(ids_t).clone()
        slots = ids_t == self.loaded.config.audio_pad_token_id
        if int(slots.sum()) != audio.shape[0]:
            raise ValueError(
                f"{int(slots.sum())} audio slots for {audio.shape[0]} audio embeddings"
            )
        embeds[slots] = audio.to(embeds.dtype)
        return embeds

    # -- steps ---------------------------------------------------------------------------

    def _prepare(self, index: int, request: TranscribeRequest) -> _Prepared:
        label = request.label
        samples = _samples(request)
        duration = samples.shape[0] / self.sample_rate
        if duration > self.max_seconds:
            raise AudioTooLongError(label, duration, self.max_seconds)
        language = None
        if request.language:
            language = resolve_asr_language(request.language, self.loaded.config.support_languages)
        prompt = self.prompt_ids(request.context or "", language)
        budget = self.max_new_tokens if self.max_new_tokens is not None else token_budget(duration)
        if samples.shape[0] < MIN_SAMPLES:
            # Too short for one STFT frame (under 12.5 ms): nothing can be heard.
            return _Prepared(index, label, duration, language, [], None, budget)
        audio = self.audio_embeddings(samples)
        ids = prompt.with_audio(audio.shape[0])
        return _Prepared(index, label, duration, language, ids, audio, budget)

    def _batches(self, items: list[_Prepared]) -> list[list[_Prepared]]:
        groups: list[list[_Prepared]] = []
        current: list[_Prepared] = []
        longest = 0
        for item in sorted(items, key=lambda it: len(it.ids)):
            size = len(item.ids)
            if current and (
                len(current) >= self.batch_size
                or max(longest, size) * (len(current) + 1) > self.batch_tokens
            ):
                groups.append(current)
                current, longest = [], 0
            current.append(item)
            longest = max(longest, size)
        if current:
            groups.append(current)
        return groups

    def _decode(self, group: list[_Prepared]) -> list[list[int] | QalignError]:
        start = time.perf_counter()
        first = [start]
        steps: list[int] = []  # the decode's steps (tokens chosen for the longest row)

        def first_token() -> None:
            first[0] = time.perf_counter()
            self.timings["prefill"] = self.timings.get("prefill", 0.0) + first[0] - start

        try:
            prompts = [self.prompt_embeddings(it.ids, it.audio) for it in group]  # type: ignore[arg-type]
            ids = greedy_decode(
                self.loaded.model,
                prompts,
                [it.budget for it in group],
                self.stop_ids,
                self.loaded.config.pad_token_id,
                on_first_token=first_token,
                on_steps=steps.append,
            )
            self.timings["decode"] = (
                self.timings.get("decode", 0.0) + time.perf_counter() - first[0]
            )
            self.timings["batches"] = self.timings.get("batches", 0) + 1
            self.timings["steps"] = self.timings.get("steps", 0) + max(steps[0] - 1, 0)
            return list(ids)
        except RuntimeError as exc:  # out of memory and the like
            if len(group) > 1:
                logger.warning("batch of %d failed (%s); retrying one by one", len(group), exc)
                return [r for it in group for r in self._decode([it])]
            return [QalignError(f"{group[0].label}: speech recognition failed: {exc}")]

    def _answer(self, item: _Prepared, ids: list[int]) -> Answer:
        raw = self.loaded.tokenizer.decode(
            ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        if self.max_new_tokens is None and item.budget > 0 and len(ids) >= item.budget:
            logger.warning(
                "%s: the answer filled its budget of %d tokens and may be cut short",
                item.label,
                item.budget,
            )
        n_audio = 0 if item.audio is None else int(item.audio.shape[0])
        return Answer(
            item.label, item.duration, item.language, tuple(item.ids), n_audio, tuple(ids), raw
        )

    def _transcript(self, answer: Answer) -> Transcript:
        language, text = parse_answer(answer.raw_text, answer.forced_language)
        lang = language or None
        chunk = TranscriptChunk(0.0, answer.duration, text, lang)
        return Transcript(text, lang, answer.duration, (chunk,), self.model_name)


def _samples(request: TranscribeRequest) -> np.ndarray:
    if isinstance(request.audio, (str, Path)):
        from qalign.audio import load_audio

        return load_audio(request.audio)
    samples = np.asarray(request.audio)
    if samples.ndim != 1:
        raise AudioError(request.label, f"expected mono samples of shape (n,), got {samples.shape}")
    if not np.issubdtype(samples.dtype, np.floating):
        raise AudioError(request.label, f"expected float samples, got {samples.dtype}")
    return np.ascontiguousarray(samples, dtype=np.float32)


def _stop_ids(loaded: LoadedModel) -> tuple[int, ...]:
    """Ids that end an answer: the checkpoint's (tokenizer and config), plus its generation config's."""
    ids = list(loaded.config.eos_token_ids)
    gen = Path(loaded.path) / "generation_config.json"
    if gen.is_file():
        try:
            eos = json.loads(gen.read_text(encoding="utf-8")).get("eos_token_id")
        except (OSError, ValueError):
            eos = None
        for tid in eos if isinstance(eos, list) else [eos] if eos is not None else []:
            if int(tid) not in ids:
                ids.append(int(tid))
    if not ids:
        raise QalignError(f"{loaded.path}: the checkpoint names no end-of-answer token")
    return tuple(ids)
