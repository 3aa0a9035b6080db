"""The decoders' result (:class:`Decoded`) and the logit handling every decoder shares.

:func:`prepare_logits` checks a ``[2n, C]`` slot-logit array and gives each row's
log-sum-exp and first argmax; :func:`to_decoded` turns per-slot milliseconds into
a :class:`Decoded` with its per-unit confidence. Numpy only. The decoders
themselves are in :mod:`qalign.aligner.qwen3.reference_decoder` and
:mod:`qalign.aligner.qwen3.monotonic_decoder`; :mod:`qalign.aligner.qwen3.decoding`
names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["STEP_MS", "Decoded", "Decoder", "check_step", "prepare_logits", "to_decoded"]

#: Milliseconds per class (``timestamp_segment_time`` of the released checkpoints).
STEP_MS = 80

# Row maxima up to this size let the log-sum-exp skip its shift: exp(60) is
# 1.1e26, so float32 sums stay finite for any practical class count.
_NO_SHIFT = 60.0
#: Rows per chunk in the whole-array passes, to keep temporaries small.
CHUNK_ROWS = 256


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


def prepare_logits(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ``logits``; return them (float32 or float64), each row's log-sum-exp
    (float64) and each row's first argmax (int64)."""
    values = np.asarray(logits)
    if values.ndim != 2:
        raise ValueError(f"logits must be 2-D [2 * units, classes], got shape {values.shape}")
    if values.shape[0] % 2:
        raise ValueError(f"logits need two slots per unit, got an odd {values.shape[0]} rows")
    if values.shape[1] == 0:
        raise ValueError("logits have no classes")
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64 if values.dtype.itemsize > 4 else np.float32)
    n_slots = values.shape[0]
    lse = np.empty(n_slots, dtype=np.float64)
    best = np.empty(n_slots, dtype=np.int64)
    scratch = np.empty((min(CHUNK_ROWS, n_slots), values.shape[1]), dtype=values.dtype)
    for r0 in range(0, n_slots, CHUNK_ROWS):
        chunk = values[r0 : r0 + CHUNK_ROWS]
        rows = chunk.shape[0]
        best[r0 : r0 + rows] = chunk.argmax(axis=1)
        top = chunk[np.arange(rows), best[r0 : r0 + rows]][:, None]
        if not np.isfinite(top).all():
            bad = r0 + int(np.flatnonzero(~np.isfinite(top[:, 0]))[0])
            raise ValueError(f"logits row {bad} is not usable: NaN, +inf, or every class -inf")
        exps = scratch[:rows]
        if (np.abs(top) <= _NO_SHIFT).all():
            # exp cannot overflow or lose the top class: skip the shift.
            np.exp(chunk, out=exps)
            lse[r0 : r0 + rows] = np.log(exps.sum(axis=1))
        else:
            np.subtract(chunk, top, out=exps)
            np.exp(exps, out=exps)
            lse[r0 : r0 + rows] = top[:, 0] + np.log(exps.sum(axis=1))
    return values, lse, best


def to_decoded(values: np.ndarray, lse: np.ndarray, slot_ms: np.ndarray, step: int) -> Decoded:
    """Pack per-slot milliseconds into :class:`Decoded` with confidence scores."""
    slot_ms = np.asarray(slot_ms, dtype=np.int64)
    n_slots, n_classes = values.shape
    # Nearest class to each time (half up), then the mass within one class of it.
    centre = np.clip((2 * slot_ms + step) // (2 * step), 0, n_classes - 1)
    neighbours = centre[:, None] + np.array([-1, 0, 1])
    inside = (neighbours >= 0) & (neighbours < n_classes)
    picked = values[np.arange(n_slots)[:, None], np.clip(neighbours, 0, n_classes - 1)]
    probs = np.where(inside, np.exp(picked.astype(np.float64) - lse[:, None]), 0.0)
    mass = np.clip(probs.sum(axis=1), 0.0, 1.0)
    scores = np.sqrt(mass[0::2] * mass[1::2])
    return Decoded(slot_ms[0::2], slot_ms[1::2], scores, step)
