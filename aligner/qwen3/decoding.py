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
per-unit confidence. Everything here is numpy; callers convert tensors first.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

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

#: Milliseconds per class (``timestamp_segment_time`` of the released checkpoints).
STEP_MS = 80

# Runs of at most this many out-of-order values snap to a neighbour; longer
# runs are interpolated (official fix_timestamp).
_SNAP_MAX_RUN = 2
# Classes on either side of the repaired argmax that the monotonic decoder's
# first, narrow DP considers.
_BAND = 8
# Widest class range for which the DP uses its padded 2-D layout.
_DENSE_WIDTH = 64
# Row maxima up to this size let the log-sum-exp skip its shift: exp(60) is
# 1.1e26, so float32 sums stay finite for any practical class count.
_NO_SHIFT = 60.0
# Rows per chunk in the whole-array passes, to keep temporaries small.
_CHUNK_ROWS = 256


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


# ---------------------------------------------------------------------------
# Reference decoder (official repair)
# ---------------------------------------------------------------------------


def _lis_members(values: list) -> list[bool]:
    """Mark the longest non-decreasing subsequence the official code picks.

    The official code uses an O(n²) scan in which each element's predecessor
    is the *earliest* earlier element that gives the longest chain, and the
    chain ends at the earliest element of maximal length. This O(n log n)
    version makes the same choices: elements with equal chain length have
    strictly decreasing values in index order, so the earliest admissible
    predecessor is found by bisection within its length level.
    """
    n = len(values)
    tails: list = []  # tails[k]: smallest last value of a chain of length k + 1
    levels: list[list[int]] = []  # indices whose longest chain has length k + 1
    negated: list[list] = []  # -values of levels[k], increasing
    for i, v in enumerate(values):
        k = bisect.bisect_right(tails, v)
        if k == len(tails):
            tails.append(v)
            levels.append([])
            negated.append([])
        else:
            tails[k] = v
        levels[k].append(i)
        negated[k].append(-v)

    members = [False] * n
    if n == 0:
        return members
    idx = levels[-1][0]
    members[idx] = True
    for k in range(len(levels) - 2, -1, -1):
        p = bisect.bisect_left(negated[k], -values[idx])
        idx = levels[k][p]
        members[idx] = True
    return members


def repair_reference(raw_ms: Sequence[float]) -> list[int]:
    """Repair out-of-order slot times the way official qwen-asr 0.0.6 does.

    (``Qwen3ForceAlignProcessor.fix_timestamp`` in
    ``qwen_asr/inference/qwen3_forced_aligner.py``.) Values on the longest non-decreasing subsequence are kept. Every maximal
    run of other values is replaced: a run of one or two takes the value of
    the nearer kept neighbour (the left one on a tie; the only one at either
    end), a longer run is spaced evenly between its kept neighbours
    (``left + (right - left) / (run + 1) * k``, computed in float and then
    truncated to an int), or copies the one neighbour it has.

    Args:
        raw_ms: slot times in milliseconds (class × ``step_ms``), in slot order.

    Returns:
        The repaired times as ints, non-decreasing, same length.
    """
    # The official code gets float32 class * 80.0 values; whole numbers of ms
    # below 2**24 are exact there, so ints give the same float arithmetic.
    values = np.asarray(raw_ms).tolist() if not isinstance(raw_ms, list) else list(raw_ms)
    n = len(values)
    members = _lis_members(values)
    result = list(values)
    i = 0
    while i < n:
        if members[i]:
            i += 1
            continue
        j = i
        while j < n and not members[j]:
            j += 1
        # The run is i..j-1; kept neighbours (if any) sit at i-1 and j.
        left = values[i - 1] if i > 0 else None
        right = values[j] if j < n else None
        run = j - i
        for k in range(i, j):
            if left is None:
                result[k] = right
            elif right is None:
                result[k] = left
            elif run <= _SNAP_MAX_RUN:
                result[k] = left if k - (i - 1) <= j - k else right
            else:
                step = (right - left) / (run + 1)
                result[k] = left + step * (k - i + 1)
        i = j
    return [int(v) for v in result]


