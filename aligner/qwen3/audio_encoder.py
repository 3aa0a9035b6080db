"""The audio encoder pass of Qwen3-ASR and Qwen3-ForcedAligner, one clip at a time, as the reference runs it.

transformers' ``Qwen3ASREncoder`` needs the mel axis padded to a multiple of
100 frames and always convolves full 100-frame chunks. The reference
implementation differs in one case that matters: a clip shorter than one chunk
(under 1 s) is convolved *unpadded*, so each convolution sees its own implicit
zero border (padding it to 100 frames changes the logits by up to 3.8). This
module reproduces the reference exactly and reuses the model's own layers:

1. the clip's log-mel frames are cut into 100-frame chunks; a final partial
   chunk is zero-padded to 100 frames when full chunks exist, and left as it is
   when it is the only chunk;
2. three stride-2 convolutions and a linear layer turn each chunk into 13 audio
   positions (fewer for a partial chunk), plus a sinusoidal position table that
   restarts in every chunk;
3. the transformer layers attend within windows of ``n_window_infer`` frames
   (8 s = 104 positions), the windowed attention FlashAttention computes
   (:func:`window_attention`: one masked fused call on CUDA, elsewhere the full
   windows as one batch of matrix products and the last partial window alone);
4. a final layer norm and the two-layer projector map into the LLM's width.

Every clip is encoded on its own, so a batch never changes a clip's embeddings.
Both models share this encoder (the aligner's and the recogniser's towers have
the same structure).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from qalign.aligner.qwen3.features import num_audio_tokens
from qalign.aligner.qwen3.shapes import by_rows, pad_to

#: Chunks (1 s each) convolved at once. The first convolution's output is about
#: 3 MB per chunk in bf16 at the real model's width; eight chunks keep the stack's
#: activations in the CPU's cache (32 chunks at once were 1.3x slower on the CPU)
#: and bound memory on long clips. A chunk's result does not depend on the group.
CONV_GROUP = 8

#: Attention windows per call of the encoder's row-wise layers (five 8 s windows: a
#: 120 s clip is three full calls).
TILE_WINDOWS = 5


def use_channels_last(model: Any) -> None:
    """Store the encoder's convolution weights channels-last (oneDNN's faster CPU layout)."""
    tower = model.model.audio_tower
    for conv in (tower.conv2d1, tower.conv2d2, tower.conv2d3):
        conv.to(memory_format=torch.channels_last)


@torch.inference_mode()
def encode_audio(model: Any, features: torch.Tensor) -> torch.Tensor:
    """Audio embeddings for one clip, ready to replace its ``<|audio_pad|>`` tokens.

    Args:
        model: a loaded aligner (:class:`~qalign.aligner.qwen3.modules.ForcedAlignerNetwork`)
            or transformers' ``Qwen3ASRForConditionalGeneration``: the same encoder layers.
        features: log-mel frames of one clip, shape ``(n_mels, frames)`` with ``frames >= 1``.

    Returns:
        Tensor ``(n_audio_tokens, hidden)`` in the model's dtype, on its device;
        ``n_audio_tokens`` is 13 per full 100-frame chunk plus the partial chunk's share.
    """
    tower = model.model.audio_tower
    projector = model.model.multi_modal_projector
    param = next(tower.parameters())
    feats = features.to(device=param.device, dtype=param.dtype)
    n_mels, frames = feats.shape
    if frames < 1:
        raise ValueError("cannot encode a clip with no mel frames")
    chunk = tower.n_window * 2
    full, rest = divmod(frames, chunk)
    lengths = [chunk] * full + ([rest] if rest else [])
    width = chunk if full else rest  # a lone partial chunk stays unpadded
    padded = feats.new_zeros((len(lengths), n_mels, width))
    for i, length in enumerate(lengths):
        padded[i, :, :length] = feats[:, i * chunk : i * chunk + length]

    pieces: list[torch.Tensor] = []
    table = tower.positional_embedding.positional_embedding
    for first in range(0, len(lengths), CONV_GROUP):
        x = padded[first : first + CONV_GROUP].unsqueeze(1)
        x = x.contiguous(memory_format=torch.channels_last)
        x = F.gelu(tower.conv2d1(x))
        x = F.gelu(tower.conv2d2(x))
        x = F.gelu(tower.conv2d3(x))
        n_chunks, channels, freq, steps = x.shape
        x = tower.conv_out(x.permute(0, 3, 1, 2).reshape(n_chunks, steps, channels * freq))
        x = x + table[:steps].to(x.dtype)
        pieces.extend(
            x[i, : num_audio_tokens(length, chunk)]
            for i, length in enumerate(lengths[first : first + CONV_GROUP])
        )
    hidden = torch.cat(pieces)

    # Attention windows: n_window_infer frames' worth of positions, counted in
    # positions of the widest chunk (13 per 100 frames -> 104 per 800 frames).
    window = num_audio_tokens(width, chunk) * (tower.n_window_infer // chunk)
    total = hidden.shape[0]
    bounds = list(range(0, total, window)) + [total]
    # Row-wise parts in tiles of a few fixed row counts (qalign.aligner.qwen3.shapes):
    # steps of one full window, tiles of TILE_WINDOWS windows.
    step = window_rows(tower.n_window, tower.n_window_infer)
    rows = partial(by_rows, step=step, tile=TILE_WINDOWS * step)
    for layer in tower.layers:
        hidden = _encoder_layer(layer, hidden, bounds, rows)
    return rows(lambda h: projector(tower.ln_post(h)), hidden)


def window_rows(n_window: int, n_window_infer: int) -> int:
    """Positions in one full attention window of the encoder (104 for 8 s windows).

    ``n_window``, ``n_window_infer``: the encoder config's values (a chunk is
    ``2 * n_window`` mel frames, a window ``n_window_infer`` frames).
    """
    chunk = 2 * n_window
    return num_audio_tokens(chunk, chunk) * (n_window_infer // chunk)


def window_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    scale: float,
    bounds: list[int],
    *,
    fused: bool | None = None,
    whole_window: bool = True,
) -> torch.Tensor:
    """Full (non-causal) attention inside each window ``bounds[i]:bounds[i + 1]``.

    ``query``, ``key``, ``value``: ``(heads, length, dim)``; returns the same shape.
    ``fused`` (default on CUDA): one ``scaled_dot_product_attention`` call over the
    whole clip with a block-diagonal mask, so no position sees past its window.
    Otherwise, in float32: one ``scaled_dot_product_attention`` call per window, the
    reference's own path (its results are matched bit for bit). In bf16/fp16 (the
    speed path): the windows of the first window's size are one batch of two matrix
    products with a softmax between them (torch's fused CPU kernel was 2-3x slower
    at these sizes), and a shorter last window is computed alone the same way, padded
    to the full size with its pad keys masked (``whole_window=False``: at its own
    length; same result). Every window is computed from its own rows only.
    """
    if fused if fused is not None else query.device.type == "cuda":
        window = torch.zeros(query.shape[1], dtype=torch.long, device=query.device)
        for start in bounds[1:-1]:
            window[start:] += 1
        allowed = window[:, None] == window[None, :]
        return F.scaled_dot_product_attention(
            query[None], key[None], value[None], attn_mask=allowed, scale=scale
        )[0]
    if query.dtype == torch.float32:  # the reference's own kernel, one call per window
        pieces = [
            F.scaled_dot_product_attention(
                query[None, :, a:b], key[None, :, a:b], value[None, :, a:b], scale=scale
            )[0]
            for a, b in zip(bounds[:-1], bounds[1:], strict=False)
        ]
        return pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=1)
    size = bounds[1] - bounds[0]
    sizes = [b - a for a, b in zip(bounds[:-1], bounds[1:], strict=False)]
    if any(n != size for n in sizes[:-1]) or sizes[-1] > size:
        raise ValueError(f"windows must be of one size but the last: {sizes}")
    full = size * (len(sizes) - (sizes[-1] != size))
    out = torch.empty_like(query)
    if full:
        q, k, v = (
            t[:, :full].unflatten(1, (-1, size)).transpose(0, 1) for t in (query, key, value)
        )
        out[:, :full] = _attend(q, k, v, scale).transpose(0, 1).flatten(1, 2)
    if full < query.shape[1] and not whole_window:
        out[:, full:] = _attend(query[:, full:], key[:, full:], value[:, full:], scale)
    elif full < query.shape[1]:
        # The last window is padded with zero positions to the full size (one shape for
        # every length, see qalign.aligner.qwen3.shapes); pad keys are masked out and pad
        # rows dropped, so the real rows are those of the window at its own length.
        rest = query.shape[1] - full
        q, k, v = (pad_to(t[:, full:], size, axis=1) for t in (query, key, value))
        out[:, full:] = _attend(q, k, v, scale, valid=rest)[:, :rest]
    return out


def _attend(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    scale: float,
    valid: int | None = None,
):
    """``softmax(query @ key^T * scale) @ value`` over the last two axes (batched).

    ``valid``: only the first ``valid`` keys are attended to (the rest are padding).
    """
    scores = torch.matmul(query * scale, key.transpose(-1, -2))
    if valid is not None:
        scores[..., valid:] = float("-inf")
    return torch.matmul(torch.softmax(scores, dim=-1), value)


def _encoder_layer(
    layer: Any, hidden: torch.Tensor, bounds: list[int], rows: Callable[..., Any]
) -> torch.Tensor:
    """One encoder layer (pre-norm attention within windows, then the GELU MLP).

    The row-wise parts run through ``rows`` (:func:`by_rows` with the encoder's sizes)."""
    attn = layer.self_attn
    n = hidden.shape[0]

    def project(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h = layer.self_attn_layer_norm(x)
        return tuple(proj(h) for proj in (attn.q_proj, attn.k_proj, attn.v_proj))

    q, k, v = (t.reshape(n, attn.num_heads, -1).transpose(0, 1) for t in rows(project, hidden))
    out = window_attention(q, k, v, attn.scaling, bounds)
    # Residual sums added into the fresh products (a + b is b + a, bit for bit).
    hidden = rows(attn.out_proj, out.transpose(0, 1).reshape(n, -1)).add_(hidden)
    hidden = rows(
        lambda x: layer.fc2(layer.activation_fn(layer.fc1(layer.final_layer_norm(x)))), hidden
    ).add_(hidden)
    if hidden.dtype == torch.float16:  # as the reference does
        limit = torch.finfo(hidden.dtype).max - 1000
        hidden = hidden.clamp(min=-limit, max=limit)
    return hidden
