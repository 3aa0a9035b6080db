"""Timestamp decoders: the official repair, the constrained DP, and confidence scores."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qalign.aligner.qwen3 import decoding, monotonic_decoder, ordered_dp, reference_decoder
from qalign.aligner.qwen3.decoding import (
    DECODERS,
    DEFAULT_DECODER,
    Decoded,
    decode_monotonic,
    decode_reference,
    repair_reference,
)

STEP = decoding.STEP_MS


# --- helpers ---------------------------------------------------------------


def peaked(classes, n_classes: int, seed: int = 0, height: float = 12.0) -> np.ndarray:
    """Logits whose argmax per slot is ``classes``: a tall peak on a slope falling by
    one per class away from it, plus a little noise (so near classes beat far ones)."""
    rng = np.random.default_rng(seed)
    centre = np.asarray(classes)[:, None]
    logits = -np.abs(np.arange(n_classes)[None, :] - centre).astype(np.float32)
    logits += 0.1 * rng.standard_normal(logits.shape).astype(np.float32)
    logits[np.arange(len(classes)), np.asarray(classes)] = height
    return logits


def slots_of(d: Decoded) -> np.ndarray:
    """Per-slot classes (start, end interleaved) of a monotonic result."""
    out = np.empty(2 * len(d), dtype=np.int64)
    out[0::2] = d.start_ms // STEP
    out[1::2] = d.end_ms // STEP
    assert (out * STEP == np.stack([d.start_ms, d.end_ms], 1).ravel()).all()
    return out


def log_softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, dtype=np.float64)
    top = x.max(axis=1, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(axis=1, keepdims=True))


def total(logits: np.ndarray, path: np.ndarray) -> float:
    return float(log_softmax(logits)[np.arange(len(path)), path].sum())


def effective_gap(n_units: int, last: int, min_bins: int = 1) -> int:
    return min(min_bins, last // n_units) if n_units else 0


def is_feasible(path: np.ndarray, last: int, gap: int) -> bool:
    path = np.asarray(path)
    return bool(
        (path >= 0).all()
        and (path <= last).all()
        and all(path[2 * i + 1] - path[2 * i] >= gap for i in range(len(path) // 2))
        and all(path[2 * i + 2] >= path[2 * i + 1] for i in range(len(path) // 2 - 1))
    )


@cache
def all_sequences(n_slots: int, n_classes: int) -> np.ndarray:
    return np.array(list(itertools.product(range(n_classes), repeat=n_slots)), dtype=np.int64)


def brute_force(logits: np.ndarray, last: int, gap: int) -> tuple[float, np.ndarray]:
    """Best total and the optimal sequences (rows), by enumeration."""
    n_slots, n_classes = logits.shape
    seqs = all_sequences(n_slots, n_classes)
    ok = (seqs <= last).all(axis=1)
    ok &= (seqs[:, 1::2] - seqs[:, 0::2] >= gap).all(axis=1)
    ok &= (seqs[:, 2::2] >= seqs[:, 1:-1:2]).all(axis=1)
    seqs = seqs[ok]
    lp = log_softmax(logits)
    totals = lp[np.arange(n_slots)[None, :], seqs].sum(axis=1)
    best = totals.max()
    return float(best), seqs[totals >= best - 1e-9]


def naive_lis_members(values: list) -> list[bool]:
    """The documented LIS rule, written out in O(n^2): each element's predecessor is the
    earliest one giving the longest chain; the chain ends at the earliest longest element."""
    n = len(values)
    length, parent = [1] * n, [-1] * n
    for i in range(n):
        for j in range(i):
            if values[j] <= values[i] and length[j] + 1 > length[i]:
                length[i], parent[i] = length[j] + 1, j
    members = [False] * n
    idx = length.index(max(length)) if n else -1
    while idx != -1:
        members[idx] = True
        idx = parent[idx]
    return members


small_logits = st.integers(1, 3).flatmap(
    lambda n: st.integers(1, 6).flatmap(
        lambda c: st.lists(
            st.floats(-8, 8, allow_nan=False, allow_subnormal=False, width=32),
            min_size=2 * n * c,
            max_size=2 * n * c,
        ).map(lambda xs: np.asarray(xs, dtype=np.float64).reshape(2 * n, c))
    )
)


# --- Decoded -----------------------------------------------------------------


def test_decoded_converts_freezes_and_derives_units():
    d = Decoded([0, 80], [80, 200], [0.5, 1.0])
    assert d.start_ms.dtype == np.int64 and d.scores.dtype == np.float64
    assert len(d) == 2
    np.testing.assert_allclose(d.end_s, [0.08, 0.2])
    np.testing.assert_allclose(d.end_classes, [1.0, 2.5])
    with pytest.raises(ValueError):
        d.start_ms[0] = 5
    with pytest.raises(AttributeError):
        d.step_ms = 10  # type: ignore[misc]


def test_decoded_rejects_inconsistent_values():
    with pytest.raises(ValueError, match="differ in length"):
        Decoded([0, 80], [80], [1.0, 1.0])
    with pytest.raises(ValueError, match="1-D"):
        Decoded([[0]], [[80]], [[1.0]])
    with pytest.raises(ValueError, match="unit 1 ends before it starts: 160 ms > 80 ms"):
        Decoded([0, 160], [80, 80], [1.0, 1.0])
    with pytest.raises(ValueError, match="not in"):
        Decoded([0], [80], [1.5])
    with pytest.raises(ValueError, match="not in"):
        Decoded([0], [80], [np.nan])


def test_registry_names_both_decoders_and_the_default():
    assert DECODERS == {"reference": decode_reference, "monotonic": decode_monotonic}
    assert DEFAULT_DECODER == "monotonic"


# --- reference repair ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ([], []),
        ([80, 80, 80], [80, 80, 80]),
        # 40 is off the chain (0, 80, 160 wins over 0, 40, 160: earliest predecessor);
        # a lone outlier takes its left neighbour.
        ([0, 80, 40, 160], [0, 80, 80, 160]),
        # A run of two: the first takes the left neighbour, the second the right one.
        ([0, 500, 400, 300, 1000], [0, 500, 500, 1000, 1000]),
        # A run of three is spaced evenly between its neighbours.
        ([0, 900, 800, 700, 100, 200], [0, 25, 50, 75, 100, 200]),
        # Interpolation truncates: 100/6 * 4 = 66.67 becomes 66, not 67.
        ([0, 900, 800, 700, 600, 500, 100, 200], [0, 16, 33, 50, 66, 83, 100, 200]),
        # Runs at either end copy their only neighbour.
        ([500, 0, 100, 200], [0, 0, 100, 200]),
        ([0, 100, 50, 40, 30], [0, 100, 100, 100, 100]),
    ],
)
def test_repair_reference_follows_the_official_rules(raw, fixed):
    assert repair_reference(raw) == fixed
    assert repair_reference(np.asarray(raw, dtype=np.float32)) == fixed


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 12), max_size=40))
def test_lis_choice_matches_the_quadratic_rule(values):
    assert reference_decoder._lis_members(values) == naive_lis_members(values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4999).map(lambda c: c * STEP), min_size=1, max_size=60))
def test_repair_output_is_ordered_and_keeps_the_chain(raw):
    fixed = repair_reference(raw)
    assert len(fixed) == len(raw)
    assert all(a <= b for a, b in zip(fixed, fixed[1:]))
    kept = naive_lis_members(raw)
    assert [f for f, k in zip(fixed, kept) if k] == [r for r, k in zip(raw, kept) if k]
    assert min(raw) <= min(fixed) and max(fixed) <= max(raw)


def test_decode_reference_repairs_the_argmax_without_clamping():
    raw = [3, 3, 50, 4, 5, 9, 9, 12]
    d = decode_reference(peaked(raw, 60), max_class=10)
    expected = repair_reference([c * STEP for c in raw])
    assert d.start_ms.tolist() == expected[0::2]
    assert d.end_ms.tolist() == expected[1::2]
    assert d.start_ms[0] == d.end_ms[0]  # official zero-length unit kept
    # max_class is ignored, as in the official code
    assert decode_reference(peaked([40, 45], 60), max_class=10).end_ms[0] == 45 * STEP


# --- monotonic decoder --------------------------------------------------------


def test_feasible_argmax_is_returned_unchanged():
    classes = [2, 5, 5, 9, 10, 11, 30, 31]
    d = decode_monotonic(peaked(classes, 40))
    assert slots_of(d).tolist() == classes


def test_zero_length_unit_gets_one_bin():
    d = decode_monotonic(peaked([4, 4, 8, 12], 20))
    path = slots_of(d)
    assert path[1] - path[0] == 1
    assert path.tolist() in ([3, 4, 8, 12], [4, 5, 8, 12])


def test_outlier_is_pulled_back_between_its_neighbours():
    classes = [10, 12, 14, 16, 90, 20, 22, 24]
    d = decode_monotonic(peaked(classes, 100))
    path = slots_of(d)
    # the outlier's slope prefers the latest class the order allows
    assert path[4:6].tolist() == [19, 20]
    assert path[[0, 1, 2, 3, 6, 7]].tolist() == [10, 12, 14, 16, 22, 24]
    assert d.scores[2] < 0.01 < 0.99 < d.scores[0]


def test_max_class_caps_every_slot():
    d = decode_monotonic(peaked([1, 3, 5, 30, 31, 40], 50), max_class=20)
    path = slots_of(d)
    assert path.max() <= 20 and is_feasible(path, 20, 1)
    assert path[:3].tolist() == [1, 3, 5]


def test_model_running_past_the_audio_end_is_squeezed_in():
    # Every slot's peak lies after the audio's end (class 20).
    classes = [25, 27, 30, 33, 36, 38, 40, 44]
    path = slots_of(decode_monotonic(peaked(classes, 50), max_class=20))
    # each slot wants to be as late as possible: the latest feasible sequence,
    # with every unit one class long
    assert path.tolist() == [16, 17, 17, 18, 18, 19, 19, 20]
    # a max_class past the last class is the same as none
    assert slots_of(decode_monotonic(peaked(classes, 50), max_class=10_000)).tolist() == classes


@pytest.mark.parametrize(
    ("n_units", "max_class", "min_bins", "gap"),
    [(3, 2, 1, 0), (3, 3, 1, 1), (3, 4, 2, 1), (3, 6, 2, 2), (2, 0, 1, 0)],
)
def test_unit_length_is_relaxed_only_as_far_as_the_audio_forces(n_units, max_class, min_bins, gap):
    logits = np.zeros((2 * n_units, 12))  # uniform: every sequence ties
    logits[:, 0] = 1.0  # the model wants everything at class 0
    d = decode_monotonic(logits, max_class=max_class, min_bins=min_bins)
    path = slots_of(d)
    assert is_feasible(path, max_class, gap)
    assert (path[1::2] - path[0::2]).min() == gap  # no more length than required


def test_min_bins_zero_allows_zero_length():
    logits = peaked([4, 4, 8, 12], 20)
    assert slots_of(decode_monotonic(logits, min_bins=0)).tolist() == [4, 4, 8, 12]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_logits, st.integers(0, 7), st.integers(0, 2))
def test_monotonic_is_the_brute_force_optimum(logits, max_class, min_bins):
    n_slots, n_classes = logits.shape
    last = min(max_class, n_classes - 1)
    gap = effective_gap(n_slots // 2, last, min_bins)
    path = slots_of(decode_monotonic(logits, max_class=max_class, min_bins=min_bins))
    assert is_feasible(path, last, gap)
    best, _ = brute_force(logits, last, gap)
    assert total(logits, path) == pytest.approx(best, abs=1e-9)
    argmax = logits.argmax(axis=1)
    if is_feasible(argmax, last, gap):
        assert path.tolist() == argmax.tolist()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 3).flatmap(
        lambda n: st.integers(1, 6).flatmap(
            lambda c: st.lists(st.integers(-3, 3), min_size=2 * n * c, max_size=2 * n * c).map(
                lambda xs: np.asarray(xs, dtype=np.float64).reshape(2 * n, c)
            )
        )
    ),
    st.integers(0, 7),
)
def test_ties_resolve_to_the_earliest_optimal_sequence(logits, max_class):
    # Small integers make exact ties common; the optimal sequences are closed
    # under elementwise min, and the decoder returns that minimum.
    last = min(max_class, logits.shape[1] - 1)
    gap = effective_gap(logits.shape[0] // 2, last)
    path = slots_of(decode_monotonic(logits, max_class=max_class))
    _, optimal = brute_force(logits, last, gap)
    assert path.tolist() == optimal.min(axis=0).tolist()


@settings(max_examples=150, deadline=None)
@given(small_logits)
def test_monotonic_scores_at_least_the_reference_repair(logits):
    ref = decode_reference(logits)
    ref_slots = np.stack([ref.start_ms, ref.end_ms], 1).ravel()
    if (ref_slots % STEP).any():
        return  # interpolated between classes: not a class sequence
    mono = slots_of(decode_monotonic(logits, min_bins=0))
    assert total(logits, mono) >= total(logits, ref_slots // STEP) - 1e-9


def _outlier_logits(rng, n_units: int, n_classes: int) -> np.ndarray:
    """Peaked rows around an ordered truth, some with a stronger false peak."""
    steps = rng.integers(0, 3, size=2 * n_units)
    truth = np.minimum(np.cumsum(steps), n_classes - 1)
    classes = np.arange(n_classes)
    logits = -rng.uniform(0.3, 2.0) * np.abs(classes[None, :] - truth[:, None]).astype(float)
    logits += rng.standard_normal(logits.shape) * rng.uniform(0.1, 1.5)
    hit = rng.random(2 * n_units) < rng.uniform(0.0, 0.2)
    logits[hit, rng.integers(0, n_classes, hit.sum())] = rng.uniform(0, 6)
    return logits


def _crowded_logits(rng, n_units: int, n_classes: int) -> np.ndarray:
    """Gentle slopes with many units peaking at the same few classes, so the optimum
    has to spread them far from their argmax."""
    truth = np.sort(rng.choice(rng.integers(0, n_classes, size=3), size=2 * n_units))
    classes = np.arange(n_classes)
    logits = -rng.uniform(0.02, 0.3) * np.abs(classes[None, :] - truth[:, None]).astype(float)
    return logits + rng.standard_normal(logits.shape) * 0.01


@pytest.mark.parametrize("band", [0, 8])
def test_pruned_search_equals_a_dp_over_every_class(monkeypatch, band):
    # Larger than brute force can reach: compare with the plain DP over all
    # classes. Both outcomes of the bound must occur: the band certified
    # optimal, and a rerun over the classes the bound keeps.
    monkeypatch.setattr(monotonic_decoder, "_BAND", band)
    calls = {"rerun": 0}
    contenders = monotonic_decoder._contenders

    def counting(*args):
        calls["rerun"] += 1
        return contenders(*args)

    monkeypatch.setattr(monotonic_decoder, "_contenders", counting)
    rng = np.random.default_rng(7 + band)
    certified = 0
    for trial in range(80):
        n_units, n_classes = int(rng.integers(5, 60)), int(rng.integers(50, 300))
        make = _crowded_logits if trial % 2 else _outlier_logits
        logits = make(rng, n_units, n_classes)
        max_class = int(rng.integers(n_classes // 2, n_classes + 5))
        last = min(max_class, n_classes - 1)
        gap = effective_gap(n_units, last)
        before = calls["rerun"]
        path = slots_of(decode_monotonic(logits, max_class=max_class))
        owed = monotonic_decoder._owed(2 * n_units, gap)
        gaps = np.zeros(2 * n_units, dtype=np.int64)
        gaps[1::2] = gap
        full = ordered_dp.dp_ragged(logits, owed, owed + (last - owed[-1]), gaps)
        assert path.tolist() == full.tolist()
        argmax = logits.argmax(axis=1)
        if calls["rerun"] == before and not is_feasible(argmax, last, gap):
            certified += 1
    assert certified > 0 and calls["rerun"] > 0


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_dense_and_ragged_dp_layouts_agree(data):
    n_slots = 2 * data.draw(st.integers(1, 8))
    n_classes = data.draw(st.integers(1, 30))
    gap = data.draw(st.integers(0, 2))
    last = n_classes - 1
    if (n_slots // 2) * gap > last:
        gap = 0
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    logits = np.round(rng.standard_normal((n_slots, n_classes)) * 2)
    owed = monotonic_decoder._owed(n_slots, gap)
    lo = np.maximum(owed, rng.integers(-3, n_classes, n_slots))
    hi = np.minimum(owed + (last - owed[-1]), lo + rng.integers(0, n_classes, n_slots))
    lo, hi = monotonic_decoder._tighten(lo, hi, owed)
    if (lo > hi).any():
        return
    gaps = np.zeros(n_slots, dtype=np.int64)
    gaps[1::2] = gap
    dense = ordered_dp.dp_dense(logits, lo, hi, gaps, int((hi - lo).max()) + 1)
    ragged = ordered_dp.dp_ragged(logits, lo, hi, gaps)
    assert dense.tolist() == ragged.tolist()
    assert ((dense >= lo) & (dense <= hi)).all() and is_feasible(dense, last, gap)
    # The same values as a window per slot: row s holds classes base[s], base[s] + 1, ...
    # (base[s] <= lo[s]); the columns outside [lo, hi] hold a large decoy that a
    # misread column would pick.
    base = lo - rng.integers(0, lo + 1)
    width = int((hi - base).max()) + 1 + data.draw(st.integers(0, 3))
    windows = np.full((n_slots, width), 99.0)
    for row in range(n_slots):
        windows[row, lo[row] - base[row] : hi[row] - base[row] + 1] = logits[
            row, lo[row] : hi[row] + 1
        ]
    widest = int((hi - lo).max()) + 1
    assert ordered_dp.dp_dense(windows, lo, hi, gaps, widest, base).tolist() == dense.tolist()
    assert ordered_dp.dp_ragged(windows, lo, hi, gaps, base).tolist() == dense.tolist()


def test_noise_input_takes_the_full_dp_and_stays_optimal():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((40, 30))
    path = slots_of(decode_monotonic(logits))
    owed = monotonic_decoder._owed(40, 1)
    gaps = np.zeros(40, dtype=np.int64)
    gaps[1::2] = 1
    assert path.tolist() == ordered_dp.dp_ragged(logits, owed, owed + 29 - owed[-1], gaps).tolist()


def test_minus_infinity_classes_are_avoided():
    logits = peaked([5, 5, 9, 12], 20)
    logits[1, 6] = -np.inf  # the natural repair of the zero-length unit
    logits[0, 4] = -np.inf  # and the other one
    path = slots_of(decode_monotonic(logits))
    assert is_feasible(path, 19, 1)
    assert np.isfinite(logits[np.arange(4), path]).all()


# --- scores ------------------------------------------------------------------


def test_scores_measure_mass_near_the_decoded_class():
    n_classes = 50
    sure = peaked([10, 20], n_classes, height=40.0)
    assert decode_monotonic(sure).scores[0] == pytest.approx(1.0)
    flat = np.zeros((2, n_classes))
    # uniform: the reference puts both slots at class 0, which has one neighbour
    assert decode_reference(flat).scores[0] == pytest.approx(2 / n_classes)
    # the monotonic decoder ties towards (0, 1): two classes around 0, three around 1
    assert decode_monotonic(flat).scores[0] == pytest.approx(np.sqrt(2 * 3) / n_classes)


@pytest.mark.parametrize("decode", [decode_reference, decode_monotonic])
def test_results_do_not_depend_on_a_per_slot_offset(decode):
    # Logits are defined up to a constant per slot; large offsets take the
    # shifted log-sum-exp path, small ones the direct one.
    logits = peaked([3, 3, 9, 2, 12, 14], 30, height=4.0).astype(np.float64)
    offsets = np.array([0.0, 500.0, -700.0, 3.0, 1e4, -65.0])[:, None]
    plain, moved = decode(logits), decode(logits + offsets)
    assert plain.start_ms.tolist() == moved.start_ms.tolist()
    assert plain.end_ms.tolist() == moved.end_ms.tolist()
    np.testing.assert_allclose(plain.scores, moved.scores, rtol=1e-9)


def test_score_between_classes_uses_the_nearest_class():
    logits = np.full((8, 100), -50.0)
    raw = [0, 90, 80, 70, 10, 20, 30, 40]  # slots 1-3 are interpolated to 2.5, 5, 7.5
    logits[np.arange(8), raw] = 0.0
    d = decode_reference(logits)
    assert d.end_ms[0] == 200 and d.start_ms[1] == 400
    assert all(0.0 <= s <= 1.0 for s in d.scores)
    assert d.scores[2] == pytest.approx(1.0)  # untouched unit: all mass on its classes
    assert d.scores[0] < 1e-6  # end slot's mass sits at 90, far from 2.5


# --- input handling ----------------------------------------------------------


@pytest.mark.parametrize("decode", [decode_reference, decode_monotonic])
def test_empty_logits_give_no_units(decode):
    d = decode(np.zeros((0, 5000), dtype=np.float32))
    assert len(d) == 0 and d.scores.shape == (0,)


@pytest.mark.parametrize("decode", [decode_reference, decode_monotonic])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
def test_accepts_common_dtypes_and_leaves_input_alone(decode, dtype):
    logits = peaked([1, 4, 4, 9], 12).astype(dtype)
    before = logits.copy()
    d = decode(logits)
    assert len(d) == 2
    np.testing.assert_array_equal(logits, before)


@pytest.mark.parametrize("decode", [decode_reference, decode_monotonic])
@pytest.mark.parametrize(
    ("logits", "message"),
    [
        (np.zeros(10), "2-D"),
        (np.zeros((3, 10)), "odd"),
        (np.zeros((2, 0)), "no classes"),
        (np.array([[0.0, np.nan], [0.0, 1.0]]), "row 0"),
        (np.array([[0.0, 1.0], [np.inf, 1.0]]), "row 1"),
        (np.array([[0.0, 1.0], [-np.inf, -np.inf]]), "row 1"),
    ],
)
def test_bad_logits_raise(decode, logits, message):
    with pytest.raises(ValueError, match=message):
        decode(logits)


@pytest.mark.parametrize(
    "kwargs", [{"max_class": -1}, {"min_bins": -1}, {"step_ms": 0}, {"step_ms": 80.5}]
)
def test_bad_options_raise(kwargs):
    with pytest.raises(ValueError):
        decode_monotonic(np.zeros((2, 10)), **kwargs)


def test_step_ms_scales_times():
    logits = peaked([2, 3], 10)
    assert decode_monotonic(logits, step_ms=40).end_ms.tolist() == [120]
    assert decode_reference(logits, step_ms=40).start_ms.tolist() == [80]
