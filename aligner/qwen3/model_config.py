"""The sizes of a Qwen3-ForcedAligner network, read from its ``config.json`` (no transformers).

Both checkpoint layouts describe the same network: the native (``-hf``) one in
``audio_config`` / ``text_config`` / ``num_labels``, the original one in
``thinker_config``, which :func:`qalign.checkpoint_layout.convert_original_config`
rewrites into the native form first. :func:`aligner_config` reads that form.
A key the file leaves out takes the value transformers' ``Qwen3ASRConfig`` gives
it (the defaults below), so a checkpoint builds the same network either way.
Sizes that do not fit the weights are caught when the weights are loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: transformers' defaults for the audio encoder (``Qwen3ASREncoderConfig``).
AUDIO_DEFAULTS: Mapping[str, Any] = {
    "num_mel_bins": 128, "encoder_layers": 24, "encoder_attention_heads": 16,
    "encoder_ffn_dim": 4096, "d_model": 1024, "activation_function": "gelu",
    "n_window": 50, "n_window_infer": 800, "output_dim": 3584,
    "downsample_hidden_size": 480, "max_position_embeddings": 13,
}  # fmt: skip
#: The encoder's other names for some keys (transformers' ``attribute_map``).
AUDIO_ALIASES: Mapping[str, str] = {
    "num_hidden_layers": "encoder_layers",
    "hidden_size": "d_model",
    "num_attention_heads": "encoder_attention_heads",
    "intermediate_size": "encoder_ffn_dim",
}
#: transformers' defaults for the language model (``Qwen3Config`` as ``Qwen3ASRConfig`` builds it).
TEXT_DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 6144,
    "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
    "head_dim": 128, "hidden_act": "silu", "rms_norm_eps": 1e-6, "attention_bias": False,
    "use_sliding_window": False,
}  # fmt: skip
#: transformers' ids (``Qwen3ASRConfig``) of the audio placeholder and ``<timestamp>`` tokens.
TOKEN_ID_DEFAULTS: Mapping[str, int] = {"audio_token_id": 151676, "timestamp_token_id": 151705}
#: RoPE base when the config names none (transformers' ``default_theta``).
DEFAULT_ROPE_THETA = 10_000.0
#: Activations the network may name, as ``torch.nn.functional`` functions.
ACTIVATIONS = ("gelu", "silu", "swish", "relu")


@dataclass(frozen=True, slots=True)
class AudioEncoderConfig:
    """The audio encoder: conv front end, transformer layers, projector into the LLM's width.

    Attributes:
        num_mel_bins: log-mel bins of the input (128).
        layers: transformer layers.
        heads: attention heads (``d_model`` divisible by it).
        ffn_dim: width of each layer's MLP.
        d_model: the encoder's width.
        activation: the MLP's and projector's activation (``"gelu"``).
        n_window: half a conv chunk, in mel frames (50: chunks of 1 s).
        n_window_infer: attention window in mel frames (800 = 8 s).
        output_dim: the projector's output width (the LLM's hidden size).
        conv_channels: channels of the three stride-2 convolutions.
        positions: rows of the sinusoidal position table (13: one chunk's tokens).
    """

    num_mel_bins: int
    layers: int
    heads: int
    ffn_dim: int
    d_model: int
    activation: str
    n_window: int
    n_window_infer: int
    output_dim: int
    conv_channels: int
    positions: int


@dataclass(frozen=True, slots=True)
class TextConfig:
    """The Qwen3 language model.

    Attributes:
        vocab_size: rows of the token embedding.
        hidden_size: the model's width.
        intermediate_size: width of the SwiGLU MLP.
        num_hidden_layers: decoder layers.
        num_attention_heads: query heads; ``num_key_value_heads`` key/value heads.
        head_dim: width of one head.
        hidden_act: the MLP's gate activation (``"silu"``).
        rms_norm_eps: epsilon of every RMSNorm.
        attention_bias: whether the q/k/v/o projections have biases.
        rope_theta: base of the rotary positions (plain RoPE).
    """

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    hidden_act: str
    rms_norm_eps: float
    attention_bias: bool
    rope_theta: float


@dataclass(frozen=True, slots=True)
class AlignerConfig:
    """The whole forced aligner: encoder, language model, and a ``num_labels``-way head."""

    audio: AudioEncoderConfig
    text: TextConfig
    num_labels: int
    head_bias: bool


def _audio(raw: Mapping[str, Any]) -> AudioEncoderConfig:
    values = dict(AUDIO_DEFAULTS)
    for key, value in raw.items():
        values[AUDIO_ALIASES.get(key, key)] = value
    for key, value in raw.items():  # the canonical name wins over an alias
        if key in AUDIO_DEFAULTS:
            values[key] = value
    activation = str(values["activation_function"])
    if activation not in ACTIVATIONS:
        raise ValueError(f"audio activation {activation!r} is not supported")
    d_model, heads = int(values["d_model"]), int(values["encoder_attention_heads"])
    if heads < 1 or d_model % heads:
        raise ValueError(f"d_model {d_model} is not a multiple of {heads} heads")
    return AudioEncoderConfig(
        num_mel_bins=int(values["num_mel_bins"]),
        layers=int(values["encoder_layers"]),
        heads=heads,
        ffn_dim=int(values["encoder_ffn_dim"]),
        d_model=d_model,
        activation=activation,
        n_window=int(values["n_window"]),
        n_window_infer=int(values["n_window_infer"]),
        output_dim=int(values["output_dim"]),
        conv_channels=int(values["downsample_hidden_size"]),
        positions=int(values["max_position_embeddings"]),
    )


def _text(raw: Mapping[str, Any]) -> TextConfig:
    values = {**TEXT_DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    if values.get("use_sliding_window"):
        raise ValueError("sliding-window attention layers are not supported")
    act = str(values["hidden_act"])
    if act not in ACTIVATIONS:
        raise ValueError(f"text activation {act!r} is not supported")
    rope = raw.get("rope_parameters") or raw.get("rope_scaling") or {}
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        raise ValueError(f"rope type {rope.get('rope_type')!r} is not supported")
    theta = rope.get("rope_theta", raw.get("rope_theta", DEFAULT_ROPE_THETA))
    heads = int(values["num_attention_heads"])
    kv_heads = int(values.get("num_key_value_heads") or heads)
    if heads % kv_heads:
        raise ValueError(
            f"{heads} attention heads are not a multiple of {kv_heads} key/value heads"
        )
    hidden = int(values["hidden_size"])
    return TextConfig(
        vocab_size=int(values["vocab_size"]),
        hidden_size=hidden,
        intermediate_size=int(values["intermediate_size"]),
        num_hidden_layers=int(values["num_hidden_layers"]),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=int(values.get("head_dim") or hidden // heads),
        hidden_act=act,
        rms_norm_eps=float(values["rms_norm_eps"]),
        attention_bias=bool(values["attention_bias"]),
        rope_theta=float(theta),
    )


def aligner_config(native: Mapping[str, Any]) -> AlignerConfig:
    """The network described by a native-layout config (a ``config.json`` dict).

    Raises:
        ValueError: the config names something this network cannot be (sliding
            windows, another RoPE type or activation, heads that do not divide the width,
            fewer than 3 timestamp classes).
    """
    num_labels = native.get("num_labels") or len(native.get("id2label") or {})
    if int(num_labels) <= 2:
        raise ValueError("config has no timestamp classes (num_labels / classify_num)")
    return AlignerConfig(
        audio=_audio(native.get("audio_config") or {}),
        text=_text(native.get("text_config") or {}),
        num_labels=int(num_labels),
        head_bias=bool(native.get("token_classification_bias", False)),
    )


def token_ids(native: Mapping[str, Any]) -> dict[str, int]:
    """The audio placeholder's and ``<timestamp>``'s ids in a native-layout config, each
    defaulting to :data:`TOKEN_ID_DEFAULTS` when left out."""
    return {key: native.get(key, default) for key, default in TOKEN_ID_DEFAULTS.items()}


__all__ = ["AlignerConfig", "AudioEncoderConfig", "TextConfig", "aligner_config", "token_ids"]
