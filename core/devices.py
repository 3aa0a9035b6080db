"""Where and in which dtype a model runs: ``auto`` resolved, other names checked.

torch is imported inside the functions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from qalign.errors import QalignError

if TYPE_CHECKING:
    import torch


def resolve_device(device: str) -> str:
    """Turn ``"auto"`` into ``"cuda"``, then ``"mps"``, then ``"cpu"``; check any other name.

    Raises:
        QalignError: the device is unknown or not available here.
    """
    import torch

    name = (device or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise QalignError(
            f"unknown device {device!r} (use auto, cpu, cuda, cuda:N or mps)"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise QalignError(f"device {device!r} requested but CUDA is not available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise QalignError(
                f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise QalignError(f"device {device!r} requested but MPS is not available")
    elif dev.type != "cpu":
        raise QalignError(f"unsupported device {device!r} (use auto, cpu, cuda, cuda:N or mps)")
    return name


_DTYPE_NAMES = {
    "fp32": "float32", "float32": "float32", "float": "float32",
    "bf16": "bfloat16", "bfloat16": "bfloat16",
    "fp16": "float16", "float16": "float16", "half": "float16",
}  # fmt: skip


def cpu_has_fast_bf16(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), read from ``cpuinfo``.

    Where that file does not exist (macOS, Windows) the answer is ``False``: bf16
    would be emulated there and slower than fp32.
    """
    try:
        text = Path(cpuinfo).read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[-1].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def resolve_dtype(dtype: str, device: str) -> torch.dtype:
    """Turn ``"auto"`` into bf16 where it is fast (CUDA with bf16, CPUs with AVX512-BF16 or AMX), else fp32.

    Explicit names: ``fp32``/``float32``, ``bf16``/``bfloat16``, ``fp16``/``float16``.

    Raises:
        QalignError: unknown dtype name.
    """
    import torch

    name = (dtype or "auto").strip().lower()
    if name == "auto":
        kind = torch.device(device).type
        if kind == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        if kind == "cpu" and cpu_has_fast_bf16():
            return torch.bfloat16
        return torch.float32
    if name not in _DTYPE_NAMES:
        raise QalignError(f"unknown dtype {dtype!r} (use auto, fp32, bf16 or fp16)")
    return getattr(torch, _DTYPE_NAMES[name])


__all__ = ["cpu_has_fast_bf16", "resolve_device", "resolve_dtype"]
