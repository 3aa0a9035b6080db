"""One decoding step for a batch of sequences, on buffers allocated once per decode.

:class:`BatchDecoder` holds, for a batch of ``B`` rows and ``capacity`` positions:

* the key/value cache (:class:`~qalign.aligner.qwen3.text_model.StaticCache`, filled by
  the packed prefill of :class:`~qalign.aligner.qwen3.text_model.TextModel`);
* the rotary cos/sin table of every position, computed once by the model's own
  rotary module (each position's row is what the module gives for that position
  alone, so the table changes no value);
* every activation a step writes: the hidden state, the projections, the attention
  scores and probabilities (sized by the capacity), the MLP activations and the
  vocabulary logits (``B x vocab``).

A step (:meth:`BatchDecoder.step`) writes into those buffers through ``out=``
arguments and in-place operations, so nothing sized by the cache, the vocabulary
or a weight matrix is allocated per step; what remains are the few-kilobyte
results of the fused RMS norms and of indexing (served from the allocator's free
lists). Nothing is copied out of the cache: attention runs over the whole
capacity, where each row's keys and values are one contiguous matrix that the
products read in place (positions not yet filled are zeros under a ``-inf``
bias). The capacity therefore grows in small steps (:data:`qalign.asr.decoding.CACHE_STEP`)
rather than being the largest budget from the start.

In bf16 on a CPU with oneDNN, the layer weights can also be packed once per
decode (``pack=True``, done right after the prefill): oneDNN's bf16 products
first rearrange the weight matrix into the blocked layout its kernels read, and
with plain weights they do so on every call, so each step's projections would
read and rewrite every layer weight. Packed once, a step reads each weight once
(on two cores: the projections of a 4-row step about twice as fast). The packed
matrices are the query, key and value projections as one matrix, the output
projection, the gate and up projections as one, and the down projection (each
output column is the same dot product as in the separate matrices, so the
results are the same bits); they are a second copy of the layer weights (0.9 GB
at the 0.6B size), held only while the decoder lives. The head keeps its plain
product into the logits buffer (nothing vocabulary-sized is allocated per
step); the packed products return new row blocks of a few kilobytes per layer.

The arithmetic is the model's, operation for operation: the norms are
``rms_norm`` without weight, then the weight multiplied in the model's dtype (bit
for bit what transformers' ``Qwen3RMSNorm`` computes, in fp32 and bf16), rotary
positions by :func:`~qalign.aligner.qwen3.text_model.rotate` (``x * cos +
rotate_half(x) * sin`` bit for bit), the scores rounded to the
model's dtype before the float32 softmax, as :meth:`TextModel.step` does. The
projections call ``torch.mm`` on the model's own weights (no copies, no fused
matrices: the weights stay memory-mapped once).
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from qalign.aligner.qwen3.packed_linear import can_pack, pack_weight, packed_product
from qalign.aligner.qwen3.text_model import StaticCache, TextModel, rotate, signed_sin

logger = logging.getLogger("qalign")


class _PackedLayer(NamedTuple):
    """One layer's weights packed for oneDNN (opaque tensors for ``packed_product``)."""

    qkv: torch.Tensor  # query, key and value projections stacked: (q + k + v, hidden)
    o: torch.Tensor
    gate_up: torch.Tensor  # gate and up projections stacked: (2 * intermediate, hidden)
    down: torch.Tensor


