"""Qwen3-ForcedAligner as plain ``torch.nn`` modules, with the checkpoint's weight names.

The module tree and its parameter names are those of transformers'
``Qwen3ASRForTokenClassification`` (``model.audio_tower.*``,
``model.multi_modal_projector.*``, ``model.language_model.*``, ``score.*``), so
a native-layout file loads as it is and an original-layout one after the renames
of :mod:`qalign.checkpoint_layout`. Only what inference needs is here: the
layers' weights, the two position tables (computed as transformers computes
them, in float32), and the small ``forward`` methods that
:mod:`~qalign.aligner.qwen3.audio_encoder` and
:mod:`~qalign.aligner.qwen3.text_model` call (projector, norms, rotary angles).
The MLP's ``forward`` is :func:`~qalign.aligner.qwen3.text_model.gated_mlp`, which
the hand-run text stack calls on the module directly. Those two modules run the
passes; nothing here imports transformers.

:func:`build_aligner` builds the tree on torch's ``meta`` device (no memory, no
random initialisation); :func:`qalign.weights.load_weights` then puts the
file's tensors in place.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from qalign.aligner.qwen3.model_config import (
    ACTIVATIONS,
    AlignerConfig,
    AudioEncoderConfig,
    TextConfig,
)
from qalign.aligner.qwen3.text_model import gated_mlp, rms_norm

_FUNCTIONS: dict[str, Any] = {"gelu": F.gelu, "silu": F.silu, "swish": F.silu, "relu": F.relu}
# One entry per name model_config accepts (a name added there without a function fails here).
_ACTIVATIONS: dict[str, Any] = {name: _FUNCTIONS[name] for name in ACTIVATIONS}
#: Longest period of the encoder's sinusoidal position table.
MAX_TIMESCALE = 10_000


def sinusoid_table(length: int, channels: int) -> torch.Tensor:
    """The encoder's position table ``(length, channels)`` float32: sines, then cosines.

    Computed as transformers' ``SinusoidsPositionEmbedding`` computes it (same
    operations, same dtypes), so the values are the same bit for bit.
    """
    step = math.log(MAX_TIMESCALE) / (channels // 2 - 1)
    rates = torch.exp(-step * torch.arange(channels // 2, device="cpu").float())
    angles = torch.arange(length, device="cpu")[:, None] * rates[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class _Table(nn.Module):
    """Holds the position table as a non-persistent buffer (it is not in the checkpoint)."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("positional_embedding", table, persistent=False)


class RMSNorm(nn.Module):
    """Root-mean-square norm with a learned scale, computed in float32 and cast back."""

    def __init__(self, size: int, eps: float, dtype: torch.dtype) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size, dtype=dtype))
        self.variance_epsilon = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(self, x)


class EncoderAttention(nn.Module):
    """Projections of one encoder attention layer (full attention inside each window)."""

    def __init__(self, cfg: AudioEncoderConfig, dtype: torch.dtype) -> None:
        super().__init__()
        self.embed_dim = cfg.d_model
        self.num_heads = cfg.heads
        self.scaling = (cfg.d_model // cfg.heads) ** -0.5
        for name in ("k_proj", "v_proj", "q_proj", "out_proj"):
            setattr(self, name, nn.Linear(cfg.d_model, cfg.d_model, bias=True, dtype=dtype))


class EncoderLayer(nn.Module):
    """Pre-norm encoder layer: windowed attention, then an MLP."""

    def __init__(self, cfg: AudioEncoderConfig, dtype: torch.dtype) -> None:
        super().__init__()
        self.self_attn = EncoderAttention(cfg, dtype)
        self.self_attn_layer_norm = nn.LayerNorm(cfg.d_model, dtype=dtype)
        self.activation_fn = _ACTIVATIONS[cfg.activation]
        self.fc1 = nn.Linear(cfg.d_model, cfg.ffn_dim, dtype=dtype)
        self.fc2 = nn.Linear(cfg.ffn_dim, cfg.d_model, dtype=dtype)
        self.final_layer_norm = nn.LayerNorm(cfg.d_model, dtype=dtype)


class AudioEncoder(nn.Module):
    """Three stride-2 convolutions, a linear map, a position table, layers, a final norm."""

    def __init__(self, cfg: AudioEncoderConfig, dtype: torch.dtype) -> None:
        super().__init__()
        channels = cfg.conv_channels
        self.n_window = cfg.n_window
        self.n_window_infer = cfg.n_window_infer
        self.positional_embedding = _Table(sinusoid_table(cfg.positions, cfg.d_model))
        self.layers = nn.ModuleList(EncoderLayer(cfg, dtype) for _ in range(cfg.layers))
        self.ln_post = nn.LayerNorm(cfg.d_model, dtype=dtype)
        self.conv2d1 = nn.Conv2d(1, channels, 3, 2, padding=1, dtype=dtype)
        self.conv2d2 = nn.Conv2d(channels, channels, 3, 2, padding=1, dtype=dtype)
        self.conv2d3 = nn.Conv2d(channels, channels, 3, 2, padding=1, dtype=dtype)
        freq = cfg.num_mel_bins
        for _ in range(3):
            freq = (freq + 1) // 2
        self.conv_out = nn.Linear(channels * freq, cfg.d_model, bias=False, dtype=dtype)


class Projector(nn.Module):
    """Two linear layers with an activation between: encoder width to the LLM's."""

    def __init__(self, cfg: AudioEncoderConfig, dtype: torch.dtype) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(cfg.d_model, cfg.d_model, dtype=dtype)
        self.act = _ACTIVATIONS[cfg.activation]
        self.linear_2 = nn.Linear(cfg.d_model, cfg.output_dim, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(x)))


