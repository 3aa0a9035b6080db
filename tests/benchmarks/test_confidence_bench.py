"""benchmarks/confidence.py's labelling and statistics, on hand-made alignments (no engine)."""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path

import pytest

from qalign.alignment import Alignment, Unit

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("confidence")
    finally:
        sys.path.remove(str(BENCH))


def test_auc_counts_pairs_and_ties(bench):
    assert bench.auc([0.1, 0.2], [0.9, 0.8]) == 1.0
    assert bench.auc([0.9], [0.1]) == 0.0
    assert bench.auc([0.5], [0.5, 0.9]) == pytest.approx(0.75)
    assert math.isnan(bench.auc([], [0.3]))


def test_variants_keep_the_origin_of_every_token(bench):
    out = dict((name, (origin, new)) for name, origin, new in bench.variants(30))
    assert out["as given"][0] == list(range(30))
    origin, new = out["13 words inserted"]
    assert origin.count(None) == 13 == len(new) and [o for o in origin if o is not None] == list(
        range(30)
    )
    origin, _ = out["6 words deleted"]
    assert len(origin) == 24 and set(range(30)) - set(origin) == set(range(12, 18))
    origin, new = out["4 words replaced"]
    assert origin.count(None) == 4 and len(origin) == 30


def test_word_errors_label_unspoken_words_and_measure_the_rest(bench):
    ref = Alignment(
        (
            Unit("one", "one", 0.0, 0.5),
            Unit("two", "two", 0.5, 1.0),
            Unit("three", "three", 1.0, 1.5),
        ),
        duration=2.0,
    )
    tokens = ["one", "two", "three"]
    origin, new = [0, None, 1, 2], ["extra"]
    # "one extra two three": hyp times for each token, char offsets into that text.
    hyp = Alignment(
        (
            Unit("one", "one", 0.0, 0.51, char_start=0, char_end=3),
            Unit("extra", "extra", 0.51, 0.6, char_start=4, char_end=9),
            Unit("two", "two", 0.6, 1.0, char_start=10, char_end=13),
            Unit("three", "three", 1.3, 1.5, char_start=14, char_end=19),
        ),
        duration=2.0,
    )
    errors = bench.word_errors(hyp, tokens, origin, new, ref)
    assert errors[0] == pytest.approx(0.01)
    assert errors[1] == math.inf
    assert errors[2] == pytest.approx(0.1)
    assert errors[3] == pytest.approx(0.3)
    row = bench.summarise(
        [
            (e, s, st)
            for e, s, st in zip(
                errors, [0.9, 0.1, 0.5, 0.2], ["aligned", "unaligned", "aligned", "uncertain"]
            )
        ]
    )
    assert row["off_100ms"] == 2 and row["within_20ms"] == 1
    assert row["auc_off_vs_20ms"] == 1.0
    assert row["caught_unaligned"] == 1 and row["caught_uncertain"] == 1


def test_another_engine_is_measured_the_same_way(bench, tmp_path, monkeypatch):
    """Any object with ``align`` goes through the same labelling (here every word at 0 s)."""
    pytest.importorskip("synth", reason="espeak-ng is needed for the synthetic set")

    class AllAtZero:
        def align(self, samples, text, language):
            from qalign.alignment import Unit

            units, pos = [], 0
            for tok in text.split():
                units.append(Unit(tok, tok, 0.0, 0.0, 0.5, pos, pos + len(tok)))
                pos += len(tok) + 1
            return Alignment(tuple(units), duration=len(samples) / 16000)

    monkeypatch.setattr(bench, "make_aligner", lambda spec: AllAtZero())
    monkeypatch.setattr(bench.accuracy, "TEXTS", bench.accuracy.TEXTS[:1])
    report = bench.run(["synthetic"], False, lambda m: None, "all-at-zero")
    row = report["synthetic, all"]
    assert row["words"] > 100  # the paragraph, as given and altered
    assert row["off_100ms"] >= row["words"] - 5  # only a first word can start near 0 s
    assert row["caught_uncertain"] == row["caught_unaligned"] == 0


def test_the_qwen3_path_is_measured_on_the_simulated_engine():
    """benchmarks/confidence_qwen3.py: errors against the simulation's true times; the
    80 words never spoken are more than 100 ms off, and most come out unaligned."""
    sys.path.insert(0, str(BENCH))
    try:
        qwen3 = importlib.import_module("confidence_qwen3")
        report = qwen3.measure(1.0, cases=(None, "unspoken_middle"), seeds=(2,))
    finally:
        sys.path.remove(str(BENCH))
    assert set(report) == {
        "clean", "unspoken_middle", "all", "all, seed 2", "placed", "placed, thresholds"
    }  # fmt: skip
    assert report["all, seed 2"]["words"] == report["all"]["words"]  # one seed: the same pool
    unspoken = report["unspoken_middle"]
    assert unspoken["off_100ms"] >= 80 > report["clean"]["off_100ms"]
    assert unspoken["caught_unaligned"] >= 40
    assert 0.5 < unspoken["auc_off_vs_20ms"] <= 1.0
    assert report["all"]["words"] == report["clean"]["words"] + unspoken["words"]
    assert report["placed"]["caught_unaligned"] == 0
