"""Load Qwen3-ForcedAligner and Qwen3-ASR checkpoints, safely and in either layout.

A model is named by a Hugging Face Hub id or a local folder
(:mod:`qalign.model_files`). Both layouts on disk load here, the original
(``thinker_config``) and the native transformers one (``-hf``)
(:mod:`qalign.checkpoint_layout`):

* the **aligner** is built from plain ``torch.nn`` modules
  (:mod:`qalign.aligner.qwen3.modules`) and its tokenizer read with the
  ``tokenizers`` package (:mod:`qalign.tokenizer`): this path never imports
  transformers, whose import costs seconds;
* **ASR** builds transformers' ``Qwen3ASRForConditionalGeneration`` and its
  ``AutoTokenizer``.

Loading is strict: safetensors only, never remote code, and any missing,
unexpected or mis-shaped weight raises :class:`~qalign.errors.ModelLoadError`
(transformers on its own would randomly initialise what it cannot find). Weights
are memory-mapped straight into the target dtype (:mod:`qalign.weights`).

Heavy imports (torch, transformers) happen inside the functions.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from qalign.checkpoint_layout import convert_original_config, layout_and_kind, rename_original_key
from qalign.devices import cpu_has_fast_bf16, resolve_device, resolve_dtype
from qalign.errors import ModelLoadError
from qalign.model_files import (
    DEFAULT_MODELS,
    MODEL_ENV_VARS,
    Kind,
    check_weight_files,
    locate,
    read_config,
    resolve_model_name,
)
from qalign.model_summary import ModelSummary, summarize

if TYPE_CHECKING:
    import torch

log = logging.getLogger("qalign")


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A checkpoint ready for inference.

    Attributes:
        model: the network (plain torch modules for the aligner, transformers' model
            for ASR), in eval mode, on :attr:`device`, in :attr:`dtype`.
        tokenizer: the checkpoint's own tokenizer (its split regex unchanged).
        config: token ids and sizes read from the checkpoint.
        device: torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
        dtype: parameter dtype.
        source: the model as the user named it (Hub id or folder).
        path: the local folder the files were read from.
    """

    model: Any
    tokenizer: Any
    config: ModelSummary
    device: str
    dtype: torch.dtype
    source: str
    path: Path


def _invalid_config(folder: Path, exc: Exception) -> ModelLoadError:
    return ModelLoadError(folder, f"config.json is not a valid Qwen3-ASR config: {exc}")


def _build_aligner(
    folder: Path,
    raw: dict[str, Any],
    layout: Literal["original", "native"],
    dtype: torch.dtype,
    mapped: bool,
) -> tuple[Any, Any, dict[str, Any]]:
    """The aligner network with its weights, its tokenizer, and the sizes its summary needs."""
    from qalign.aligner.qwen3.model_config import aligner_config, token_ids
    from qalign.aligner.qwen3.modules import build_aligner
    from qalign.tokenizer import load_tokenizer
    from qalign.weights import load_weights

    native = convert_original_config(raw, "aligner") if layout == "original" else raw
    try:
        cfg = aligner_config(native)
        model = build_aligner(cfg, dtype)
    except (KeyError, TypeError, ValueError) as exc:
        raise _invalid_config(folder, exc) from None
    rename = (lambda key: rename_original_key(key, "aligner")) if layout == "original" else None
    load_weights(model, folder, rename, mapped=mapped)
    sizes = {
        **token_ids(native),
        "num_labels": cfg.num_labels,
        "num_mel_bins": cfg.audio.num_mel_bins,
        "n_window": cfg.audio.n_window,
        "n_window_infer": cfg.audio.n_window_infer,
    }
    return model, load_tokenizer(folder), sizes


