"""Alignment engines behind one :class:`Aligner` interface.

``from qalign.aligner import align`` aligns one (audio, transcript) pair with
Qwen3-ForcedAligner; importing this package does not import torch.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from qalign.aligner.base import Aligner, AlignRequest

if TYPE_CHECKING:
    import numpy as np

    from qalign.alignment import Alignment

__all__ = ["AlignRequest", "Aligner", "align"]


@lru_cache(maxsize=1)
def _engine(model: str | None, device: str, dtype: str, decoder: str, granularity: str) -> Aligner:
    from qalign.aligner.qwen3 import Qwen3Aligner

    return Qwen3Aligner.from_pretrained(
        model, device=device, dtype=dtype, decoder=decoder, granularity=granularity
    )


def align(
    audio: str | Path | np.ndarray,
    transcript: str,
    language: str | None = None,
    *,
    model: str | Path | None = None,
    device: str = "auto",
    dtype: str = "auto",
    decoder: str = "monotonic",
    granularity: str = "word",
) -> Alignment:
    """Align one transcript to one audio file (or mono float32 samples at 16 kHz).

    The model is loaded on the first call and kept for later calls with the
    same options.

    Args:
        audio: an audio file path, or mono float32 samples at 16 kHz.
        transcript: the text spoken, with any punctuation and casing.
        language: language name or code (``"English"``, ``"de"``); ``None`` guesses from the script.
        model: Hub id or local folder (default: ``QALIGN_ALIGNER_MODEL``, else
            ``Qwen/Qwen3-ForcedAligner-0.6B``).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto``, ``fp32``, ``bf16`` or ``fp16``.
        decoder: ``monotonic`` (default) or ``reference`` (the official decoding).
        granularity: ``word`` (default) or ``char``.

    Raises:
        QalignError: the model cannot be loaded, or the item cannot be aligned
            (:class:`~qalign.errors.AudioError`, :class:`~qalign.errors.TranscriptError`,
            :class:`~qalign.errors.LanguageError`, :class:`~qalign.errors.AudioTooLongError`).
    """
    engine = _engine(None if model is None else str(model), device, dtype, decoder, granularity)
    return engine.align(audio, transcript, language)
