"""Choosing and building an alignment engine by name.

``auto`` picks Qwen3 when its weights are on disk or can be downloaded, and
otherwise, for English, the offline sphinx engine. The choice is made once per
run, announced in one line through the ``qalign`` logger (the CLI prints it on
stderr) and recorded in every output's ``source.engine``. ``qwen3`` never falls
back.

Every engine built here goes through the long-form layer
(:mod:`qalign.aligner.longform`), so any length of audio is accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from qalign.aligner.base import Aligner
from qalign.errors import MissingDependencyError, ModelNotFoundError, QalignError

logger = logging.getLogger("qalign")

ENGINES = ("auto", "qwen3", "sphinx")

Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class EngineOptions:
    """What the CLI and the Python API pass to an engine.

    Attributes:
        model: Qwen3 aligner hub id or local folder (``None``: env var, then the default).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``.
        dtype: ``auto``, ``float32``, ``bfloat16``, ``float16``.
        decoder: ``monotonic`` (default) or ``reference``.
        granularity: ``word`` (default) or ``char``.
    """

    model: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    decoder: str = "monotonic"
    granularity: str = "word"


def create_aligner(
    engine: str,
    options: EngineOptions,
    language: str | None = None,
    *,
    progress: Progress | None = None,
) -> Aligner:
    """Build the engine called ``engine`` (``auto``, ``qwen3`` or ``sphinx``) behind the long-form layer.

    ``progress(seconds_done, seconds_total)`` is called after each window.

    Raises:
        QalignError: unknown engine, or the chosen engine cannot start (missing
            weights or extra); for ``auto`` only when no engine can serve ``language``.
    """
    if engine not in ENGINES:
        raise QalignError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "sphinx":
        return _sphinx(progress)
    if engine == "qwen3":
        return _qwen3(options, progress)
    try:
        aligner = _qwen3(options, progress)
    except ModelNotFoundError as exc:
        if language not in (None, "English"):
            raise QalignError(
                f"{exc}; the offline engine only aligns English, and the language is {language}"
            ) from None
        try:
            fallback = _sphinx(progress)
        except MissingDependencyError as missing:
            missing.message = f"{exc}; and the offline English engine is not installed: {missing}"
            raise missing from None
        logger.warning("engine: sphinx (offline English), because %s", exc)
        return fallback
    logger.info("engine: qwen3")
    return aligner


def _qwen3(options: EngineOptions, progress: Progress | None = None) -> Aligner:
    from qalign.aligner.longform import LongFormAligner
    from qalign.aligner.longform.slots import Qwen3Windows
    from qalign.aligner.qwen3 import Qwen3Aligner

    engine = Qwen3Aligner.from_pretrained(
        options.model,
        device=options.device,
        dtype=options.dtype,
        decoder=options.decoder,
        granularity=options.granularity,
    )
    return LongFormAligner(Qwen3Windows(engine), progress=progress)


def _sphinx(progress: Progress | None = None) -> Aligner:
    from qalign.aligner.sphinx import SphinxAligner

    return SphinxAligner(progress=progress)
