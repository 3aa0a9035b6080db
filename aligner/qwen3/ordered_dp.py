"""The dynamic programme behind the ``monotonic`` decoder: the best ordered path
through per-slot class ranges (:func:`ordered_dp`).

``x_s >= x_{s-1} + gaps[s]`` and ``lo[s] <= x_s <= hi[s]``, maximising the summed
values; ties go to the earliest classes. The values may come as a window per slot
(row ``s`` starting at class ``base[s]``, as
:meth:`qalign.aligner.qwen3.slot_logits.SlotLogits.window` gives them). Numpy only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["dp_dense", "dp_ragged", "ordered_dp"]

# Widest class range for which the DP uses its padded 2-D layout.
_DENSE_WIDTH = 64


def ordered_dp(
    values: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    gaps: np.ndarray,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """Best sequence with ``lo[s] <= x_s <= hi[s]`` and ``x_s >= x_{s-1} + gaps[s]``.

    ``values[s, j]`` is the value of class ``base[s] + j`` (``base`` 0 by default:
    whole rows). The ranges must already be tightened (every class in them
    reachable).
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
        return dp_dense(values, lo, hi, gaps, widest, base)
    return dp_ragged(values, lo, hi, gaps, base)


def dp_dense(
    values: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    gaps: np.ndarray,
    width: int,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`ordered_dp` on ``[slots, width]`` arrays, ranges padded with -inf."""
    n_slots = values.shape[0]
    cols = np.arange(width)
    classes = lo[:, None] + cols
    local = np.full((n_slots, width), -np.inf)
    inside = classes <= hi[:, None]
    rows = np.nonzero(inside)[0]
    local[inside] = values[rows, (_first_columns(lo, base)[:, None] + cols)[inside]]
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
    return _back_track(lo, hi, gaps, lambda s, t: int(last_record[s, t]))


def dp_ragged(
    values: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    gaps: np.ndarray,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`ordered_dp` slot by slot over each slot's own range (records: 1 byte/class)."""
    n_slots = values.shape[0]
    los, gap_list = lo.tolist(), gaps.tolist()
    firsts = _first_columns(lo, base).tolist()
    widths = (hi - lo + 1).tolist()
    at = [0, *np.cumsum(hi - lo + 1).tolist()]
    records = np.empty(at[-1], dtype=bool)
    widest = max(widths)
    f = np.empty(widest)
    running = [np.empty(widest), np.empty(widest)]

    prev: np.ndarray | None = None
    for s in range(n_slots):
        a, w = los[s], widths[s]
        row = values[s, firsts[s] : firsts[s] + w]
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

    def earliest(s: int, t: int) -> int:
        return t - int(records[at[s] : at[s] + widths[s]][t::-1].argmax())

    return _back_track(lo, hi, gaps, earliest)


def _first_columns(lo: np.ndarray, base: np.ndarray | None) -> np.ndarray:
    """The column of class ``lo[s]`` in row ``s`` of the values (``base`` ``None``: whole rows)."""
    return lo if base is None else lo - base


def _back_track(
    lo: np.ndarray, hi: np.ndarray, gaps: np.ndarray, earliest: Callable[[int, int], int]
) -> np.ndarray:
    """The best path, from the last slot back: ``earliest(s, t)`` is the offset in slot
    ``s``'s range of the earliest class whose value reaches the running max at offset ``t``
    (the last record at or before it); each slot reads the one before at ``x - gaps[s]``,
    clipped to that slot's range."""
    los, his, gap_list = lo.tolist(), hi.tolist(), gaps.tolist()
    path = [0] * len(los)
    t = his[-1] - los[-1]
    for s in range(len(los) - 1, -1, -1):
        x = los[s] + earliest(s, t)
        path[s] = x
        if s:
            t = min(x - gap_list[s], his[s - 1]) - los[s - 1]
    return np.asarray(path, dtype=np.int64)
