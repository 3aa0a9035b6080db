"""Per-slot reductions in torch (the decoders' device path) against plain numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qalign.aligner.qwen3.decoding import decode_monotonic, decode_reference
from qalign.aligner.qwen3.slot_logits import SlotLogits


def tied_logits(rng, n_slots: int, n_classes: int) -> np.ndarray:
    """Small integers, so most rows have their maximum at several classes."""
    logits = rng.integers(-3, 3, (n_slots, n_classes)).astype(np.float32)
    logits[rng.random(logits.shape) < 0.1] = -np.inf
    logits[np.arange(n_slots), rng.integers(0, n_classes, n_slots)] = 2.0  # one finite top
    return logits


def numpy_lse(values: np.ndarray) -> np.ndarray:
    wide = values.astype(np.float64)
    top = wide.max(axis=1)
    return top + np.log(np.exp(wide - top[:, None]).sum(axis=1))


@pytest.mark.parametrize("n_classes", [1, 5, 63, 64, 65, 130, 5000])
def test_first_argmax_and_log_sum_exp_match_numpy(n_classes):
    rng = np.random.default_rng(n_classes)
    for logits in (
        tied_logits(rng, 40, n_classes),
        rng.standard_normal((40, n_classes)).astype(np.float32) * 30,
        np.zeros((40, n_classes)),
    ):
        slots = SlotLogits(logits)
        assert slots.best.tolist() == logits.argmax(axis=1).tolist()
        np.testing.assert_allclose(slots.lse, numpy_lse(logits), rtol=1e-6)


@pytest.mark.parametrize("radius", [1, 2])
def test_probabilities_around_a_class_are_the_softmax_and_zero_past_the_edges(radius):
    rng = np.random.default_rng(radius)
    logits = rng.standard_normal((6, 50)).astype(np.float32) * 3
    centre = np.array([0, 1, 25, 48, 49, 10], dtype=np.int64)
    probs = SlotLogits(logits, pairs=False).probs_around(centre, radius)
    softmax = np.exp(logits - numpy_lse(logits)[:, None])
    for row, c in enumerate(centre.tolist()):
        for k, x in enumerate(range(c - radius, c + radius + 1)):
            want = softmax[row, x] if 0 <= x < 50 else 0.0
            assert probs[row, k] == pytest.approx(want, rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("n_classes", [3, 64, 100, 300])
def test_best_logit_outside_a_range_matches_numpy(n_classes):
    rng = np.random.default_rng(n_classes)
    logits = tied_logits(rng, 40, n_classes)
    slots = SlotLogits(logits)
    for last in {0, n_classes // 2, n_classes - 1}:
        lo = rng.integers(0, last + 1, 40)
        hi = np.minimum(lo + rng.integers(0, 90, 40), last)
        got = slots.outside_max(lo, hi, last)
        for s in range(40):
            keep = np.ones(last + 1, dtype=bool)
            keep[lo[s] : hi[s] + 1] = False
            assert got[s] == (logits[s, : last + 1][keep].max() if keep.any() else -np.inf)


def test_window_maxima_and_threshold_spans_match_numpy():
    rng = np.random.default_rng(5)
    logits = tied_logits(rng, 30, 200)
    slots = SlotLogits(logits)
    lo = rng.integers(0, 150, 30)
    hi = np.minimum(lo + rng.integers(0, 40, 30), 179)
    for lo_, hi_ in ((lo, hi), (np.zeros(30, dtype=np.int64), np.full(30, 179))):
        values, base = slots.window(lo_, hi_)
        for s in range(30):
            got = values[s, lo_[s] - base[s] : hi_[s] - base[s] + 1]
            assert got.tolist() == logits[s, lo_[s] : hi_[s] + 1].tolist()
    outside = slots.outside_max(lo, hi, 179)
    for s in range(30):
        keep = np.ones(180, dtype=bool)
        keep[lo[s] : hi[s] + 1] = False
        assert outside[s] == (logits[s, :180][keep].max() if keep.any() else -np.inf)
    rows = np.array([0, 3, 7, 29])
    thresholds = np.array([2.0, 1.5, 9.0, -0.5])
    first, final = slots.reaching(rows, thresholds, 179)
    for k, s in enumerate(rows):
        hits = np.flatnonzero(logits[s, :180] >= thresholds[k])
        assert (first[k], final[k]) == ((hits[0], hits[-1]) if hits.size else (-1, -1))


@pytest.mark.parametrize("decode", [decode_reference, decode_monotonic])
def test_tensor_input_gives_the_numpy_result(decode):
    rng = np.random.default_rng(2)
    for trial in range(30):
        n_units, n_classes = int(rng.integers(1, 30)), int(rng.integers(2, 150))
        logits = tied_logits(rng, 2 * n_units, n_classes)
        if trial % 2:
            logits = np.round(rng.standard_normal(logits.shape) * 2).astype(np.float64)
        max_class = int(rng.integers(0, n_classes + 2))
        a = decode(logits, max_class)
        b = decode(torch.from_numpy(logits), max_class)
        assert a.start_ms.tolist() == b.start_ms.tolist()
        assert a.end_ms.tolist() == b.end_ms.tolist()
        np.testing.assert_array_equal(a.scores, b.scores)


def clip_logits(rng, n_units: int, outliers: float) -> np.ndarray:
    """A 120 s clip's slots: peaked at ordered classes, some with a stronger false peak."""
    n_slots, n_classes = 2 * n_units, 5000
    truth = np.cumsum(rng.integers(0, 3, n_slots))
    classes = np.arange(n_classes, dtype=np.float32)
    logits = -1.5 * np.abs(classes[None, :] - truth[:, None].astype(np.float32))
    logits += rng.standard_normal((n_slots, n_classes), dtype=np.float32) * 0.3
    hit = np.flatnonzero(rng.random(n_slots) < outliers)
    logits[hit, rng.integers(0, n_classes, hit.size)] = 5.0
    return logits


@pytest.mark.parametrize("outliers", [0.0, 0.03])
@pytest.mark.parametrize("decode", [decode_reference, decode_monotonic])
def test_only_per_slot_arrays_leave_the_logits_device(decode, outliers):
    logits = clip_logits(np.random.default_rng(9), 300, outliers)
    slots = SlotLogits(torch.from_numpy(logits))
    decoded = decode(slots, 1500)
    plain = decode(logits, 1500)
    assert decoded.start_ms.tolist() == plain.start_ms.tolist()
    assert decoded.end_ms.tolist() == plain.end_ms.tolist()
    # lse + argmax + three logits per slot, plus a narrow band where the DP runs:
    # a few hundred bytes per slot against the 20 kB of each slot's logits.
    assert slots.host_bytes <= 600 * 400
    assert slots.host_bytes < logits.nbytes / 50


def test_unusable_rows_are_refused_as_before():
    logits = np.zeros((4, 10), dtype=np.float32)
    logits[2, 3] = np.nan
    with pytest.raises(ValueError, match="row 2 is not usable"):
        SlotLogits(logits)
    logits[2] = -np.inf
    with pytest.raises(ValueError, match="row 2 is not usable"):
        SlotLogits(torch.from_numpy(logits))
    with pytest.raises(ValueError, match="odd 3 rows"):
        SlotLogits(np.zeros((3, 10)))
    assert SlotLogits(np.zeros((3, 10)), pairs=False).best.tolist() == [0, 0, 0]
