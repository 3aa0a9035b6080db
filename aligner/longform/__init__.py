"""Long-form alignment: hours of audio against one transcript, through any engine.

:class:`LongFormAligner` wraps a :class:`WindowEngine` (Qwen3, sphinx) and is
itself an :class:`~qalign.aligner.base.Aligner`. See
:mod:`qalign.aligner.longform.aligner` for how windows, anchors and recovery
work, :mod:`~qalign.aligner.longform.stitch` for statuses and stretches and
:mod:`~qalign.aligner.longform.summary` for the one-line summary.
"""

from qalign.aligner.longform.aligner import LongFormAligner
from qalign.aligner.longform.engine import Placed, Script, WindowEngine, WindowJob
from qalign.aligner.longform.summary import summary_line

__all__ = ["LongFormAligner", "Placed", "Script", "WindowEngine", "WindowJob", "summary_line"]
