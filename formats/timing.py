"""Time arithmetic shared by the writers: seconds to integer ticks, and spans
that are never zero-length or overlapping once rounded.

Every writer converts float seconds once, here, to integer ticks of its own
resolution (1 ms for SRT/VTT/TSV/CTM, 10 ms for ASS/LRC), rounding half up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def to_ticks(seconds: float, tick: float) -> int:
    """``seconds`` in whole ticks of ``tick`` seconds, rounded half up (never negative)."""
    # The small offset keeps values such as 1.0049999999 (float noise on 1.005) rounding up.
    return max(0, math.floor(seconds / tick + 0.5 + 1e-9))


def to_ms(seconds: float) -> int:
    """Seconds to integer milliseconds, rounded half up."""
    return to_ticks(seconds, 0.001)


def nonzero_spans(
    spans: Sequence[tuple[float, float]], tick: float, duration: float | None = None
) -> list[tuple[int, int]]:
    """Round spans to ticks so that each lasts at least one tick and none overlap.

    Spans must be in order and non-overlapping (as in an :class:`~qalign.alignment.Alignment`).
    A span that rounds to zero length is widened into the free time after it,
    else before it; where there is no free time at all it takes one tick from
    its longer neighbour. Ends never pass ``duration`` (when given and long
    enough for one tick per span).

    Returns:
        ``(start, end)`` in ticks with ``start < end`` and ``end[i] <= start[i + 1]``.
    """
    n = len(spans)
    limit = to_ticks(duration, tick) if duration is not None else None
    if limit is not None and limit < n:
        limit = None  # too short to give each span a tick: ignore the bound
    start = [to_ticks(s, tick) for s, _ in spans]
    end = [max(to_ticks(e, tick), start[i]) for i, (_, e) in enumerate(spans)]
    # 1. A zero-length span grows into free time after it, else before it.
    for i in range(n):
        if end[i] > start[i]:
            continue
        right = start[i + 1] if i + 1 < n else (limit if limit is not None else end[i] + 1)
        left = end[i - 1] if i else 0
        if end[i] < right:
            end[i] += 1
        elif start[i] > left:
            start[i] -= 1
    # 2. Forward: no overlap, at least one tick each (takes a tick from the next span).
    for i in range(n):
        if i:
            start[i] = max(start[i], end[i - 1])
        end[i] = max(end[i], start[i] + 1)
    # 3. Backward: respect the audio's end, taking ticks from earlier spans.
    if limit is not None:
        bound = limit
        for i in range(n - 1, -1, -1):
            end[i] = min(end[i], bound)
            start[i] = min(start[i], end[i] - 1)
            bound = start[i]
    return list(zip(start, end))
