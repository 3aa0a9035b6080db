"""The ``monotonic`` decoder (the default): the best ordered sequence under the model.

Dynamic programming (:mod:`qalign.aligner.qwen3.ordered_dp`) maximises the summed
per-slot log-probabilities subject to ``start_i <= end_i <= start_{i+1}``, no slot
after ``max_class``, and ``end_i >= start_i + min_bins`` where the audio has room
for that; a band around the repaired argmax and a bound on what lies outside it
keep the search small (:func:`decode_monotonic`). Numpy only.
"""

from __future__ import annotations

import numpy as np

from qalign.aligner.qwen3.decoded import (
    CHUNK_ROWS,
    STEP_MS,
    Decoded,
    check_step,
    prepare_logits,
    to_decoded,
)
from qalign.aligner.qwen3.ordered_dp import ordered_dp
from qalign.aligner.qwen3.reference_decoder import repair_reference

__all__ = ["decode_monotonic"]

# Classes on either side of the repaired argmax that the monotonic decoder's
# first, narrow DP considers.
_BAND = 8


def decode_monotonic(
    logits: np.ndarray,
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
        logits: ``[2n, C]`` raw logits (or log-probabilities); -inf allowed,
            NaN and +inf are not.
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
    values, lse, best = prepare_logits(logits)
    n_slots, n_classes = values.shape
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
        path = _constrained_path(values, best, last, gap)
    return to_decoded(values, lse, path * step, step)


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


def _constrained_path(values: np.ndarray, best: np.ndarray, last: int, gap: int) -> np.ndarray:
    """The DP optimum (classes, int64) when the argmax ``best`` is infeasible.

    Three steps: (1) solve the DP in a narrow band around the repaired argmax,
    giving ``q``; (2) bound what any class outside the band could gain over
    ``q`` (see :func:`_gain_thresholds`) and return ``q`` when no outside class
    can match it; (3) otherwise rerun the DP over every class that still can.
    Every optimal sequence lies in the classes kept, so the result, tie-break
    included, is the one a DP over all classes gives.
    """
    n_slots = values.shape[0]
    owed = _owed(n_slots, gap)
    gaps = np.zeros(n_slots, dtype=np.int64)
    gaps[1::2] = gap
    full_lo, full_hi = owed, owed + (last - owed[-1])

    steps = np.diff(best)
    conflicts = np.count_nonzero(steps[1::2] < 0) + np.count_nonzero(steps[0::2] < gap)
    if conflicts * 4 > n_slots:
        # Mostly out of order (noise): no class can be ruled out cheaply.
        return ordered_dp(values, full_lo, full_hi, gaps)

    repaired = np.minimum(np.asarray(repair_reference(best.tolist()), dtype=np.int64), last)
    guess = _project(repaired, last, owed)
    lo = np.maximum(full_lo, np.minimum(repaired, guess) - _BAND)
    hi = np.minimum(full_hi, np.maximum(repaired, guess) + _BAND)
    lo, hi = _tighten(lo, hi, owed)  # still holds `guess`, so never empty
    path = ordered_dp(values, lo, hi, gaps)

    outside, inside_other = _band_maxima(values, lo, hi, path, last)
    thresholds = _gain_thresholds(values[np.arange(n_slots), path], outside, inside_other)
    doubtful = ~(outside < thresholds)
    if not doubtful.any():
        return path
    wide_lo, wide_hi = _contenders(values, thresholds, doubtful, full_lo, full_hi, last)
    lo, hi = _tighten(np.minimum(lo, wide_lo), np.maximum(hi, wide_hi), owed)
    return ordered_dp(values, lo, hi, gaps)


def _band_maxima(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, path: np.ndarray, last: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per slot: the best logit outside ``[lo, hi]`` (classes ``<= last``), and inside
    it other than at ``path``; ``-inf`` where there is none."""
    n_slots = values.shape[0]
    widths = hi - lo + 1
    starts = np.cumsum(widths) - widths
    rows = np.repeat(np.arange(n_slots), widths)
    cols = np.arange(rows.size) - np.repeat(starts - lo, widths)
    band = values[rows, cols].astype(np.float64)
    band[starts + (path - lo)] = -np.inf
    inside_other = np.maximum.reduceat(band, starts)

    outside = np.empty(n_slots, dtype=np.float64)
    scratch = np.empty((min(CHUNK_ROWS, n_slots), last + 1), dtype=values.dtype)
    for r0 in range(0, n_slots, CHUNK_ROWS):
        r1 = min(r0 + CHUNK_ROWS, n_slots)
        part = scratch[: r1 - r0]
        np.copyto(part, values[r0:r1, : last + 1])
        sel = slice(starts[r0], starts[r1 - 1] + widths[r1 - 1])
        part[rows[sel] - r0, cols[sel]] = -np.inf
        outside[r0:r1] = part.max(axis=1)
    return outside, inside_other


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
    values: np.ndarray,
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
    span_lo = np.full(values.shape[0], last + 1, dtype=np.int64)
    span_hi = np.full(values.shape[0], -1, dtype=np.int64)
    selected = np.flatnonzero(rows)
    for c0 in range(0, selected.size, CHUNK_ROWS):
        which = selected[c0 : c0 + CHUNK_ROWS]
        keep = values[which, : last + 1] >= thresholds[which, None]
        first = keep.argmax(axis=1)
        final = keep.shape[1] - 1 - keep[:, ::-1].argmax(axis=1)
        kept = keep[np.arange(which.size), first]
        span_lo[which] = np.where(kept, first, lo[which])
        span_hi[which] = np.where(kept, final, hi[which])
    return span_lo, span_hi
