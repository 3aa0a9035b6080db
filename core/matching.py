"""Matching two word sequences in linear memory and near-linear time.

:func:`match_sequences` pairs equal tokens of two sequences along a short edit path,
the way a full edit-distance table would, without building the table:

1. Equal tokens at the start and at the end are paired directly.
2. What remains is matched on the whole edit-distance table when that is small
   (:data:`FULL_TABLE_CELLS`), exactly as the textbook algorithm would.
3. Otherwise, tokens that occur exactly once on each side are candidate
   anchors; the longest chain of them in the same order on both sides (a longest
   increasing subsequence, as in patience diff) is paired, keeping only anchors that a
   neighbouring equal token or an anchor on the same diagonal confirms; each stretch
   between two anchors is matched the same way, recursively.
4. A large stretch with no usable anchor is matched by edit distance (substitution,
   insertion and deletion cost 1; matches preferred among equal-cost paths) inside a
   diagonal band: the whole rectangle when it is small, else a band of
   :data:`BAND` cells either side of the diagonal, widened by the length difference.

Memory is O(n + m) plus one byte per cell of the largest band; for two transcripts of
the same speech (the evaluation case) nearly every word is an anchor and time is
O((n + m) log(n + m)).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Sequence

FULL_TABLE_CELLS = 20_000
"""A stretch with at most this many cells (n x m) is matched on the whole table."""

BAND = 100
"""Half-width (cells) of the diagonal band for larger stretches without anchors."""

_DIAG, _UP, _LEFT = 0, 1, 2


def match_sequences(hyp: Sequence[Hashable], ref: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` with ``hyp[i] == ref[j]``, increasing in both, on a short edit path."""
    pairs: list[tuple[int, int]] = []
    stack = [(0, len(hyp), 0, len(ref))]
    while stack:
        a0, a1, b0, b1 = stack.pop()
        head: list[tuple[int, int]] = []
        while a0 < a1 and b0 < b1 and hyp[a0] == ref[b0]:
            head.append((a0, b0))
            a0, b0 = a0 + 1, b0 + 1
        tail: list[tuple[int, int]] = []
        while a0 < a1 and b0 < b1 and hyp[a1 - 1] == ref[b1 - 1]:
            a1, b1 = a1 - 1, b1 - 1
            tail.append((a1, b1))
        pairs.extend(head)
        pairs.extend(tail)
        if a0 == a1 or b0 == b1:
            continue
        if (a1 - a0) * (b1 - b0) <= FULL_TABLE_CELLS:
            pairs.extend(_banded(hyp, ref, a0, a1, b0, b1))
            continue
        anchors = _unique_anchors(hyp, ref, a0, a1, b0, b1)
        if not anchors:
            pairs.extend(_banded(hyp, ref, a0, a1, b0, b1))
            continue
        pairs.extend(anchors)
        edges = [(a0 - 1, b0 - 1), *anchors, (a1, b1)]
        for (i0, j0), (i1, j1) in zip(edges, edges[1:]):
            if i1 - i0 > 1 and j1 - j0 > 1:
                stack.append((i0 + 1, i1, j0 + 1, j1))
    pairs.sort()
    return pairs


def _unique_anchors(
    hyp: Sequence[Hashable], ref: Sequence[Hashable], a0: int, a1: int, b0: int, b1: int
) -> list[tuple[int, int]]:
    """The longest same-order chain of tokens unique on both sides of the stretch."""
    in_hyp = Counter(hyp[a0:a1])
    in_ref = Counter(ref[b0:b1])
    where_ref = {
        ref[j]: j for j in range(b0, b1) if in_ref[ref[j]] == 1 and in_hyp.get(ref[j]) == 1
    }
    candidates = [(i, where_ref[hyp[i]]) for i in range(a0, a1) if hyp[i] in where_ref]
    if not candidates:
        return []
    # Longest increasing subsequence of the ref positions (candidates are in hyp order).
    tails: list[int] = []  # ref position ending the best chain of each length
    tail_at: list[int] = []  # candidate index of that end
    back = [-1] * len(candidates)
    for k, (_, j) in enumerate(candidates):
        n = bisect_left(tails, j)
        if n == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[n] = j
            tail_at[n] = k
        back[k] = tail_at[n - 1] if n else -1
    chain = []
    k = tail_at[-1]
    while k >= 0:
        chain.append(candidates[k])
        k = back[k]
    chain.reverse()
    return _confirmed(hyp, ref, chain, a0, a1, b0, b1)


