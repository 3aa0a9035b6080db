"""qalign: exact word timings from audio plus a transcript.

The top-level package holds what every part shares: the alignment data model
(:mod:`qalign.alignment`) and the exception hierarchy (:mod:`qalign.errors`).
Nothing here imports torch or transformers.
"""

from qalign.alignment import Alignment, Phone, Segment, Source, Stretch, Unit
from qalign.errors import QalignError

__version__ = "0.1.0"

__all__ = [
    "Alignment",
    "Phone",
    "QalignError",
    "Segment",
    "Source",
    "Stretch",
    "Unit",
    "__version__",
]
