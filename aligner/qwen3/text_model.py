"""The Qwen3 language model of both checkpoints, run layer by layer.

The aligner and the recogniser share this text stack (a Qwen3 decoder: RMSNorm,
grouped-query attention with per-head q/k norms, rotary positions, a SwiGLU MLP),
built from qalign's own modules for the aligner (:mod:`~qalign.aligner.qwen3.modules`)
and as transformers' ``Qwen3Model`` for the recogniser. :class:`TextModel` runs its
layers by hand with the model's own weights: the projections are the model's modules;
the norms (:func:`rms_norm`), rotary positions (:func:`rotate`) and the MLP
(:func:`gated_mlp`, which qalign's ``GatedMLP.forward`` also calls) are functions
here that give the modules' results bit for bit (tested); attention and the
key/value cache are ours:

* :meth:`TextModel.packed`: several sequences packed end to end into one pass (no
  padding between them), positions restarting at 0 in each, causal attention inside
  each (:func:`causal_attention`). A sequence's rows never depend on the other
  sequences of the pack. The row-wise layers run on tiles of a few fixed row counts
  and, in bf16, attention on whole blocks (:mod:`qalign.aligner.qwen3.shapes`: the
  CPU's kernel cache grows with every new shape); the results are those of one call
  at the sequence's own length, bit for bit.
* :meth:`TextModel.prefill` and :meth:`TextModel.step`: the same packed pass writing
  keys and values into a :class:`StaticCache` allocated once for a whole decode,
  then one token per sequence per step, each attending to its own cache rows.
  Nothing grows during decoding: keys, values and the additive mask live in
  buffers of fixed size, written in place.

On CUDA, attention inside a sequence is one fused ``scaled_dot_product_attention``
call; on the CPU it is :func:`causal_attention` (plain matrix products, which were
faster there than torch's fused CPU kernel and give batch-independent results).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from qalign.aligner.qwen3.shapes import by_rows, round_up

#: Query positions per block of :func:`causal_attention`.
ATTENTION_BLOCK = 128

_FUTURE: dict[tuple[int, int, str, torch.dtype], torch.Tensor] = {}


def _future_bias(block: int, groups: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``(block * groups, block)`` in ``dtype``: ``-inf`` where row ``r`` (position
    ``r // groups``) may not look, else 0.

    Added to a block's diagonal scores, for finite scores it masks as ``masked_fill``
    does, bit for bit (``x + 0`` is ``x``; a ``+inf`` or NaN score would differ), in a
    third of the time on the CPU (23 against 80 us a block).
    """
    key = (block, groups, str(device), dtype)
    if key not in _FUTURE:
        rows = torch.arange(block, device=device).repeat_interleave(groups)
        future = torch.arange(block, device=device)[None, :] > rows[:, None]
        bias = torch.zeros(future.shape, dtype=dtype, device=device)
        _FUTURE[key] = bias.masked_fill_(future, float("-inf"))
    return _FUTURE[key]


