"""One forward pass of Qwen3-ForcedAligner: timestamp-class logits at the ``<timestamp>`` slots.

This module is the numeric core behind :class:`qalign.aligner.qwen3.Qwen3Aligner`.
It takes a loaded checkpoint (:func:`qalign.checkpoint.load_model`) and, for
each (audio, units) pair, returns the logits over the ``num_labels`` timestamp
classes at every ``<timestamp>`` position (class ``k`` = ``k`` x 80 ms).

How it runs, and why:

* **Audio encoder, one clip at a time.** It is windowed anyway (attention within
  8 s windows), so batching it gains little, and running it alone keeps a clip's
  result independent of its batch. The conv stack follows the reference exactly:
  100-frame chunks, a final partial chunk zero-padded to 100 frames, except that
  a clip of one chunk or less (<= 1 s) is convolved unpadded.
* **Language model, batched by packing.** Items are concatenated into one
  sequence, positions restart at 0 for each item, and causal attention runs
  inside each item at its own length. No padding
  to the longest item, and on the CPU a batch gives bit-for-bit the
  single-item result.
  The layers run by hand (:class:`~qalign.aligner.qwen3.text_model.TextModel`), no KV cache.
* **CPU memory and weights.** In bf16 the linear layers' weights are packed once
  for oneDNN from the model's second pass on, a single pass runs on the mapped
  weights (:mod:`~qalign.aligner.qwen3.packed_linear`, same bits), whose pages a
  background thread maps into the process before the first pass needs them
  (:func:`qalign.weights.map_ahead`; it stops when the second pass begins, so
  that it does not map again the pages packing releases); freed activations stay in the process between
  layers instead of coming back as fresh pages (:mod:`~qalign.aligner.qwen3.heap`).
* **Head only where needed.** The hidden states are gathered at the
  ``<timestamp>`` positions first, and the 5000-way head runs on those rows only,
  in float32 (a float32 copy of the head, 20 MB, when the model is bf16), so no
  full-sequence logits are ever built and bf16 runs keep fine-grained logits for
  the decoders. In fp32 this equals the reference's head.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qalign.aligner.qwen3.features import (
    build_input_ids,
    log_mel,
    num_audio_tokens,
    num_feature_frames,
)

if TYPE_CHECKING:
    import numpy as np
    import torch

    from qalign.checkpoint import LoadedModel

#: A checkpoint with fewer parameters than this runs its passes (features, encoder,
#: language model) on one CPU thread. Its operations take microseconds, too little to
#: split, and the idle OpenMP workers spin between them: with the tiny test checkpoint
#: and two threads, two minutes of long audio cost 33 s of CPU instead of 3.2 s, and on
#: a busy machine 290 s of wall time instead of 34 s (measured). Real checkpoints keep
#: torch's thread count. The thread count does not change the results.
SMALL_MODEL_PARAMETERS = 20_000_000

#: Shortest attention segment in the language model, in tokens. Float32 CPU
#: matmuls over fewer than about 12 rows take other kernels, whose rounding
#: differs; padding every item to this length keeps batched and single runs
#: bit-identical.
MIN_SEGMENT = 32


@dataclass(frozen=True)
class PreparedItem:
    """The model inputs of one (audio, units) pair.

    Attributes:
        features: float32 log-mel, ``(n_mels, n_feature_frames)``, on the CPU.
        input_ids: the full token sequence (audio pads expanded).
        n_feature_frames: mel frames (10 ms each).
        n_audio_tokens: audio tokens (13 per second).
        slot_positions: indices of the ``<timestamp>`` tokens in ``input_ids``, in order.
    """

    features: torch.Tensor
    input_ids: tuple[int, ...]
    n_feature_frames: int
    n_audio_tokens: int
    slot_positions: tuple[int, ...]


class Qwen3AlignerModel:
    """Builds inputs and computes slot logits with a loaded forced-aligner checkpoint."""

    def __init__(self, loaded: LoadedModel) -> None:
        if loaded.config.kind != "aligner" or loaded.config.timestamp_token_id is None:
            raise ValueError(f"{loaded.source} is not a forced-aligner checkpoint")
        self.loaded = loaded
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer
        self.config = loaded.config
        self.device = loaded.device
        self.dtype = loaded.dtype
        self._token_cache: dict[str, tuple[int, ...]] = {}
        self._head_weight, self._head_bias = self._float32_head()
        from qalign.aligner.qwen3.audio_encoder import use_channels_last
        from qalign.aligner.qwen3.heap import keep_freed_memory
        from qalign.aligner.qwen3.packed_linear import PassCounter, pack_linears
        from qalign.aligner.qwen3.text_model import TextModel

        # Counted before packing (a packed layer no longer holds its weight as a parameter).
        self.small = (
            str(self.device) == "cpu"
            and sum(p.numel() for p in self.model.parameters()) < SMALL_MODEL_PARAMETERS
        )
        use_channels_last(self.model)
        if str(self.device) == "cpu":
            keep_freed_memory()
        inner = self.model.model
        # Weights packed from the second pass on (a one-file run's single pass packs none).
        self.passes = PassCounter()
        pack_linears(
            inner.audio_tower,
            inner.multi_modal_projector,
            inner.language_model.layers,
            passes=self.passes,
        )
        self.text = TextModel(self.model.model.language_model)
        if str(self.device) == "cpu":
            from qalign.weights import map_ahead

            # The layers' mapped weights, in the order the pass reads them (the embedding
            # table is left out: a pass reads a few of its rows).
            parts = (inner.audio_tower, inner.multi_modal_projector, inner.language_model.layers)
            weights = [p for part in parts for p in _weights_in_order(part)]
            map_ahead(weights, stop=self.passes.packing)

    @contextmanager
    def threads(self) -> Iterator[None]:
        """One CPU thread inside the block for a small model (:data:`SMALL_MODEL_PARAMETERS`)."""
        if not self.small:
            yield
            return
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    # -- inputs ----------------------------------------------------------------------

    def _float32_head(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        import torch

        score = self.model.score
        weight = score.weight.detach()
        bias = score.bias.detach() if score.bias is not None else None
        if weight.dtype != torch.float32:
            weight = weight.float()
            bias = bias.float() if bias is not None else None
        return weight, bias

    def unit_token_ids(self, units: Sequence[str]) -> list[tuple[int, ...]]:
        """Token ids of each unit, each tokenised on its own (memoised)."""
        missing = [u for u in dict.fromkeys(units) if u not in self._token_cache]
        if missing:
            encoded = self.tokenizer(missing, add_special_tokens=False)["input_ids"]
            for unit, ids in zip(missing, encoded, strict=True):
                self._token_cache[unit] = tuple(ids)
        return [self._token_cache[u] for u in units]

    def prepare(
        self, audio: np.ndarray, units: Sequence[str], features: torch.Tensor | None = None
    ) -> PreparedItem:
        """Features and token ids for one clip (mono float32 at 16 kHz) and its units.

        ``features``: the clip's log-mel frames when already computed (another item with
        the same audio); items sharing them are encoded once per :meth:`slot_logits` call.
        """
        cfg = self.config
        if features is None:
            with self.threads():
                features = log_mel(audio, cfg.num_mel_bins)
        frames = num_feature_frames(audio.shape[0])
        n_audio = num_audio_tokens(frames, 2 * cfg.n_window)
        ids = build_input_ids(
            self.unit_token_ids(units),
            n_audio,
            audio_start_id=cfg.audio_start_token_id,
            audio_end_id=cfg.audio_end_token_id,
            audio_pad_id=cfg.audio_pad_token_id,
            timestamp_id=cfg.timestamp_token_id,  # type: ignore[arg-type]
        )
        ts = cfg.timestamp_token_id
        slots = tuple(i for i in range(n_audio + 2, len(ids)) if ids[i] == ts)
        return PreparedItem(features, tuple(ids), frames, n_audio, slots)

    # -- audio encoder ---------------------------------------------------------------

    def encode_audio(self, features: torch.Tensor) -> torch.Tensor:
        """Audio embeddings in the LLM's width, ``(n_audio_tokens, hidden)``, for one clip."""
        from qalign.aligner.qwen3.audio_encoder import encode_audio

        return encode_audio(self.model, features)

    # -- language model + head -------------------------------------------------------

    def slot_logits(self, items: Sequence[PreparedItem]) -> list[torch.Tensor]:
        """Float32 logits ``(n_slots, num_labels)`` per item, on the model's device, in one
        LLM pass (the decoders reduce them there; see :mod:`qalign.aligner.qwen3.slot_logits`).

        The items are packed end to end into one sequence (no padding between
        them); positions restart at 0 for each item and attention stays inside
        each item, computed at the item's own length. Row-wise layers see the same
        rows whatever the batch, so on the CPU an item's logits are bit-identical
        alone or batched (checked in the tests). On CUDA, GEMM kernels chosen by
        shape may round differently in the last bits.
        """
        import torch
        import torch.nn.functional as F

        if not items:
            return []
        self.passes.begin()
        with torch.inference_mode(), self.threads():
            # Items with the same features object (one clip, several runs of text) share
            # one encoder pass: a clip's embeddings depend on its audio alone.
            encoded: dict[int, torch.Tensor] = {}
            for it in items:
                if id(it.features) not in encoded:
                    encoded[id(it.features)] = self.encode_audio(it.features)
            audio = [encoded[id(it.features)] for it in items]
            lm = self.model.model.language_model
            # Each item is one attention segment, at least MIN_SEGMENT tokens long:
            # a short item is followed by pad tokens, which causal attention keeps
            # out of its real rows. The segment (and so the result) is the same
            # whether the item runs alone or packed with others.
            lengths = [max(len(it.input_ids), MIN_SEGMENT) for it in items]
            starts = [0]
            for n in lengths:
                starts.append(starts[-1] + n)
            pad = self.config.pad_token_id
            flat: list[int] = []
            for it, n in zip(items, lengths, strict=True):
                flat.extend(it.input_ids)
                flat.extend([pad] * (n - len(it.input_ids)))
            ids = torch.tensor(flat, device=self.device)
            embeds = lm.embed_tokens(ids[None])
            for start, it, emb in zip(starts, items, audio, strict=False):
                embeds[0, start + 1 : start + 1 + it.n_audio_tokens] = emb.to(embeds.dtype)
            positions = torch.cat([torch.arange(n) for n in lengths]).to(self.device)
            hidden = self.text.packed(embeds[0], positions, starts)
            results = []
            for start, it in zip(starts, items, strict=False):
                # One head call per item: the matmul's row count then matches a
                # single-item run (small row counts take other kernels).
                index = torch.tensor([start + p for p in it.slot_positions], device=hidden.device)
                rows = hidden.index_select(0, index).float()
                results.append(F.linear(rows, self._head_weight, self._head_bias))
        return results

    def raw_class_ids(self, items: Sequence[PreparedItem]) -> list[list[int]]:
        """Argmax class per slot for each item (the reference's ``raw_class_ids``)."""
        return [logits.argmax(dim=-1).tolist() for logits in self.slot_logits(items)]


def _weights_in_order(module: Any) -> list[torch.Tensor]:
    """The tensors of ``module``'s parameters and of its packed layers' original weights,
    in module order (the order a pass runs them)."""
    from qalign.aligner.qwen3.packed_linear import PackedLinear

    out = []
    for sub in module.modules():
        out.extend(p.detach() for p in sub.parameters(recurse=False))
        if isinstance(sub, PackedLinear) and sub.original is not None:
            out.append(sub.original)
    return out


__all__ = ["MIN_SEGMENT", "PreparedItem", "Qwen3AlignerModel"]
