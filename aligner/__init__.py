"""Alignment engines behind one :class:`Aligner` interface, and the long-form layer over them.

``from qalign.aligner import align`` aligns one (audio, transcript) pair of any
length with either engine; importing this package does not import torch.
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


@lru_cache(maxsize=2)
def _engine(
    engine: str,
    language: str | None,
    model: str | None,
    device: str,
    dtype: str,
    decoder: str,
    granularity: str,
) -> Aligner:
    from qalign.aligner.engines import EngineOptions, create_aligner

    return create_aligner(
        engine, EngineOptions(model, device, dtype, decoder, granularity), language
    )


def align(
    audio: str | Path | np.ndarray,
    transcript: str,
    language: str | None = None,
    *,
    engine: str = "auto",
    model: str | Path | None = None,
    device: str = "auto",
    dtype: str = "auto",
    decoder: str = "monotonic",
    granularity: str = "word",
) -> Alignment:
    """Align one transcript to one audio file (or mono float32 samples at 16 kHz), of any length.

    Long audio is aligned window by window (:mod:`qalign.aligner.longform`);
    every unit says how it was placed (``Unit.status``) and
    ``Alignment.stretches`` lists the runs that could not be placed. The engine
    is built on the first call and kept for later calls with the same options.

    Args:
        audio: an audio file path (decoded window by window), or mono float32 samples at 16 kHz.
        transcript: the text spoken, with any punctuation and casing.
        language: language name or code (``"English"``, ``"de"``); ``None`` guesses from the script.
        engine: ``auto`` (Qwen3 when its weights can be had, else sphinx for English),
            ``qwen3`` or ``sphinx``.
        model: Qwen3 hub id or local folder (default: ``QALIGN_ALIGNER_MODEL``, else
            ``Qwen/Qwen3-ForcedAligner-0.6B``).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto``, ``fp32``, ``bf16`` or ``fp16``.
        decoder: ``monotonic`` (default) or ``reference`` (the official decoding).
        granularity: ``word`` (default) or ``char``.

    Raises:
        QalignError: the engine cannot be built, or the item cannot be aligned
            (:class:`~qalign.errors.AudioError`, :class:`~qalign.errors.TranscriptError`,
            :class:`~qalign.errors.LanguageError`).
    """
    if language is None and engine == "auto":
        from qalign.transcript import guess_language

        language = guess_language(transcript)
    built = _engine(
        engine,
        language if engine == "auto" else None,
        None if model is None else str(model),
        device,
        dtype,
        decoder,
        granularity,
    )
    return built.align(audio, transcript, language)
