"""Executors by name: ``local`` (default, this process) and others registered here.

``get_executor(name, **options)`` builds one; an executor module is imported only
when asked for, so ``ray`` (say) is never imported unless chosen.
"""

from __future__ import annotations

import importlib
from typing import Any

from qalign.corpus.executors.base import Executor
from qalign.errors import QalignError

_EXECUTORS: dict[str, tuple[str, str]] = {
    "local": ("qalign.corpus.executors.local", "LocalExecutor"),
    "ray": ("qalign.corpus.executors.ray", "RayExecutor"),
}

__all__ = ["Executor", "executor_names", "get_executor", "register_executor"]


def register_executor(name: str, module: str, class_name: str) -> None:
    """Make ``name`` build ``module.class_name`` (imported on first use)."""
    _EXECUTORS[name] = (module, class_name)


def executor_names() -> tuple[str, ...]:
    return tuple(_EXECUTORS)


def get_executor(name: str = "local", **options: Any) -> Executor:
    """The executor called ``name``, built with ``options``.

    Raises:
        QalignError: unknown name (or its extra is missing: MissingDependencyError).
    """
    try:
        module, class_name = _EXECUTORS[name]
    except KeyError:
        raise QalignError(
            f"unknown executor {name!r}; choose one of {', '.join(_EXECUTORS)}"
        ) from None
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        raise QalignError(f"executor {name!r} is not available in this version of qalign") from None
    return getattr(loaded, class_name)(**options)
