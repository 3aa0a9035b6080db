"""The audio encoder pass of a Qwen3-ASR model, one clip at a time, as the reference runs it.

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
   (8 s = 104 positions), the windowed attention FlashAttention computes;
4. a final layer norm and the two-layer projector map into the LLM's width.

Every clip is encoded on its own, so a batch never changes a clip's embeddings.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

#: Chunks (1 s each) convolved at once: bounds the convolutions' memory on long
#: clips (about 3 MB of activations per chunk in bf16 at the real model's width).
CONV_GROUP = 32


def _conv_len(frames: int) -> int:
    # kernel 3, stride 2, padding 1, three times: n -> ceil(n / 2) each time
    for _ in range(3):
        frames = (frames - 1) // 2 + 1
    return frames


@torch.no_grad()
def encode_audio(model: Any, features: torch.Tensor) -> torch.Tensor:
    """Audio embeddings for one clip, ready to replace its ``<|audio_pad|>`` tokens.

    Args:
        model: a loaded ``Qwen3ASRForConditionalGeneration`` (or token-classification) model.
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
        x = F.gelu(tower.conv2d1(x))
        x = F.gelu(tower.conv2d2(x))
        x = F.gelu(tower.conv2d3(x))
        n_chunks, channels, freq, steps = x.shape
        x = tower.conv_out(x.permute(0, 3, 1, 2).reshape(n_chunks, steps, channels * freq))
        x = x + table[:steps].to(x.dtype)
        pieces.extend(
            x[i, : _conv_len(length)]
            for i, length in enumerate(lengths[first : first + CONV_GROUP])
        )
    hidden = torch.cat(pieces)

    # Attention windows: n_window_infer frames' worth of positions, counted in
    # positions of the widest chunk (13 per 100 frames -> 104 per 800 frames).
    window = _conv_len(width) * (tower.n_window_infer // chunk)
    total = hidden.shape[0]
    bounds = list(range(0, total, window)) + [total]
    cu_seqlens = torch.tensor(bounds, dtype=torch.int32, device=hidden.device)
    for layer in tower.layers:
        hidden = layer(hidden, cu_seqlens)[0]
    hidden = tower.ln_post(hidden)
    return projector(hidden)


def num_audio_tokens(frames: int, chunk: int = 100) -> int:
    """How many embeddings :func:`encode_audio` returns for ``frames`` mel frames."""
    full, rest = divmod(frames, chunk)
    return full * _conv_len(chunk) + (_conv_len(rest) if rest else 0)
