"""Alignment engines behind one :class:`Aligner` interface."""

from qalign.aligner.base import Aligner, AlignRequest

__all__ = ["AlignRequest", "Aligner"]
