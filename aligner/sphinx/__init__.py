"""The offline English engine: pocketsphinx behind the long-form layer.

* :mod:`~qalign.aligner.sphinx.engine`: :class:`SphinxAligner` (any length) and
  :class:`SphinxWindows` (one window, for the layer);
* :mod:`~qalign.aligner.sphinx.decoder`: grammars and decoding passes;
* :mod:`~qalign.aligner.sphinx.dictionary` and :mod:`~qalign.aligner.sphinx.g2p`:
  words to pronunciations;
* :mod:`~qalign.aligner.sphinx.phones`: phones inside another engine's word spans.

Importing this package imports neither pocketsphinx nor torch.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SphinxAligner",
    "SphinxWindows",
    "add_sphinx_phones",
    "pocketsphinx_version",
    "require_pocketsphinx",
]

_WHERE = {
    "SphinxAligner": "engine",
    "SphinxWindows": "engine",
    "add_sphinx_phones": "phones",
    "pocketsphinx_version": "decoder",
    "require_pocketsphinx": "decoder",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f"qalign.aligner.sphinx.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