def _confirmed(
    hyp: Sequence[Hashable],
    ref: Sequence[Hashable],
    chain: list[tuple[int, int]],
    a0: int,
    a1: int,
    b0: int,
    b1: int,
) -> list[tuple[int, int]]:
    """The anchors that something else agrees with: an equal neighbouring token on either
    side, or an adjacent anchor on the same diagonal. A lone coincidence (a substituted
    word that happens to equal a word far away) would drag the matching off course; the
    stretch around a dropped anchor is matched by edit distance instead."""
    kept = []
    for k, (i, j) in enumerate(chain):
        before = i > a0 and j > b0 and hyp[i - 1] == ref[j - 1]
        after = i + 1 < a1 and j + 1 < b1 and hyp[i + 1] == ref[j + 1]
        same_diagonal = any(
            0 <= n < len(chain) and chain[n][1] - chain[n][0] == j - i for n in (k - 1, k + 1)
        )
        if before or after or same_diagonal:
            kept.append((i, j))
    return kept


def _banded(
    hyp: Sequence[Hashable], ref: Sequence[Hashable], a0: int, a1: int, b0: int, b1: int
) -> list[tuple[int, int]]:
    """Edit-distance matching of ``hyp[a0:a1]`` with ``ref[b0:b1]`` inside a diagonal band."""
    n, m = a1 - a0, b1 - b0
    if n * m <= FULL_TABLE_CELLS:
        half = max(n, m)
    else:
        half = BAND + abs(n - m)
    big = n + m + 1

    def span(i: int) -> tuple[int, int]:  # columns j (1..m) of row i inside the band
        centre = i * m // n if n else 0
        return max(1, centre - half), min(m, centre + half)

    prev_lo, prev_hi = 0, min(m, half)
    prev = list(range(prev_hi + 1))  # row 0: cost j for j in 0..prev_hi
    moves: list[tuple[int, bytearray]] = []  # per row: first column, moves of columns lo..hi
    for i in range(1, n + 1):
        lo, hi = span(i)
        h = hyp[a0 + i - 1]
        row_moves = bytearray(hi - lo + 1 if hi >= lo else 0)
        cur = [big] * (hi - lo + 2)  # column lo-1 .. hi
        cur[0] = i if lo == 1 else big
        width = prev_hi - prev_lo
        for j in range(lo, hi + 1):
            k = j - 1 - prev_lo  # column j - 1 in the previous row
            diag = (prev[k] if 0 <= k <= width else big) + (0 if h == ref[b0 + j - 1] else 1)
            up = (prev[k + 1] if 0 <= k + 1 <= width else big) + 1
            left = cur[j - lo] + 1
            best, move = diag, _DIAG
            if up < best:
                best, move = up, _UP
            if left < best:
                best, move = left, _LEFT
            cur[j - lo + 1] = best
            row_moves[j - lo] = move
        moves.append((lo, row_moves))
        prev, prev_lo, prev_hi = cur, lo - 1, hi
    out: list[tuple[int, int]] = []
    i, j = n, m
    while i > 0 and j > 0:
        lo, row_moves = moves[i - 1]
        k = j - lo
        if not 0 <= k < len(row_moves):  # outside the band: leave this row unmatched
            i -= 1
            continue
        move = row_moves[k]
        if move == _DIAG:
            if hyp[a0 + i - 1] == ref[b0 + j - 1]:
                out.append((a0 + i - 1, b0 + j - 1))
            i, j = i - 1, j - 1
        elif move == _UP:
            i -= 1
        else:
            j -= 1
    out.reverse()
    return out
