"""What a window's slot distributions say about each decoded unit (inputs to its confidence).

The aligner's head gives each unit a start and an end slot, each a distribution over
time classes (80 ms). The decoder picks one class per slot; this module measures, for
that pick, how the model's probability is spread around it. Per slot:

* ``near``: probability within one class of the decoded class (the score the decoders
  give, :func:`qalign.aligner.qwen3.decoding.decode_monotonic`);
* ``offset``: classes between the decoded class and the probability-weighted mean of
  the five classes around it (0: the mass is centred on the pick; 0.5: split evenly
  with a neighbour, so the time is half a class uncertain);
* ``repair``: classes between the decoded class and the slot's own argmax (0 unless the
  order constraints moved the slot).

A unit takes the worse of its two slots for each (the lower ``near``, the larger of
the others). :func:`unit_evidence` returns them as rows of :data:`FEATURES`; the
long-form layer adds what only it knows (length against the window, placements by
overlapping windows) and :mod:`qalign.aligner.confidence` turns them into a score.
"""

from __future__ import annotations

import numpy as np

from qalign.aligner.qwen3.slot_logits import SlotLogits

#: Columns of :func:`unit_evidence`.
FEATURES = ("near", "offset", "repair")
# Repairs are counted up to this many classes (farther is as bad).
_MAX_REPAIR = 25.0


def slot_rows(logits: np.ndarray | SlotLogits, classes: np.ndarray) -> np.ndarray:
    """Per slot ``[near, offset, repair]`` (float64 ``[2n, 3]``).

    Only five logits per slot, with the row's log-sum-exp and argmax, leave the
    logits' device (:class:`~qalign.aligner.qwen3.slot_logits.SlotLogits`).

    Args:
        logits: ``[2n, C]`` raw logits (rows ``2i``, ``2i + 1``: unit ``i``'s start, end),
            numpy, a torch tensor on any device, or :class:`SlotLogits`.
        classes: ``[2n]`` decoded class of each slot (rounded when fractional).
    """
    slots = SlotLogits.of(logits, pairs=False)
    n_classes = slots.shape[1]
    centre = np.clip(np.rint(np.asarray(classes, dtype=np.float64)), 0, n_classes - 1)
    centre = centre.astype(np.int64)
    offsets = np.arange(-2, 3)
    local = slots.probs_around(centre, 2)
    near = local[:, 1:4].sum(axis=1)
    total = local.sum(axis=1)
    mean = (local * offsets).sum(axis=1) / np.maximum(total, 1e-300)
    out = np.empty((centre.shape[0], 3), dtype=np.float64)
    out[:, 0] = np.clip(near, 0.0, 1.0)
    out[:, 1] = np.where(total > 0, np.abs(mean), 2.0)
    out[:, 2] = np.minimum(np.abs(slots.best - centre), _MAX_REPAIR)
    return out


def unit_evidence(
    logits: np.ndarray | SlotLogits, start_classes: np.ndarray, end_classes: np.ndarray
) -> np.ndarray:
    """Per unit ``[near, offset, repair]`` (float64 ``[n, 3]``): the worse slot of two.

    Args:
        logits: ``[2n, C]`` slot logits of one window.
        start_classes, end_classes: ``[n]`` decoded classes of each unit's slots.
    """
    n = len(start_classes)
    classes = np.empty(2 * n, dtype=np.float64)
    classes[0::2] = start_classes
    classes[1::2] = end_classes
    rows = slot_rows(logits, classes)
    start, end = rows[0::2], rows[1::2]
    out = np.maximum(start, end)
    out[:, 0] = np.minimum(start[:, 0], end[:, 0])
    return out