def decode_reference(
    logits: np.ndarray, max_class: int | None = None, *, step_ms: int = STEP_MS
) -> Decoded:
    """Decode like official qwen-asr 0.0.6: argmax per slot, then :func:`repair_reference`.

    Args:
        logits: ``[2n, C]`` raw logits (or log-probabilities); rows ``2i`` and
            ``2i + 1`` are unit ``i``'s start and end slot.
        max_class: accepted so that every decoder shares one signature; the
            official decoder has no length limit, so it is not applied.
        step_ms: milliseconds per class.

    Returns:
        :class:`Decoded` with the official times (zero-length units possible).
    """
    del max_class  # the official output is not limited to the audio's length
    step = _check_step(step_ms)
    values, lse, best = _prepare(logits)
    raw_ms = (best * step).tolist()
    fixed = np.asarray(repair_reference(raw_ms), dtype=np.int64)
    return _decoded(values, lse, fixed, step)


# ---------------------------------------------------------------------------
# Monotonic decoder (constrained dynamic programming)
# ---------------------------------------------------------------------------


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
    step = _check_step(step_ms)
    if min_bins < 0:
        raise ValueError(f"min_bins must be >= 0, got {min_bins}")
    values, lse, best = _prepare(logits)
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
    return _decoded(values, lse, path * step, step)


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
        return _ordered_dp(values, full_lo, full_hi, gaps)

    repaired = np.minimum(np.asarray(repair_reference(best.tolist()), dtype=np.int64), last)
    guess = _project(repaired, last, owed)
    lo = np.maximum(full_lo, np.minimum(repaired, guess) - _BAND)
    hi = np.minimum(full_hi, np.maximum(repaired, guess) + _BAND)
    lo, hi = _tighten(lo, hi, owed)  # still holds `guess`, so never empty
    path = _ordered_dp(values, lo, hi, gaps)

    outside, inside_other = _band_maxima(values, lo, hi, path, last)
    thresholds = _gain_thresholds(values[np.arange(n_slots), path], outside, inside_other)
    doubtful = ~(outside < thresholds)
    if not doubtful.any():
        return path
    wide_lo, wide_hi = _contenders(values, thresholds, doubtful, full_lo, full_hi, last)
    lo, hi = _tighten(np.minimum(lo, wide_lo), np.maximum(hi, wide_hi), owed)
    return _ordered_dp(values, lo, hi, gaps)


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
    scratch = np.empty((min(_CHUNK_ROWS, n_slots), last + 1), dtype=values.dtype)
    for r0 in range(0, n_slots, _CHUNK_ROWS):
        r1 = min(r0 + _CHUNK_ROWS, n_slots)
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
    for c0 in range(0, selected.size, _CHUNK_ROWS):
        which = selected[c0 : c0 + _CHUNK_ROWS]
        keep = values[which, : last + 1] >= thresholds[which, None]
        first = keep.argmax(axis=1)
        final = keep.shape[1] - 1 - keep[:, ::-1].argmax(axis=1)
        kept = keep[np.arange(which.size), first]
        span_lo[which] = np.where(kept, first, lo[which])
        span_hi[which] = np.where(kept, final, hi[which])
    return span_lo, span_hi


