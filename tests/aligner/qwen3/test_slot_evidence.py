"""What the slot distributions say about each decoded unit (qalign.aligner.qwen3.slot_evidence)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qalign.aligner.qwen3.slot_evidence import slot_rows, unit_evidence

CLASSES = 200


def _peak(*centres: float, height: float = 12.0, width: float = 0.6) -> np.ndarray:
    """One logit row with Gaussian bumps at ``centres`` (classes) over a flat floor."""
    classes = np.arange(CLASSES, dtype=np.float64)
    row = np.zeros(CLASSES)
    for c in centres:
        row = np.maximum(row, height * np.exp(-0.5 * ((classes - c) / width) ** 2))
    return row.astype(np.float32)


def test_a_sharp_peak_on_the_decoded_class_is_all_near_and_centred():
    near, offset, repair = slot_rows(_peak(50)[None], np.array([50]))[0]
    assert near > 0.99
    assert offset < 0.05
    assert repair == 0


def _probs(mass: dict[int, float]) -> np.ndarray:
    """A logit row giving exactly these class probabilities (the rest shared evenly)."""
    rest = (1.0 - sum(mass.values())) / (CLASSES - len(mass))
    row = np.full(CLASSES, math.log(rest))
    for c, p in mass.items():
        row[c] = math.log(p)
    return row[None]


def test_mass_split_with_a_neighbour_is_half_a_class_off():
    (row,) = slot_rows(_probs({50: 0.495, 51: 0.495}), np.array([50]))
    assert row[1] == pytest.approx(0.5, abs=0.01)
    assert row[0] > 0.98  # still near: the split is within one class
    (quarter,) = slot_rows(_probs({50: 0.74, 51: 0.25}), np.array([50]))
    assert quarter[1] == pytest.approx(0.25, abs=0.01)
    (sides,) = slot_rows(_probs({49: 0.3, 50: 0.39, 51: 0.3}), np.array([50]))
    assert sides[1] < 0.01  # spread evenly on both sides: centred


def test_a_slot_moved_off_its_argmax_counts_the_classes_and_loses_its_mass():
    (row,) = slot_rows(_peak(60)[None], np.array([54]))
    assert row[2] == 6
    assert row[0] < 0.01
    (far,) = slot_rows(_peak(150)[None], np.array([10]))
    assert far[2] == 25  # counted up to 25 classes


def test_a_flat_distribution_has_little_mass_near():
    (row,) = slot_rows(np.zeros((1, CLASSES), np.float32), np.array([100]))
    assert row[0] == pytest.approx(3 / CLASSES, rel=1e-6)


def test_the_decoded_class_at_the_edge_counts_only_classes_that_exist():
    (row,) = slot_rows(_peak(0)[None], np.array([0]))
    assert row[0] > 0.99 and row[1] < 0.05


def test_a_unit_takes_the_worse_of_its_two_slots():
    logits = np.stack([_peak(20), _peak(31.5), _peak(40), _peak(48)])
    rows = unit_evidence(logits, np.array([20, 40]), np.array([31, 45]))
    start, end = slot_rows(logits[:2], np.array([20, 31]))
    assert rows[0, 0] == pytest.approx(min(start[0], end[0]))
    assert rows[0, 1] == pytest.approx(end[1])  # the split end slot
    assert rows[1, 2] == 3  # the end slot was moved 3 classes


def test_chunked_rows_equal_rows_one_by_one():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (600, CLASSES)).astype(np.float32)
    classes = rng.integers(0, CLASSES, 600)
    together = slot_rows(logits, classes)
    alone = np.stack(
        [slot_rows(logits[i : i + 1], classes[i : i + 1])[0] for i in (0, 255, 256, 599)]
    )
    np.testing.assert_allclose(together[[0, 255, 256, 599]], alone, rtol=1e-9)