def causal_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    scale: float,
    out: torch.Tensor | None = None,
    *,
    fused: bool | None = None,
    whole_blocks: bool | None = None,
) -> torch.Tensor:
    """Causal softmax attention for one sequence with grouped-query heads.

    Args:
        query: ``(length, heads, dim)``.
        key, value: ``(length, kv_heads, dim)``; ``heads`` is a multiple of ``kv_heads``
            and query head ``h`` reads key/value head ``h // (heads // kv_heads)``.
        scale: multiplies the queries (usually ``dim ** -0.5``).
        out: ``(length, heads, dim)`` to write into, else a new tensor.
        fused: one ``scaled_dot_product_attention`` call (default on CUDA) instead
            of the block-wise products (default elsewhere).
        whole_blocks: block-wise, pad the sequence to whole blocks, so that every
            length gives one of a few shapes (default: in bf16 and fp16, whose products
            the CPU caches per shape; the result is the same bit for bit). Not in
            float32 (default): its products cache little, and there the padded last
            block differs in the last bits (up to 8e-5 in a logit, measured).

    The block-wise form stacks the query heads that share a key/value head into one
    matrix, so each block of :data:`ATTENTION_BLOCK` positions is two batched
    products over the key/value heads, against only the keys the block may see;
    only the block's diagonal square is masked. The softmax accumulates in float32
    (torch's CPU kernel does so for bf16 input). Every row is computed from its own
    sequence alone, so the result does not depend on what else is in a batch.
    """
    length, heads, dim = query.shape
    kv_heads = key.shape[1]
    groups = heads // kv_heads
    if out is None:
        out = torch.empty_like(query)
    if fused if fused is not None else query.device.type == "cuda":
        joined = F.scaled_dot_product_attention(
            query.transpose(0, 1)[None],
            key.transpose(0, 1)[None],
            value.transpose(0, 1)[None],
            is_causal=True,
            scale=scale,
            enable_gqa=groups > 1,
        )
        out.copy_(joined[0].transpose(0, 1))
        return out
    # (kv_heads, length * groups, dim): row l * groups + g is query head kv * groups + g at l.
    # The sequence may be padded with zero positions to whole blocks, so every product has
    # one of a few shapes (see qalign.aligner.qwen3.shapes): pad keys lie in every real
    # row's future, masked like any future key, and pad rows are dropped.
    block = ATTENTION_BLOCK
    if whole_blocks is None:
        whole_blocks = query.dtype != torch.float32
    padded = round_up(length, block) if whole_blocks else length
    # Each operand is written once into its padded layout (the queries scaled on the way).
    q = query.new_empty((kv_heads, padded, groups, dim))
    torch.mul(query.unflatten(1, (kv_heads, groups)).transpose(0, 1), scale, out=q[:, :length])
    q[:, length:].zero_()
    q = q.view(kv_heads, padded * groups, dim)
    # Keys stored (kv_heads, dim, length): each block's scores read them as a plain
    # (dim, end) matrix, faster on the CPU than a transposed (end, dim) view. Made in two
    # copies: one permuted copy straight to this layout took 3.3 against 0.8 ms at 2,827
    # positions.
    k_t = key.new_empty((kv_heads, dim, padded))
    k_t[:, :, :length] = key.transpose(0, 1).contiguous().transpose(1, 2)
    k_t[:, :, length:].zero_()
    v = value.new_empty((kv_heads, padded, dim))
    v[:, :length] = value.transpose(0, 1)
    v[:, length:].zero_()
    stacked = torch.empty_like(q)
    future = _future_bias(block, groups, query.device, q.dtype)
    # One buffer holds every block's scores in turn (the last block's are the largest),
    # and the softmax runs in place: the same bits, no new block-sized tensor per step.
    room = q.new_empty(kv_heads * min(block, padded) * groups * padded)
    for start in range(0, padded, block):
        end = min(padded, start + block)
        rows = slice(start * groups, end * groups)
        scores = room[: kv_heads * (end - start) * groups * end].view(kv_heads, -1, end)
        torch.bmm(q[:, rows], k_t[:, :, :end], out=scores)
        scores[:, :, start:end].add_(future[: (end - start) * groups, : end - start])
        torch.ops.aten._softmax.out(scores, -1, False, out=scores)
        torch.bmm(scores, v[:, :end], out=stacked[:, rows])
    out.view(length, kv_heads, groups, dim).copy_(
        stacked.view(kv_heads, padded, groups, dim)[:, :length].transpose(0, 1)
    )
    return out


def rms_norm(norm: Any, x: torch.Tensor) -> torch.Tensor:
    """The model's RMSNorm module ``norm`` applied to ``x``, with the same result bit for bit.

    transformers' ``Qwen3RMSNorm`` takes five element-wise passes (upcast, square,
    mean, scale, downcast) before its weight; torch's fused ``rms_norm`` does the
    float32 part in one, then the result is cast back and multiplied by the weight
    exactly as the module does.
    """
    eps = getattr(norm, "variance_epsilon", None)
    if eps is None:
        eps = norm.eps
    normed = F.rms_norm(x.float(), (x.shape[-1],), None, eps)
    return norm.weight * normed.to(x.dtype)


def signed_sin(sin: torch.Tensor) -> torch.Tensor:
    """``sin`` with the first half of its last axis negated, for :func:`rotate`."""
    half = sin.shape[-1] // 2
    return torch.cat((-sin[..., :half], sin[..., half:]), dim=-1)


def rotate(
    x: torch.Tensor,
    cos: torch.Tensor,
    signed: torch.Tensor,
    scratch: torch.Tensor | None = None,
) -> torch.Tensor:
    """Rotary positions applied to a fresh tensor ``x`` in place, bit for bit as
    ``x * cos + rotate_half(x) * sin`` (transformers' form); ``signed``: ``signed_sin(sin)``.

    ``rotate_half(x) * sin`` is ``(-x2 * s1, x1 * s2)`` for halves ``x1, x2`` and
    ``s1, s2``; ``x2 * -s1`` is the same number (negation is exact and rounding
    symmetric), so the halves are multiplied straight into one buffer, with no
    negated copy and no concatenation. ``scratch``: a buffer of ``x``'s shape for that
    product (else a new one); the recogniser's decoding steps pass their own.
    """
    half = x.shape[-1] // 2
    turned = torch.empty_like(x) if scratch is None else scratch
    torch.mul(x[..., half:], signed[..., :half], out=turned[..., :half])
    torch.mul(x[..., :half], signed[..., half:], out=turned[..., half:])
    return x.mul_(cos).add_(turned)