def _build_asr(
    folder: Path,
    raw: dict[str, Any],
    layout: Literal["original", "native"],
    dtype: torch.dtype,
    mapped: bool,
) -> tuple[Any, Any, dict[str, Any]]:
    """transformers' ASR model with its weights, its ``AutoTokenizer``, and the summary's sizes."""
    from transformers import AutoTokenizer, Qwen3ASRConfig, Qwen3ASRForConditionalGeneration
    from transformers.initialization import no_init_weights

    from qalign.weights import load_weights

    try:
        if layout == "original":
            config = Qwen3ASRConfig(**convert_original_config(raw, "asr"))
        else:
            config = Qwen3ASRConfig.from_pretrained(folder, local_files_only=True)
        with no_init_weights():
            model = Qwen3ASRForConditionalGeneration._from_config(
                config, dtype=dtype, attn_implementation="sdpa"
            )
    except Exception as exc:  # noqa: BLE001 - a malformed config, in whatever way
        raise _invalid_config(folder, exc) from None
    tied = {}
    if getattr(config, "tie_word_embeddings", False) or getattr(
        config.text_config, "tie_word_embeddings", False
    ):
        tied = dict(getattr(model, "_tied_weights_keys", None) or {})
    rename = (lambda key: rename_original_key(key, "asr")) if layout == "original" else None
    load_weights(model, folder, rename, mapped=mapped, tied=tied)
    if tied:
        model.tie_weights()
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:  # noqa: BLE001
        raise ModelLoadError(folder, f"tokenizer cannot be loaded: {exc}") from None
    audio = config.audio_config
    sizes = {
        "audio_token_id": config.audio_token_id,
        "timestamp_token_id": getattr(config, "timestamp_token_id", None),
        "num_labels": None,
        "num_mel_bins": audio.num_mel_bins,
        "n_window": audio.n_window,
        "n_window_infer": audio.n_window_infer,
    }
    return model, tokenizer, sizes


def load_model(
    name_or_path: str | os.PathLike[str] | None,
    kind: Kind,
    *,
    device: str = "auto",
    dtype: str = "auto",
    mapped: bool | None = None,
) -> LoadedModel:
    """Load a Qwen3-ForcedAligner (``kind="aligner"``) or Qwen3-ASR (``kind="asr"``) checkpoint.

    Args:
        name_or_path: Hub id or local folder; ``None`` uses the kind's environment
            variable (``QALIGN_ALIGNER_MODEL`` / ``QALIGN_ASR_MODEL``), else the default model.
        kind: which model the caller expects; any other checkpoint is refused.
        device: ``"auto"`` (cuda, then mps, then cpu) or a torch device name.
        dtype: ``"auto"`` (see :func:`resolve_dtype`), ``"fp32"``, ``"bf16"`` or ``"fp16"``.
            Weights are loaded directly in this dtype.
        mapped: weights stay memory-mapped views of the file (no copy, pages read on
            first use) or are copied into the process; default: mapped for the aligner
            (one pass per clip), copied for ASR (decoding reads every weight at each step).

    Raises:
        ModelLoadError: the folder or Hub id cannot be found, has no safetensors weights,
            is not the expected kind of model, or any weight is missing, unexpected or mis-shaped.
        QalignError: unknown or unavailable device or dtype.
    """
    if kind not in DEFAULT_MODELS:
        raise ValueError(f"kind must be 'aligner' or 'asr', not {kind!r}")
    source = resolve_model_name(name_or_path, kind)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    folder = locate(source, kind)
    raw = read_config(folder)
    layout, found_kind = layout_and_kind(folder, raw)
    if found_kind != kind:
        wanted = "a forced aligner" if kind == "aligner" else "an ASR model"
        got = "a forced aligner" if found_kind == "aligner" else "an ASR model"
        raise ModelLoadError(folder, f"is {got} checkpoint, but {wanted} is needed here")
    check_weight_files(folder)
    keep_mapped = kind == "aligner" if mapped is None else mapped
    build = _build_aligner if kind == "aligner" else _build_asr
    model, tokenizer, sizes = build(folder, raw, layout, torch_dtype, keep_mapped)
    summary = summarize(folder, raw, layout, kind, tokenizer, sizes)
    model.eval()
    if dev != "cpu":
        model.to(dev)
    log.info(
        "loaded %s (%s layout, %s) on %s as %s",
        source,
        layout,
        kind,
        dev,
        str(torch_dtype).replace("torch.", ""),
    )
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        config=summary,
        device=dev,
        dtype=torch_dtype,
        source=source,
        path=folder,
    )


__all__ = [
    "DEFAULT_MODELS",
    "MODEL_ENV_VARS",
    "LoadedModel",
    "ModelSummary",
    "convert_original_config",
    "cpu_has_fast_bf16",
    "load_model",
    "locate",
    "rename_original_key",
    "resolve_device",
    "resolve_dtype",
    "resolve_model_name",
]