def _ordered_dp(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Best sequence with ``lo[s] <= x_s <= hi[s]`` and ``x_s >= x_{s-1} + gaps[s]``.

    The ranges must already be tightened (every class in them reachable).
    Forward: ``f_s(x) = values[s, x] + R_{s-1}(x - gaps[s])`` with the running
    max ``R_s(x) = max_{y <= x} f_s(y)``. Instead of back-pointers, the DP
    notes where ``f_s`` sets a new running max (a "record"); going backwards,
    the best predecessor of ``x`` is the last record at or before
    ``x - gaps[s]``, i.e. the earliest class reaching that maximum. Narrow
    ranges use a padded 2-D layout, wide ones a per-slot layout with one byte
    per class.
    """
    widest = int((hi - lo).max()) + 1
    if widest <= _DENSE_WIDTH:
        return _dp_dense(values, lo, hi, gaps, widest)
    return _dp_ragged(values, lo, hi, gaps)


def _dp_dense(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, gaps: np.ndarray, width: int
) -> np.ndarray:
    """:func:`_ordered_dp` on ``[slots, width]`` arrays, ranges padded with -inf."""
    n_slots = values.shape[0]
    cols = np.arange(width)
    classes = lo[:, None] + cols
    local = np.full((n_slots, width), -np.inf)
    inside = classes <= hi[:, None]
    local[inside] = values[np.nonzero(inside)[0], classes[inside]]
    # f and R rows are 2 * width long; the -inf tail makes R repeat its last
    # value there, which is what a class past the previous range reads.
    f = np.full((n_slots, 2 * width), -np.inf)
    running = np.empty((n_slots, 2 * width))
    shift = np.minimum(lo[1:] - gaps[1:] - lo[:-1], width).tolist()
    f[0, :width] = local[0]
    np.maximum.accumulate(f[0], out=running[0])
    for s in range(1, n_slots):
        o = shift[s - 1]
        np.add(local[s], running[s - 1, o : o + width], out=f[s, :width])
        np.maximum.accumulate(f[s], out=running[s])
    records = np.empty((n_slots, width), dtype=bool)
    records[:, 0] = True
    np.greater(f[:, 1:width], running[:, : width - 1], out=records[:, 1:])
    last_record = np.maximum.accumulate(np.where(records, cols, 0), axis=1)

    los, his, gap_list = lo.tolist(), hi.tolist(), gaps.tolist()
    path = [0] * n_slots
    t = his[-1] - los[-1]
    for s in range(n_slots - 1, -1, -1):
        x = los[s] + int(last_record[s, t])
        path[s] = x
        if s:
            t = min(x - gap_list[s], his[s - 1]) - los[s - 1]
    return np.asarray(path, dtype=np.int64)


def _dp_ragged(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """:func:`_ordered_dp` slot by slot over each slot's own range (records: 1 byte/class)."""
    n_slots = values.shape[0]
    los, his, gap_list = lo.tolist(), hi.tolist(), gaps.tolist()
    widths = (hi - lo + 1).tolist()
    at = [0, *np.cumsum(hi - lo + 1).tolist()]
    records = np.empty(at[-1], dtype=bool)
    widest = max(widths)
    f = np.empty(widest)
    running = [np.empty(widest), np.empty(widest)]

    prev: np.ndarray | None = None
    for s in range(n_slots):
        a, w = los[s], widths[s]
        row = values[s, a : a + w]
        fs = f[:w]
        if prev is None:
            fs[:] = row
        else:
            # Class x reads R_{s-1} at x - gap, clipped to that slot's range.
            begin = min(a - gap_list[s] - los[s - 1], prev.shape[0])
            count = min(prev.shape[0] - begin, w)
            np.add(prev[begin : begin + count], row[:count], out=fs[:count])
            if count < w:
                np.add(row[count:], prev[-1], out=fs[count:])
        rs = running[s & 1][:w]
        np.maximum.accumulate(fs, out=rs)
        rec = records[at[s] : at[s] + w]
        rec[0] = True
        np.greater(fs[1:], rs[:-1], out=rec[1:])
        prev = rs

    path = [0] * n_slots
    t = widths[-1] - 1
    for s in range(n_slots - 1, -1, -1):
        rec = records[at[s] : at[s] + widths[s]]
        x = los[s] + t - int(rec[t::-1].argmax())
        path[s] = x
        if s:
            t = min(x - gap_list[s], his[s - 1]) - los[s - 1]
    return np.asarray(path, dtype=np.int64)


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def _check_step(step_ms: float) -> int:
    if float(step_ms) != int(step_ms) or int(step_ms) <= 0:
        raise ValueError(f"step_ms must be a positive whole number of milliseconds, got {step_ms}")
    return int(step_ms)


def _prepare(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    scratch = np.empty((min(_CHUNK_ROWS, n_slots), values.shape[1]), dtype=values.dtype)
    for r0 in range(0, n_slots, _CHUNK_ROWS):
        chunk = values[r0 : r0 + _CHUNK_ROWS]
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


def _decoded(values: np.ndarray, lse: np.ndarray, slot_ms: np.ndarray, step: int) -> Decoded:
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


#: Decoders by name.
DECODERS: dict[str, Decoder] = {"reference": decode_reference, "monotonic": decode_monotonic}
#: Name of the decoder used unless the caller picks another.
DEFAULT_DECODER = "monotonic"