class BatchDecoder:
    """Prefill and greedy steps for ``batch`` rows with room for ``capacity`` positions each.

    Args:
        model: a ``Qwen3ASRForConditionalGeneration`` (its language model and head).
        batch: rows decoded together.
        capacity: positions per row (prompt plus answer).
        like: a tensor in the model's dtype and on its device.
        pack: pack the layer weights for oneDNN after the prefill, where
            :func:`can_pack` allows it (ignored elsewhere: fp32 and other devices
            keep the plain products).
    """

    def __init__(
        self, model: Any, batch: int, capacity: int, like: torch.Tensor, *, pack: bool = False
    ) -> None:
        lm = model.model.language_model
        self.text = TextModel(lm)
        self.lm = lm
        self.head = model.lm_head.weight
        self.embed = lm.get_input_embeddings().weight
        self.batch = batch
        self.dtype, self.device = like.dtype, like.device
        text = self.text
        self.eps = [
            (
                float(layer.input_layernorm.variance_epsilon),
                float(layer.self_attn.q_norm.variance_epsilon),
                float(layer.self_attn.k_norm.variance_epsilon),
                float(layer.post_attention_layernorm.variance_epsilon),
            )
            for layer in text.layers
        ]
        self.final_eps = float(lm.norm.variance_epsilon)
        act = getattr(text.layers[0].mlp, "act_fn", None)
        if not isinstance(act, torch.nn.SiLU) and getattr(lm.config, "hidden_act", "") != "silu":
            raise ValueError(f"unsupported MLP activation {act!r}")
        hidden = int(lm.config.hidden_size)
        inter = int(lm.config.intermediate_size)
        heads, kv, dim = text.heads, text.kv_heads, text.head_dim
        new = {"dtype": self.dtype, "device": self.device}
        self.x = torch.empty(batch, hidden, **new)
        self.q = torch.empty(batch, heads * dim, **new)
        self.k = torch.empty(batch, kv * dim, **new)
        self.v = torch.empty(batch, kv * dim, **new)
        self.rot = torch.empty(batch, heads * dim, **new)
        self.attended = torch.empty(batch * kv, text.groups, dim, **new)
        self.out = torch.empty(batch, hidden, **new)
        self.gate = torch.empty(batch, inter, **new)
        self.up = torch.empty(batch, inter, **new)
        self.logits = torch.empty(batch, self.head.shape[0], **new)
        self.chosen = torch.empty(batch, dtype=torch.long, device=self.device)
        self.rows = torch.arange(batch, device=self.device)
        self.zero = torch.zeros((), device=self.device)
        self.capacity = 0
        self.cache: StaticCache | None = None
        self._allocate(capacity)
        self.pack = pack and can_pack(self.dtype, self.device)
        #: The packed layer weights once :meth:`prefill` has run (with ``pack``), else ``None``.
        self.packed: list[_PackedLayer] | None = None

    # -- buffers sized by the capacity ---------------------------------------------------

    def _allocate(self, capacity: int) -> None:
        text, batch = self.text, self.batch
        old = self.cache
        self.cache = text.new_cache(batch, capacity, self.x)
        if old is not None:
            n = old.capacity
            self.cache.keys[:, :, :, :n].copy_(old.keys)
            self.cache.values[:, :, :, :n].copy_(old.values)
            self.cache.bias[:, :n].copy_(old.bias)
            self.cache.lengths.copy_(old.lengths)
            del old
        self.capacity = capacity
        positions = torch.arange(capacity, device=self.device)
        cos, sin = text.rotary(positions, self.x)  # (capacity, 1, dim)
        self.cos, self.signed_sin = cos[:, 0].contiguous(), signed_sin(sin[:, 0]).contiguous()
        size = batch * text.heads * capacity
        self.scores = torch.empty(size, dtype=self.dtype, device=self.device)
        self.scores32 = torch.empty(size, dtype=torch.float32, device=self.device)
        self.probs32 = torch.empty(size, dtype=torch.float32, device=self.device)
        self.probs = torch.empty(size, dtype=self.dtype, device=self.device)

    def grow(self, capacity: int) -> None:
        """Room for ``capacity`` positions per row (contents kept); a few times per decode at most."""
        if capacity > self.capacity:
            self._allocate(capacity)

    # -- prefill and steps ---------------------------------------------------------------

    def prefill(self, prompts: list[torch.Tensor]) -> torch.Tensor:
        """Run the prompts as one pack into the cache; the last position's final hidden state per row.

        With ``pack``, the layer weights are packed afterwards (the prefill's
        activations are freed by then, so the two never add up).
        """
        assert self.cache is not None
        if len(prompts) != self.batch:
            raise ValueError(f"{len(prompts)} prompts for a batch of {self.batch}")
        hidden = self.text.prefill(prompts, self.cache)
        if self.pack and self.packed is None:
            try:
                self.packed = self._pack_layers()
            except RuntimeError as exc:  # no memory for the copy, a oneDNN without the format
                logger.info("decoding with plain weights: packing them failed (%s)", exc)
                self.pack = False
        return hidden

    def _pack_layers(self) -> list[_PackedLayer]:
        out = []
        for layer in self.text.layers:
            attn, mlp = layer.self_attn, layer.mlp
            qkv = torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight])
            gate_up = torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight])
            out.append(
                _PackedLayer(
                    pack_weight(qkv, self.batch),
                    pack_weight(attn.o_proj.weight, self.batch),
                    pack_weight(gate_up, self.batch),
                    pack_weight(mlp.down_proj.weight, self.batch),
                )
            )
            del qkv, gate_up
        return out

    def release(self) -> None:
        """Drop the packed weights and the cache (the decoder cannot step afterwards)."""
        self.packed = None
        self.cache = None

    def choose(self, hidden: torch.Tensor) -> torch.Tensor:
        """Greedy ids ``(batch,)`` from final hidden states (a view of a buffer: copy to keep)."""
        torch.mm(hidden, self.head.t(), out=self.logits)
        return torch.argmax(self.logits, dim=-1, out=self.chosen)

    def step(self, ids: torch.Tensor) -> torch.Tensor:
        """Feed one id per row at its next position; the final hidden states ``(batch, hidden)``.

        The returned tensor is a buffer that the next step overwrites.
        """
        cache = self.cache
        assert cache is not None
        text = self.text
        batch, heads, kv, dim, groups = (
            self.batch,
            text.heads,
            text.kv_heads,
            text.head_dim,
            text.groups,
        )
        at = cache.lengths
        if int(at.max()) >= self.capacity:
            raise ValueError("the static cache is full")
        cache.bias.index_put_((self.rows, at), self.zero)
        cos = self.cos[at].unsqueeze(1)  # (batch, 1, dim)
        signed = self.signed_sin[at].unsqueeze(1)
        bias = cache.bias[:, None, :]  # (batch, 1, capacity)
        scores = self.scores.view(batch * kv, groups, -1)
        scores32 = self.scores32.view(batch, heads, -1)
        probs32 = self.probs32.view(batch, heads, -1)
        probs = self.probs.view(batch * kv, groups, -1)
        x = torch.index_select(self.embed, 0, ids, out=self.x)
        rot3 = self.rot.view(batch, heads, dim)
        packed = self.packed
        nq, nk, inter = heads * dim, kv * dim, self.gate.shape[1]
        for index, layer in enumerate(text.layers):
            eps_in, eps_q, eps_k, eps_post = self.eps[index]
            attn = layer.self_attn
            h = F.rms_norm(x, (x.shape[-1],), None, eps_in).mul_(layer.input_layernorm.weight)
            if packed is None:
                torch.mm(h, attn.q_proj.weight.t(), out=self.q)
                torch.mm(h, attn.k_proj.weight.t(), out=self.k)
                torch.mm(h, attn.v_proj.weight.t(), out=self.v)
                q3, k3, v3 = self.q, self.k, self.v
            else:
                qkv = packed_product(h, packed[index].qkv)
                q3, k3, v3 = qkv[:, :nq], qkv[:, nq : nq + nk], qkv[:, nq + nk :]
            q = F.rms_norm(q3.view(batch, heads, dim), (dim,), None, eps_q).mul_(attn.q_norm.weight)
            k = F.rms_norm(k3.view(batch, kv, dim), (dim,), None, eps_k).mul_(attn.k_norm.weight)
            q = rotate(q, cos, signed, rot3)
            k = rotate(k, cos, signed, rot3[:, :kv])
            keys, values = cache.keys[index], cache.values[index]  # (batch, kv, capacity, dim)
            keys[self.rows, :, at] = k
            values[self.rows, :, at] = v3.view(batch, kv, dim)
            q.mul_(text.scale)
            # Over the whole capacity: each row's keys are then one contiguous matrix,
            # which the bf16 product reads in place (a slice of the filled part would
            # be copied first, every layer of every step). Unfilled positions are
            # zeros under a -inf bias: they add exact zeros.
            torch.bmm(
                q.view(batch * kv, groups, dim),
                keys.view(batch * kv, -1, dim).transpose(1, 2),
                out=scores,
            )
            scores32.copy_(scores.view(batch, heads, -1)).add_(bias)
            torch.ops.aten._softmax.out(scores32, -1, False, out=probs32)
            probs.view(batch, heads, -1).copy_(probs32)
            torch.bmm(probs, values.view(batch * kv, -1, dim), out=self.attended)
            attended = self.attended.view(batch, -1)
            if packed is None:
                x.add_(torch.mm(attended, attn.o_proj.weight.t(), out=self.out))
            else:
                x.add_(packed_product(attended, packed[index].o))
            mlp = layer.mlp
            h = F.rms_norm(x, (x.shape[-1],), None, eps_post).mul_(
                layer.post_attention_layernorm.weight
            )
            if packed is None:
                torch.mm(h, mlp.gate_proj.weight.t(), out=self.gate)
                torch.mm(h, mlp.up_proj.weight.t(), out=self.up)
                F.silu(self.gate, inplace=True).mul_(self.up)
                x.add_(torch.mm(self.gate, mlp.down_proj.weight.t(), out=self.out))
            else:
                gate_up = packed_product(h, packed[index].gate_up)
                gated = F.silu(gate_up[:, :inter]).mul_(gate_up[:, inter:])
                x.add_(packed_product(gated, packed[index].down))
        cache.lengths += 1
        return F.rms_norm(x, (x.shape[-1],), None, self.final_eps).mul_(self.lm.norm.weight)


__all__ = ["BatchDecoder"]
