"""The ``reference`` decoder: official qwen-asr 0.0.6 behaviour, reproduced exactly.

Argmax per slot, then a longest-non-decreasing-subsequence repair in milliseconds
(:func:`repair_reference`). Interpolated values are truncated to whole
milliseconds, so they need not be multiples of ``step_ms``. Zero-length units
are kept; there is no limit at the audio's end. The argmax runs on the logits'
device (:mod:`qalign.aligner.qwen3.slot_logits`), the repair on the host.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from qalign.aligner.qwen3.decoded import STEP_MS, Decoded, check_step, to_decoded
from qalign.aligner.qwen3.slot_logits import SlotLogits

__all__ = ["decode_reference", "repair_reference"]

# Runs of at most this many out-of-order values snap to a neighbour; longer
# runs are interpolated (official fix_timestamp).
_SNAP_MAX_RUN = 2


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
    logits: np.ndarray | SlotLogits, max_class: int | None = None, *, step_ms: int = STEP_MS
) -> Decoded:
    """Decode like official qwen-asr 0.0.6: argmax per slot, then :func:`repair_reference`.

    Args:
        logits: ``[2n, C]`` raw logits (or log-probabilities; numpy, a torch tensor
            on any device, or :class:`SlotLogits`); rows ``2i`` and ``2i + 1`` are
            unit ``i``'s start and end slot. The argmax and scores are taken on
            the logits' device.
        max_class: accepted so that every decoder shares one signature; the
            official decoder has no length limit, so it is not applied.
        step_ms: milliseconds per class.

    Returns:
        :class:`Decoded` with the official times (zero-length units possible).
    """
    del max_class  # the official output is not limited to the audio's length
    step = check_step(step_ms)
    slots = SlotLogits.of(logits)
    raw_ms = (slots.best * step).tolist()
    fixed = np.asarray(repair_reference(raw_ms), dtype=np.int64)
    return to_decoded(slots, fixed, step)
