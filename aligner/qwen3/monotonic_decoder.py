"""The ``monotonic`` decoder (the default): the best ordered sequence under the model.

Dynamic programming (:mod:`qalign.aligner.qwen3.ordered_dp`) maximises the summed
per-slot log-probabilities subject to ``start_i <= end_i <= start_{i+1}``, no slot
after ``max_class``, and ``end_i >= start_i + min_bins`` where the audio has room
for that; a band around the repaired argmax and a bound on what lies outside it
keep the search small (:func:`decode_monotonic`). The reductions over each slot's
classes run on the logits' device (:mod:`qalign.aligner.qwen3.slot_logits`); the
DP runs on the host over the band of classes it needs.
"""

from __future__ import annotations

import numpy as np

from qalign.aligner.qwen3.decoded import STEP_MS, Decoded, check_step, to_decoded
from qalign.aligner.qwen3.ordered_dp import ordered_dp
from qalign.aligner.qwen3.reference_decoder import repair_reference
from qalign.aligner.qwen3.slot_logits import SlotLogits

__all__ = ["decode_monotonic"]

# Classes on either side of the repaired argmax that the monotonic decoder's
# first, narrow DP considers.
_BAND = 8


def decode_monotonic(
    logits: np.ndarray | SlotLogits,
    max_class: int | None = None,
    *,
    step_ms: int = STEP_MS,
    min_bins: int = 1,
) -> Decoded:
    """Decode the most probable ordered sequence of slot classes.

    Maximises ``sum_s log p_s(x_s)`` over classes ``x_s`` subject to
    ``start_i <= end_i <= start_{i+1}``, ``x_s <= max_class`` and
    ``end_i - start_i >= g``, where ``g = min(min_bins, max_class // n)``: the
    full ``min_bins`` when ``n`` units fit before ``max_class`` with that
    length, otherwise as much as fits (0 when there are more units than
    classes). Where the per-slot argmax already satisfies these constraints it
    is returned unchanged. Ties go to the earliest times: the optimal
    sequences are closed under elementwise minimum, and that minimum is the
    one returned.

    The DP runs in float64 over each slot's raw logits: the per-slot
    log-normaliser is a constant, so the optimum is the same as over
    log-probabilities. It first runs in a narrow band around the repaired
    argmax; a bound then proves that no class outside the band can do better
    (the usual case) or names the classes that still can, and the DP reruns
    over those. Time is O(2n·C) at worst (i.i.d. noise), far less for peaked
    outputs; back-tracking memory is one byte per class considered (at most
    2n·C bytes, 20 MB for 2,000 units).

    Args:
        logits: ``[2n, C]`` raw logits (or log-probabilities; numpy, a torch tensor
            on any device, or :class:`SlotLogits`); -inf allowed, NaN and +inf
            are not.
        max_class: last class allowed (e.g. ``floor(duration_s / 0.08)``);
            ``None`` or a value ``>= C`` allows every class.
        step_ms: milliseconds per class.
        min_bins: minimum unit length in classes where the audio allows it
            (0 allows zero-length units).

    Returns:
        :class:`Decoded` with times that are multiples of ``step_ms``.

    Raises:
        ValueError: bad shape, unusable logits, ``max_class < 0`` or
            ``min_bins < 0``.
    """
    step = check_step(step_ms)
    if min_bins < 0:
        raise ValueError(f"min_bins must be >= 0, got {min_bins}")
    slots = SlotLogits.of(logits)
    best = slots.best
    n_slots, n_classes = slots.shape
    if max_class is None:
        last = n_classes - 1
    elif max_class < 0:
        raise ValueError(f"max_class must be >= 0, got {max_class}")
    else:
        last = min(int(max_class), n_classes - 1)
    n_units = n_slots // 2
    gap = min(min_bins, last // n_units) if n_units else 0

    if _feasible(best, last, gap):
        path = best
    else:
        path = _constrained_path(slots, last, gap)
    return to_decoded(slots, path * step, step)


def _feasible(path: np.ndarray, last: int, gap: int) -> bool:
    """Whether ``path`` is ordered, within ``[0, last]``, with unit lengths ``>= gap``."""
    if path.size == 0:
        return True
    steps = np.diff(path)
    return bool(
        path.min() >= 0
        and path.max() <= last
        and (steps[1::2] >= 0).all()  # end_i -> start_{i+1}
        and (steps[0::2] >= gap).all()  # start_i -> end_i
    )


# In the shifted space z_s = x_s - G[s], where G[s] is the total length owed
# by the units before slot s ends, the order constraints say only that z is
# non-decreasing and within [0, last - G[-1]]; running max/min then tighten
# any per-slot ranges and project any sequence.


def _owed(n_slots: int, gap: int) -> np.ndarray:
    """``G``: the least class each slot can take."""
    return gap * ((np.arange(n_slots, dtype=np.int64) + 1) // 2)


def _project(path: np.ndarray, last: int, owed: np.ndarray) -> np.ndarray:
    """A feasible sequence near ``path``: raised where out of order, capped at ``last``."""
    z = np.maximum.accumulate(np.maximum(path - owed, 0))
    return owed + np.minimum(z, last - owed[-1])


def _tighten(lo: np.ndarray, hi: np.ndarray, owed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shrink per-slot ranges to the classes some ordered sequence inside them can use."""
    lo = owed + np.maximum.accumulate(lo - owed)
    hi = owed + np.minimum.accumulate((hi - owed)[::-1])[::-1]
    return lo, hi


def _constrained_path(slots: SlotLogits, last: int, gap: int) -> np.ndarray:
    """The DP optimum (classes, int64) when the argmax ``slots.best`` is infeasible.

    Three steps: (1) solve the DP in a narrow band around the repaired argmax,
    giving ``q``; (2) bound what any class outside the band could gain over
    ``q`` (see :func:`_gain_thresholds`) and return ``q`` when no outside class
    can match it; (3) otherwise rerun the DP over every class that still can.
    Every optimal sequence lies in the classes kept, so the result, tie-break
    included, is the one a DP over all classes gives.
    """
    best = slots.best
    n_slots = best.shape[0]
    owed = _owed(n_slots, gap)
    gaps = np.zeros(n_slots, dtype=np.int64)
    gaps[1::2] = gap
    full_lo, full_hi = owed, owed + (last - owed[-1])

    steps = np.diff(best)
    conflicts = np.count_nonzero(steps[1::2] < 0) + np.count_nonzero(steps[0::2] < gap)
    if conflicts * 4 > n_slots:
        # Mostly out of order (noise): no class can be ruled out cheaply.
        return _dp(slots, full_lo, full_hi, gaps)

    repaired = np.minimum(np.asarray(repair_reference(best.tolist()), dtype=np.int64), last)
    guess = _project(repaired, last, owed)
    lo = np.maximum(full_lo, np.minimum(repaired, guess) - _BAND)
    hi = np.minimum(full_hi, np.maximum(repaired, guess) + _BAND)
    lo, hi = _tighten(lo, hi, owed)  # still holds `guess`, so never empty
    values, base = slots.window(lo, hi)
    path = ordered_dp(values, lo, hi, gaps, base)

    chosen, inside_other = _band_maxima(values, base, lo, hi, path)
    outside = slots.outside_max(lo, hi, last)
    thresholds = _gain_thresholds(chosen, outside, inside_other)
    doubtful = ~(outside < thresholds)
    if not doubtful.any():
        return path
    wide_lo, wide_hi = _contenders(slots, thresholds, doubtful, full_lo, full_hi, last)
    lo, hi = _tighten(np.minimum(lo, wide_lo), np.maximum(hi, wide_hi), owed)
    return _dp(slots, lo, hi, gaps)


def _dp(slots: SlotLogits, lo: np.ndarray, hi: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """:func:`ordered_dp` over the window of logits that covers ``[lo, hi]``."""
    values, base = slots.window(lo, hi)
    return ordered_dp(values, lo, hi, gaps, base)


def _band_maxima(
    values: np.ndarray, base: np.ndarray, lo: np.ndarray, hi: np.ndarray, path: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per slot, from its logits (``values[s, j]``: class ``base[s] + j``): the logit
    at ``path``, and the best other one in ``[lo, hi]`` (``-inf`` where none)."""
    n_slots = lo.shape[0]
    rows = np.arange(n_slots)
    chosen = values[rows, path - base]
    offsets = np.arange(int((hi - lo).max()) + 1)
    cols = (lo - base)[:, None] + offsets
    band = values[rows[:, None], np.minimum(cols, values.shape[1] - 1)].astype(np.float64)
    band[(offsets > (hi - lo)[:, None]) | (cols == (path - base)[:, None])] = -np.inf
    return chosen, band.max(axis=1)


def _gain_thresholds(
    chosen: np.ndarray, outside: np.ndarray, inside_other: np.ndarray
) -> np.ndarray:
    """Per slot, the logit a class needs to be on a sequence at least as good as ``q``.

    ``chosen[s]`` is the logit of the band optimum ``q`` at slot ``s``. Any
    feasible sequence ``p`` differs from ``q`` on runs of slots where it stays
    strictly above ``q`` or strictly below it, and each run can be swapped
    into ``q`` on its own (the order constraints hold at both ends), so ``p``
    beats ``q`` only if some run gains. A run gains at most
    ``d[t] = max_{y != q_t} values[t, y] - chosen[t]`` at each slot ``t``;
    for a run through class ``x`` of slot ``s`` that is at most
    ``values[s, x] - chosen[s]`` plus the best sum of ``d`` over slots
    directly left of ``s`` plus the same to its right. A class whose logit is
    below the threshold returned can thus lie on no optimal sequence (runs
    inside the band cannot gain: ``q`` is the band's optimum).
    """
    n_slots = chosen.shape[0]
    if not np.isfinite(chosen).all():
        return np.full(n_slots, -np.inf)
    # Lowering d only loosens the bound; the floor keeps the sums finite.
    d = np.maximum(np.maximum(outside, inside_other) - chosen, -1e6)
    total = np.concatenate(([0.0], np.cumsum(d)))
    # Best sum of d over t in [a, s) for a <= s (0 when empty), and over (s, b].
    left = total[:-1] - np.minimum.accumulate(total[:-1])
    right = np.maximum.accumulate(total[::-1])[::-1][1:] - total[1:]
    pad = 1e-9 * (1.0 + np.abs(chosen) + float(np.abs(d).sum()))
    return chosen - left - right - pad


def _contenders(
    slots: SlotLogits,
    thresholds: np.ndarray,
    rows: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    last: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Span of classes reaching each slot's threshold, for slots where ``rows`` is set.

    Other slots, and slots where nothing reaches it (rounding only), get an
    empty span (``lo = last + 1``, ``hi = -1``) or their full range.
    """
    n_slots = slots.shape[0]
    span_lo = np.full(n_slots, last + 1, dtype=np.int64)
    span_hi = np.full(n_slots, -1, dtype=np.int64)
    selected = np.flatnonzero(rows)
    first, final = slots.reaching(selected, thresholds[selected], last)
    kept = final >= 0
    span_lo[selected] = np.where(kept, first, lo[selected])
    span_hi[selected] = np.where(kept, final, hi[selected])
    return span_lo, span_hi