class RotaryAngles(nn.Module):
    """cos and sin of the rotary angles for integer positions (plain RoPE)."""

    def __init__(self, cfg: TextConfig) -> None:
        super().__init__()
        dim = cfg.head_dim
        steps = torch.arange(0, dim, 2, dtype=torch.float, device="cpu") / dim
        self.register_buffer("inv_freq", 1.0 / (cfg.rope_theta**steps), persistent=False)

    def forward(self, like: torch.Tensor, positions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(cos, sin)``, each ``positions.shape + (head_dim,)``, in ``like``'s dtype."""
        freqs = positions[..., None].float() * self.inv_freq.to(device=like.device)
        angles = torch.cat((freqs, freqs), dim=-1)
        return angles.cos().to(like.dtype), angles.sin().to(like.dtype)


class DecoderAttention(nn.Module):
    """Projections and per-head q/k norms of one language-model attention layer."""

    sliding_window = None

    def __init__(self, cfg: TextConfig, dtype: torch.dtype) -> None:
        super().__init__()
        hd, bias = cfg.head_dim, cfg.attention_bias
        self.scaling = hd**-0.5
        self.q_proj = nn.Linear(cfg.hidden_size, cfg.num_attention_heads * hd, bias, dtype=dtype)
        self.k_proj = nn.Linear(cfg.hidden_size, cfg.num_key_value_heads * hd, bias, dtype=dtype)
        self.v_proj = nn.Linear(cfg.hidden_size, cfg.num_key_value_heads * hd, bias, dtype=dtype)
        self.o_proj = nn.Linear(cfg.num_attention_heads * hd, cfg.hidden_size, bias, dtype=dtype)
        self.q_norm = RMSNorm(hd, cfg.rms_norm_eps, dtype)
        self.k_norm = RMSNorm(hd, cfg.rms_norm_eps, dtype)


class GatedMLP(nn.Module):
    """``down(act(gate(x)) * up(x))``, the SwiGLU MLP."""

    def __init__(self, cfg: TextConfig, dtype: torch.dtype) -> None:
        super().__init__()
        wide = cfg.intermediate_size
        self.gate_proj = nn.Linear(cfg.hidden_size, wide, bias=False, dtype=dtype)
        self.up_proj = nn.Linear(cfg.hidden_size, wide, bias=False, dtype=dtype)
        self.down_proj = nn.Linear(wide, cfg.hidden_size, bias=False, dtype=dtype)
        self.act_fn = _ACTIVATIONS[cfg.hidden_act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gated_mlp(self, x)


class DecoderLayer(nn.Module):
    """One Qwen3 decoder layer (pre-norm attention, pre-norm MLP)."""

    def __init__(self, cfg: TextConfig, dtype: torch.dtype) -> None:
        super().__init__()
        self.self_attn = DecoderAttention(cfg, dtype)
        self.mlp = GatedMLP(cfg, dtype)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, dtype)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, dtype)


class LanguageModel(nn.Module):
    """Token embedding, decoder layers, final norm, rotary angles; ``config`` gives the sizes."""

    def __init__(self, cfg: TextConfig, dtype: torch.dtype) -> None:
        super().__init__()
        self.config = cfg
        # An explicit (meta) weight: Embedding's random init on the meta device would
        # import torch._dynamo (about 1 s) for nothing.
        table = torch.empty((cfg.vocab_size, cfg.hidden_size), dtype=dtype)
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size, _weight=table)
        self.layers = nn.ModuleList(DecoderLayer(cfg, dtype) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, dtype)
        self.rotary_emb = RotaryAngles(cfg)


class _Backbone(nn.Module):
    def __init__(self, cfg: AlignerConfig, dtype: torch.dtype) -> None:
        super().__init__()
        self.audio_tower = AudioEncoder(cfg.audio, dtype)
        self.language_model = LanguageModel(cfg.text, dtype)
        self.multi_modal_projector = Projector(cfg.audio, dtype)


class ForcedAlignerNetwork(nn.Module):
    """The whole aligner: ``model`` (encoder, projector, language model) and the ``score`` head."""

    def __init__(self, cfg: AlignerConfig, dtype: torch.dtype) -> None:
        super().__init__()
        self.config = cfg
        self.model = _Backbone(cfg, dtype)
        self.score = nn.Linear(cfg.text.hidden_size, cfg.num_labels, cfg.head_bias, dtype=dtype)


def build_aligner(cfg: AlignerConfig, dtype: torch.dtype) -> ForcedAlignerNetwork:
    """The network with its weights on the ``meta`` device (to be replaced by the file's).

    The position tables, which the checkpoint does not hold, are real float32
    tensors on the CPU.
    """
    with torch.device("meta"):
        return ForcedAlignerNetwork(cfg, dtype).eval()


__all__ = ["ForcedAlignerNetwork", "build_aligner", "sinusoid_table"]
