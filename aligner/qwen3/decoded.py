"""The decoders' result (:class:`Decoded`) and the logit handling every decoder shares.

:func:`to_decoded` turns per-slot milliseconds into a :class:`Decoded` with its
per-unit confidence, reading only three logits per slot from the logits' device
(:class:`~qalign.aligner.qwen3.slot_logits.SlotLogits` checks the logits and holds
each row's log-sum-exp and first argmax). The decoders
themselves are in :mod:`qalign.aligner.qwen3.reference_decoder` and
:mod:`qalign.aligner.qwen3.monotonic_decoder`; :mod:`qalign.aligner.qwen3.decoding`
names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from qalign.aligner.qwen3.slot_logits import SlotLogits

__all__ = ["STEP_MS", "Decoded", "Decoder", "check_step", "to_decoded"]

#: Milliseconds per class (``timestamp_segment_time`` of the released checkpoints).
STEP_MS = 80


@dataclass(frozen=True, slots=True, eq=False)
class Decoded:
    """Decoded times of ``n`` units.

    Attributes:
        start_ms: int64 ``[n]``, start of each unit in milliseconds.
        end_ms: int64 ``[n]``, end of each unit in milliseconds (``>= start_ms``).
        scores: float64 ``[n]`` in ``[0, 1]``: the geometric mean, over the
            unit's start and end slot, of the probability the model puts
            within one class (``step_ms``) of the decoded time. 1 means the
            model is sure to within ±80 ms; values near 0 mean the decoded
            time is one the model did not predict (a repaired slot).
        step_ms: milliseconds per class.

    The arrays are read-only. :attr:`start_classes` and :attr:`end_classes`
    give positions in classes (float64: the reference repair can land
    between classes); :attr:`start_s` and :attr:`end_s` give seconds.
    """

    start_ms: np.ndarray
    end_ms: np.ndarray
    scores: np.ndarray
    step_ms: int = STEP_MS

    def __post_init__(self) -> None:
        arrays = {}
        for name, dtype in (("start_ms", np.int64), ("end_ms", np.int64), ("scores", np.float64)):
            array = np.array(getattr(self, name), dtype=dtype)
            if array.ndim != 1:
                raise ValueError(f"Decoded.{name} must be 1-D, got shape {array.shape}")
            array.setflags(write=False)
            arrays[name] = array
        sizes = {name: a.shape[0] for name, a in arrays.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"Decoded arrays differ in length: {sizes}")
        backwards = np.flatnonzero(arrays["end_ms"] < arrays["start_ms"])
        if backwards.size:
            i = int(backwards[0])
            raise ValueError(
                f"Decoded unit {i} ends before it starts: "
                f"{arrays['start_ms'][i]} ms > {arrays['end_ms'][i]} ms"
            )
        outside = np.flatnonzero(~((arrays["scores"] >= 0.0) & (arrays["scores"] <= 1.0)))
        if outside.size:
            i = int(outside[0])
            raise ValueError(f"Decoded score {arrays['scores'][i]} of unit {i} is not in [0, 1]")
        for name, array in arrays.items():
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return int(self.start_ms.shape[0])

    @property
    def start_classes(self) -> np.ndarray:
        """float64 ``[n]``: start positions in classes (``start_ms / step_ms``)."""
        return self.start_ms / self.step_ms

    @property
    def end_classes(self) -> np.ndarray:
        """float64 ``[n]``: end positions in classes (``end_ms / step_ms``)."""
        return self.end_ms / self.step_ms

    @property
    def start_s(self) -> np.ndarray:
        """float64 ``[n]``: start times in seconds."""
        return self.start_ms / 1000.0

    @property
    def end_s(self) -> np.ndarray:
        """float64 ``[n]``: end times in seconds."""
        return self.end_ms / 1000.0


#: Signature shared by the decoders: ``(logits, max_class=None, *, step_ms=80)``.
Decoder = Callable[..., Decoded]


def check_step(step_ms: float) -> int:
    if float(step_ms) != int(step_ms) or int(step_ms) <= 0:
        raise ValueError(f"step_ms must be a positive whole number of milliseconds, got {step_ms}")
    return int(step_ms)


def to_decoded(slots: SlotLogits, slot_ms: np.ndarray, step: int) -> Decoded:
    """Pack per-slot milliseconds into :class:`Decoded` with confidence scores."""
    slot_ms = np.asarray(slot_ms, dtype=np.int64)
    n_classes = slots.shape[1]
    # Nearest class to each time (half up), then the mass within one class of it.
    centre = np.clip((2 * slot_ms + step) // (2 * step), 0, n_classes - 1)
    mass = np.clip(slots.probs_around(centre, 1).sum(axis=1), 0.0, 1.0)
    scores = np.sqrt(mass[0::2] * mass[1::2])
    return Decoded(slot_ms[0::2], slot_ms[1::2], scores, step)
