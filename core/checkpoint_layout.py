"""The two checkpoint layouts: which one a folder holds, and the original one in native terms.

* the **original** layout (``Qwen/Qwen3-ForcedAligner-0.6B``, ``Qwen/Qwen3-ASR-*``):
  ``config.json`` nests the model in ``thinker_config`` and the weights are named
  ``thinker.*``;
* the **native** transformers layout (``...-hf`` repositories): ``audio_config``,
  ``text_config``, and the weight names of ``Qwen3ASRForTokenClassification``
  (aligner) or ``Qwen3ASRForConditionalGeneration`` (ASR).

An original checkpoint is converted in memory: its config by
:func:`convert_original_config`, its weight names by :func:`rename_original_key`.
Nothing here imports torch or transformers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from qalign.errors import ModelLoadError
from qalign.model_files import Kind

# Weight renames original -> native. Each pattern is anchored and maps an original
# prefix straight to its final name, so the order in which they apply does not matter.
_AUDIO_RENAMES = {
    r"^thinker\.audio_tower\.proj1\.": "model.multi_modal_projector.linear_1.",
    r"^thinker\.audio_tower\.proj2\.": "model.multi_modal_projector.linear_2.",
    r"^thinker\.audio_tower\.(?!proj[12]\.)": "model.audio_tower.",
    r"^thinker\.model\.": "model.language_model.",
}
_HEAD_RENAME = {"aligner": "score.", "asr": "lm_head."}

# Config keys carried over from the original sub-configs; the rest are generation
# defaults or keys the native classes do not know (mrope, max_source_positions).
_AUDIO_KEYS = (
    "activation_dropout", "activation_function", "attention_dropout", "d_model",
    "downsample_hidden_size", "dropout", "encoder_attention_heads", "encoder_ffn_dim",
    "encoder_layers", "initializer_range", "n_window", "n_window_infer", "num_mel_bins",
    "output_dim", "scale_embedding",
)  # fmt: skip
_TEXT_KEYS = (
    "attention_bias", "attention_dropout", "head_dim", "hidden_act", "hidden_size",
    "initializer_range", "intermediate_size", "max_position_embeddings", "num_attention_heads",
    "num_hidden_layers", "num_key_value_heads", "rms_norm_eps", "vocab_size",
    "tie_word_embeddings", "use_cache", "sliding_window", "use_sliding_window",
    "max_window_layers",
)  # fmt: skip
# Number of audio tokens one 100-frame encoder chunk yields; the native encoder's
# sinusoidal table only needs that many rows.
_TOKENS_PER_CHUNK = 13


def layout_and_kind(
    folder: Path, raw: dict[str, Any]
) -> tuple[Literal["original", "native"], Kind]:
    """The folder's layout and the kind of model its ``config.json`` describes.

    Raises:
        ModelLoadError: not a Qwen3-ASR / Qwen3-ForcedAligner config.
    """
    model_type = raw.get("model_type")
    if isinstance(raw.get("thinker_config"), dict):
        thinker = raw["thinker_config"]
        is_aligner = (
            "classify_num" in thinker or thinker.get("model_type") == "qwen3_forced_aligner"
        )
        return "original", "aligner" if is_aligner else "asr"
    if model_type != "qwen3_asr":
        raise ModelLoadError(
            folder, f"model_type {model_type!r} is not a Qwen3-ASR / Qwen3-ForcedAligner checkpoint"
        )
    archs = raw.get("architectures") or []
    if "Qwen3ASRForTokenClassification" in archs:
        return "native", "aligner"
    if "Qwen3ASRForConditionalGeneration" in archs:
        return "native", "asr"
    n_labels = raw.get("num_labels") or len(raw.get("id2label") or {})
    return "native", "aligner" if n_labels > 2 else "asr"


def convert_original_config(raw: dict[str, Any], kind: Kind) -> dict[str, Any]:
    """The native ``Qwen3ASRConfig`` keyword arguments for an original-layout ``config.json``.

    ``thinker_config`` is flattened, ``classify_num`` becomes ``num_labels``, the
    audio table is cut to 13 positions and the mRoPE keys are dropped: with audio
    and text only, the three interleaved position rows are equal, which is plain RoPE.
    """
    thinker = raw["thinker_config"]
    audio_in = thinker.get("audio_config") or {}
    text_in = thinker.get("text_config") or {}
    audio = {k: audio_in[k] for k in _AUDIO_KEYS if k in audio_in}
    if "num_attention_heads" in audio_in and "encoder_attention_heads" not in audio:
        audio["encoder_attention_heads"] = audio_in["num_attention_heads"]
    audio["model_type"] = "qwen3_asr_encoder"
    audio["max_position_embeddings"] = _TOKENS_PER_CHUNK
    text = {k: text_in[k] for k in _TEXT_KEYS if k in text_in}
    text["model_type"] = "qwen3"
    rope = text_in.get("rope_parameters") or {}
    text["rope_parameters"] = {
        "rope_theta": rope.get("rope_theta", text_in.get("rope_theta", 1_000_000)),
        "rope_type": "default",
    }
    out: dict[str, Any] = {
        "audio_config": audio,
        "text_config": text,
        "audio_token_id": thinker["audio_token_id"],
        "tie_word_embeddings": bool(text_in.get("tie_word_embeddings", False)),
    }
    if kind == "aligner":
        out["num_labels"] = int(thinker["classify_num"])
        out["timestamp_token_id"] = raw["timestamp_token_id"]
        out["tie_word_embeddings"] = False
    elif "timestamp_token_id" in raw:
        out["timestamp_token_id"] = raw["timestamp_token_id"]
    return out


def _weight_renames(kind: Kind) -> dict[str, str]:
    return {**_AUDIO_RENAMES, r"^thinker\.lm_head\.": _HEAD_RENAME[kind]}


def rename_original_key(key: str, kind: Kind) -> str:
    """The native name of an original-layout weight name (``thinker.*``)."""
    for pattern, target in _weight_renames(kind).items():
        if re.match(pattern, key):
            return re.sub(pattern, target, key, count=1)
    if key.startswith("thinker."):
        return "model." + key[len("thinker.") :]
    return key


__all__ = ["convert_original_config", "layout_and_kind", "rename_original_key"]
