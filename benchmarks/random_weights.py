"""Random bf16 weights for the benchmark checkpoints, written once for both models.

``aligner_checkpoint.py`` (Qwen3-ForcedAligner) and ``asr_checkpoint.py`` (Qwen3-ASR)
both build a model of a given config with random weights, save it in transformers'
native layout and again under the original package's ``thinker.*`` names, next to
tokenizer files copied from a tiny parity checkpoint. The shared steps live here:

* :func:`random_bf16_model`: the model is built on the meta device and given
  uninitialised bf16 storage, which is then filled: no float32 copy of the
  parameters and no slow default initialisation. Matrices are drawn from
  N(0, ``std``) with a seeded generator, 1-d parameters are 1 (norm scales) or 0
  (names ending in ``bias``). Non-persistent buffers (rotary tables) are left
  as they are, so the model is for saving, not for running.
* :func:`fill_`: the fill rule for one tensor, shared with
  ``checkpoint_skeleton.py``'s refill.
* :func:`renamed`: a state dict under other names, by prefix (native -> original).
* :func:`copy_files`: the template files that exist, copied.

Heavy imports (torch, transformers) happen inside the functions.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: Config keys that are not constructor arguments of the config class.
_NOT_CONFIG = ("architectures", "transformers_version", "model_type", "dtype")


def random_bf16_model(
    model_class: Any, config_dict: Mapping[str, Any], seed: int = 0, std: float = 0.02
):
    """``model_class`` of ``Qwen3ASRConfig(**config_dict)`` with random bf16 weights, in eval mode.

    Args:
        model_class: a transformers model class taking a ``Qwen3ASRConfig``.
        config_dict: the native ``config.json`` contents.
        seed: the generator's seed: the same seed gives the same weights.
        std: standard deviation of the matrices.
    """
    import torch
    from transformers import Qwen3ASRConfig

    config = Qwen3ASRConfig(**{k: v for k, v in config_dict.items() if k not in _NOT_CONFIG})
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device("meta"):
            model = model_class(config)
    finally:
        torch.set_default_dtype(previous)
    model = model.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            fill_(param, name, std, generator)
    model.config.dtype = torch.bfloat16
    return model.eval()


def fill_(tensor: Any, name: str, std: float, generator: Any) -> Any:
    """Fill ``tensor`` in place by the benchmark checkpoints' rule; returns it.

    1-d tensors become 0 when ``name`` ends in ``bias``, else 1 (norm scales);
    the others are drawn from N(0, ``std``) with ``generator`` (which must be on
    the tensor's device). Only matrices advance the generator, so one seed gives
    the same values for the same sequence of tensors.
    """
    if tensor.ndim == 1:
        return tensor.fill_(0.0 if name.endswith("bias") else 1.0)
    return tensor.normal_(0.0, std, generator=generator)


def renamed_key(key: str, prefixes: Sequence[tuple[str, str]]) -> str:
    """``key`` with its first matching prefix of ``(old, new)`` pairs replaced.

    Raises:
        ValueError: the key matches no prefix.
    """
    for old, new in prefixes:
        if key.startswith(old):
            return new + key[len(old) :]
    raise ValueError(f"no original-layout name for weight {key!r}")


def renamed(state: Mapping[str, Any], prefixes: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """``state`` under :func:`renamed_key` names, values made contiguous (for safetensors)."""
    return {renamed_key(key, prefixes): value.contiguous() for key, value in state.items()}


def copy_files(src: Path, dst: Path, names: Iterable[str]) -> None:
    """Copy the files ``names`` that exist in ``src`` into ``dst``."""
    for name in names:
        if (src / name).is_file():
            shutil.copyfile(src / name, dst / name)