def gated_mlp(mlp: Any, x: torch.Tensor) -> torch.Tensor:
    """``down(act(gate(x)) * up(x))`` (SwiGLU) of a module with those four attributes.

    qalign's :class:`~qalign.aligner.qwen3.modules.GatedMLP` and transformers'
    ``Qwen3MLP`` both have them; the product is written into the activation, a fresh
    tensor, so no third wide tensor is made (the same bits as ``a * b``).
    """
    return mlp.down_proj(mlp.act_fn(mlp.gate_proj(x)).mul_(mlp.up_proj(x)))


@dataclass
class StaticCache:
    """Keys, values and the attention mask of a batch of sequences, allocated once.

    Attributes:
        keys, values: ``(layers, batch, kv_heads, capacity, dim)``.
        bias: ``(batch, capacity)`` float32, 0 where a row may attend and ``-inf`` elsewhere.
        lengths: ``(batch,)`` positions filled so far in each row.
    """

    keys: torch.Tensor
    values: torch.Tensor
    bias: torch.Tensor
    lengths: torch.Tensor

    @property
    def capacity(self) -> int:
        return int(self.keys.shape[3])


class TextModel:
    """The decoder layers of a Qwen3 language model, run by hand (see the module doc).

    ``language_model`` is qalign's :class:`~qalign.aligner.qwen3.modules.LanguageModel`
    or transformers' ``Qwen3Model``: both have the same layers, norms and rotary module.
    """

    def __init__(self, language_model: Any) -> None:
        cfg = language_model.config
        self.lm = language_model
        self.layers = list(language_model.layers)
        self.heads = int(cfg.num_attention_heads)
        self.kv_heads = int(cfg.num_key_value_heads)
        self.head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads)
        self.groups = self.heads // self.kv_heads
        attn = self.layers[0].self_attn
        self.scale = float(attn.scaling)
        if any(layer.self_attn.sliding_window for layer in self.layers):
            raise ValueError("sliding-window attention layers are not supported")

    # -- shared pieces -------------------------------------------------------------------

    def rotary(self, positions: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """cos and sin ``(n, 1, dim)`` for integer ``positions`` ``(n,)``, in ``like``'s dtype."""
        cos, sin = self.lm.rotary_emb(like, positions[None])
        return cos[0, :, None], sin[0, :, None]

    def _project(
        self, layer: Any, x: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q, k, v of ``x`` with rotary positions; ``signed_sin``: the sine through
        :func:`signed_sin`."""
        attn = layer.self_attn
        n = x.shape[0]
        h = rms_norm(layer.input_layernorm, x)
        q = rms_norm(attn.q_norm, attn.q_proj(h).view(n, self.heads, self.head_dim))
        k = rms_norm(attn.k_norm, attn.k_proj(h).view(n, self.kv_heads, self.head_dim))
        v = attn.v_proj(h).view(n, self.kv_heads, self.head_dim)
        return rotate(q, cos, signed_sin), rotate(k, cos, signed_sin), v

    @staticmethod
    def _finish(layer: Any, x: torch.Tensor, attended: torch.Tensor) -> torch.Tensor:
        """``x + o_proj(attended)``, then that plus the MLP of its post-attention norm."""
        # Residual sums added into the fresh products (a + b is b + a, bit for bit).
        x = layer.self_attn.o_proj(attended.reshape(x.shape[0], -1)).add_(x)
        return gated_mlp(layer.mlp, rms_norm(layer.post_attention_layernorm, x)).add_(x)

    # -- packed sequences, no cache ------------------------------------------------------

    def packed(
        self,
        embeds: torch.Tensor,
        positions: torch.Tensor,
        bounds: list[int],
        cache: StaticCache | None = None,
    ) -> torch.Tensor:
        """Final hidden states ``(total, hidden)`` of sequences packed end to end.

        Args:
            embeds: ``(total, hidden)`` input embeddings.
            positions: ``(total,)`` rotary positions (each sequence from 0).
            bounds: ``[0, end_1, end_2, ..., total]``: sequence ``i`` is rows
                ``bounds[i]:bounds[i + 1]``.
            cache: when given, sequence ``i``'s keys and values are also written into
                its row ``i`` (positions ``0..length-1``), for :meth:`step`.
        """
        cos, sin = self.rotary(positions, embeds)
        sin = signed_sin(sin)
        spans = list(zip(bounds[:-1], bounds[1:]))
        x = embeds
        for index, layer in enumerate(self.layers):
            # Row-wise work in tiles of a few fixed row counts (qalign.aligner.qwen3.shapes).
            q, k, v = by_rows(partial(self._project, layer), x, cos, sin)
            attended = torch.empty_like(q)
            for row, (start, end) in enumerate(spans):
                causal_attention(
                    q[start:end], k[start:end], v[start:end], self.scale, attended[start:end]
                )
                if cache is not None:
                    cache.keys[index, row, :, : end - start].copy_(k[start:end].transpose(0, 1))
                    cache.values[index, row, :, : end - start].copy_(v[start:end].transpose(0, 1))
            x = by_rows(partial(self._finish, layer), x, attended)
        return rms_norm(self.lm.norm, x)

    # -- decoding with a static cache ----------------------------------------------------

    def new_cache(self, batch: int, capacity: int, like: torch.Tensor) -> StaticCache:
        """An empty cache for ``batch`` rows of up to ``capacity`` positions each."""
        shape = (len(self.layers), batch, self.kv_heads, capacity, self.head_dim)
        return StaticCache(
            keys=torch.zeros(shape, dtype=like.dtype, device=like.device),
            values=torch.zeros(shape, dtype=like.dtype, device=like.device),
            bias=torch.full((batch, capacity), float("-inf"), device=like.device),
            lengths=torch.zeros(batch, dtype=torch.long, device=like.device),
        )

    @staticmethod
    def grow(cache: StaticCache, capacity: int) -> None:
        """Give every row of ``cache`` room for ``capacity`` positions (contents kept)."""
        old = cache.capacity
        if capacity <= old:
            return
        for name in ("keys", "values"):
            buffer = getattr(cache, name)
            shape = (*buffer.shape[:3], capacity, buffer.shape[4])
            bigger = buffer.new_zeros(shape)
            bigger[:, :, :, :old].copy_(buffer)
            setattr(cache, name, bigger)
        bias = cache.bias.new_full((cache.bias.shape[0], capacity), float("-inf"))
        bias[:, :old].copy_(cache.bias)
        cache.bias = bias

    def prefill(self, prompts: list[torch.Tensor], cache: StaticCache) -> torch.Tensor:
        """Run the prompts (``(length_i, hidden)`` each) as one pack, filling ``cache``.

        Returns the final hidden state of each prompt's last position, ``(batch, hidden)``.
        """
        lengths = [int(p.shape[0]) for p in prompts]
        if max(lengths) > cache.capacity:
            raise ValueError(f"a prompt of {max(lengths)} positions exceeds the cache")
        bounds = [0]
        for n in lengths:
            bounds.append(bounds[-1] + n)
        device = prompts[0].device
        positions = torch.cat([torch.arange(n, device=device) for n in lengths])
        hidden = self.packed(torch.cat(prompts), positions, bounds, cache)
        for row, n in enumerate(lengths):
            cache.bias[row, :n] = 0.0
        cache.lengths.copy_(torch.tensor(lengths, device=device))
        return hidden[torch.tensor(bounds[1:], device=device) - 1]

    def step(self, embeds: torch.Tensor, cache: StaticCache) -> torch.Tensor:
        """One new position per row: ``embeds`` ``(batch, hidden)`` -> final hidden ``(batch, hidden)``.

        Row ``b``'s token goes at position ``cache.lengths[b]`` (its own prompt
        length plus the steps so far) and attends to that row's cache only.
        """
        batch = embeds.shape[0]
        rows = torch.arange(batch, device=embeds.device)
        at = cache.lengths
        if int(at.max()) >= cache.capacity:
            raise ValueError("the static cache is full")
        cache.bias[rows, at] = 0.0
        seen = int(at.max()) + 1
        bias = cache.bias[:, None, None, :seen]
        cos, sin = self.rotary(at, embeds)
        sin = signed_sin(sin)
        x = embeds
        shape = (batch, self.kv_heads, self.groups, self.head_dim)
        for index, layer in enumerate(self.layers):
            q, k, v = self._project(layer, x, cos, sin)
            keys, values = cache.keys[index], cache.values[index]
            keys[rows, :, at] = k
            values[rows, :, at] = v
            scores = torch.matmul((q * self.scale).view(shape), keys[:, :, :seen].transpose(-1, -2))
            probs = torch.softmax(scores.float() + bias, dim=-1).to(q.dtype)
            attended = torch.matmul(probs, values[:, :, :seen])
            x = self._finish(layer, x, attended)
        cache.lengths += 1
        return rms_norm(self.lm.norm, x)


__all__ = [
    "ATTENTION_BLOCK",
    "StaticCache",
    "TextModel",
    "causal_attention",
    "gated_mlp",
    "rms_norm",
    "rotate",
    "signed_sin",
]
