"""Anchored, banded word matching: same results as the full table on small cases,
linear memory and near-linear time on long ones."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from qalign import matching
from qalign.matching import match_sequences


def _full_table(hyp: list, ref: list) -> list[tuple[int, int]]:
    """The textbook edit-distance table (the previous implementation), for comparison."""
    n, m = len(hyp), len(ref)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i][j] = min(
                cost[i - 1][j - 1] + (hyp[i - 1] != ref[j - 1]),
                cost[i - 1][j] + 1,
                cost[i][j - 1] + 1,
            )
    pairs, i, j = [], n, m
    while i and j:
        if hyp[i - 1] == ref[j - 1] and cost[i][j] == cost[i - 1][j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j - 1] + 1:
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _valid(pairs, hyp, ref) -> bool:
    increasing = all(a[0] < b[0] and a[1] < b[1] for a, b in zip(pairs, pairs[1:]))
    return increasing and all(hyp[i] == ref[j] for i, j in pairs)


def test_small_cases_by_hand() -> None:
    assert match_sequences(["a", "b", "c"], ["a", "x", "c"]) == [(0, 0), (2, 2)]
    assert match_sequences(["a", "c"], ["a", "b", "c"]) == [(0, 0), (1, 2)]
    assert match_sequences(["x", "a", "b"], ["a", "b", "y"]) == [(1, 0), (2, 1)]
    assert match_sequences([], ["a"]) == [] and match_sequences(["a"], []) == []


def test_band_equals_the_full_table_when_it_covers_it() -> None:
    rng = random.Random(3)
    for _ in range(500):
        hyp = [rng.randrange(3) for _ in range(rng.randint(0, 15))]
        ref = [rng.randrange(3) for _ in range(rng.randint(0, 15))]
        assert matching._banded(hyp, ref, 0, len(hyp), 0, len(ref)) == _full_table(hyp, ref)


def test_small_stretches_equal_the_full_table() -> None:
    rng = random.Random(6)
    for _ in range(300):
        ref = [rng.randrange(5) for _ in range(rng.randint(0, 30))]
        hyp = [w if rng.random() > 0.2 else rng.randrange(5) for w in ref]
        assert match_sequences(hyp, ref) == _full_table(hyp, ref)


def test_anchored_matching_is_valid_and_close_to_optimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "FULL_TABLE_CELLS", 16)  # anchors even on short sequences
    rng = random.Random(4)
    for _ in range(300):
        vocab = rng.randint(20, 60)
        ref = [rng.randrange(vocab) for _ in range(rng.randint(0, 40))]
        hyp = [w if rng.random() > 0.15 else rng.randrange(vocab) for w in ref]
        pairs = match_sequences(hyp, ref)
        assert _valid(pairs, hyp, ref)
        assert len(pairs) >= len(_full_table(hyp, ref)) - 2


def test_wide_stretch_without_anchors_uses_the_band(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "FULL_TABLE_CELLS", 0)
    ref = ["la", "la", "da"] * 200
    hyp = list(ref)
    del hyp[100:103]  # a deletion
    hyp.insert(400, "oh")  # an insertion
    pairs = match_sequences(hyp, ref)
    assert _valid(pairs, hyp, ref) and len(pairs) == len(ref) - 3


def test_ten_thousand_words_in_linear_memory() -> None:
    rng = random.Random(5)
    vocab = ["the", "a", "of", "and", "to"] + [f"w{i}" for i in range(3000)]
    ref = [rng.choice(vocab) for _ in range(20_000)]
    hyp = list(ref)
    for _ in range(500):
        k = rng.randrange(len(hyp))
        hyp[k : k + 1] = rng.choice([[], ["uh"], ["zz"], [hyp[k], "um"]])
    tracemalloc.start()
    pairs = match_sequences(hyp, ref)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert _valid(pairs, hyp, ref) and len(pairs) > 19_000
    # the full table would need 20k x 20k cells (gigabytes); this stays in megabytes
    assert peak < 50 * 2**20, peak
