"""Turn Qwen3-ForcedAligner timestamp logits into unit start and end times.

The aligner's head gives, for unit ``i``, two slots: row ``2i`` (start) and
row ``2i + 1`` (end) of a ``[2n, C]`` logit array, where class ``k`` means
``k * step_ms`` milliseconds (``step_ms`` is the checkpoint's
``timestamp_segment_time``, 80 ms; ``C`` is ``classify_num``, 5000, so times
top out at 399.92 s). Two decoders turn these logits into times:

``reference``
    The official qwen-asr 0.0.6 behaviour, reproduced exactly: argmax per
    slot, then a longest-non-decreasing-subsequence repair in milliseconds
    (:func:`repair_reference`). Interpolated values are truncated to whole
    milliseconds, so they need not be multiples of ``step_ms``. Zero-length
    units are kept; there is no limit at the audio's end.

``monotonic`` (the default)
    The best ordered sequence under the model: dynamic programming that
    maximises the summed per-slot log-probabilities subject to
    ``start_i <= end_i <= start_{i+1}``, no slot after ``max_class``, and
    ``end_i >= start_i + min_bins`` where the audio has room for that.

Both return :class:`Decoded`, which carries integer milliseconds and a
per-unit confidence. The logits may be numpy arrays or torch tensors on any
device: the per-slot work over the classes runs in torch where they are
(:mod:`~qalign.aligner.qwen3.slot_logits`), the order repair and the dynamic
programme on the host over small per-slot arrays.

This module names the decoders (:data:`DECODERS`); they live in
:mod:`~qalign.aligner.qwen3.reference_decoder` and
:mod:`~qalign.aligner.qwen3.monotonic_decoder` (its dynamic programme in
:mod:`~qalign.aligner.qwen3.ordered_dp`), the result type and the shared logit
handling in :mod:`~qalign.aligner.qwen3.decoded`.
"""

from __future__ import annotations

from qalign.aligner.qwen3.decoded import STEP_MS, Decoded, Decoder
from qalign.aligner.qwen3.monotonic_decoder import decode_monotonic
from qalign.aligner.qwen3.reference_decoder import decode_reference, repair_reference

__all__ = [
    "DECODERS",
    "DEFAULT_DECODER",
    "STEP_MS",
    "Decoded",
    "Decoder",
    "decode_monotonic",
    "decode_reference",
    "repair_reference",
]

#: Decoders by name.
DECODERS: dict[str, Decoder] = {"reference": decode_reference, "monotonic": decode_monotonic}
#: Name of the decoder used unless the caller picks another.
DEFAULT_DECODER = "monotonic"
