"""The reference decoder against the official qwen-asr 0.0.6 outputs in the parity fixtures.

Every forced-alignment record carries the official argmax classes (``raw_class_ids``,
``raw_ms``) and the official repair (``fixed_ms``) or its rounded seconds (``items``), for
the default run, the ``windowed`` run and, for batched cases, the ``single_call`` runs.
The repair is checked on every one of them, and the full reference decoder on logits
built to have the recorded argmax.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qalign.aligner.qwen3.decoding import STEP_MS, decode_reference, repair_reference

N_CLASSES = 5000


@pytest.fixture(scope="module")
def fa_cases(parity_dir: Path) -> list[dict]:
    path = parity_dir / "fa_cases.jsonl"
    if not path.is_file():
        pytest.skip(f"no {path.name} in {parity_dir}")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def variants(case: dict) -> Iterator[tuple[str, dict]]:
    """Every official run recorded for a case, named like ``id/windowed``."""
    yield case["case_id"], case
    if "windowed" in case:
        yield f"{case['case_id']}/windowed", case["windowed"]
    single = case.get("single_call")
    if single:
        yield f"{case['case_id']}/single_call", single
        if "windowed" in single:
            yield f"{case['case_id']}/single_call/windowed", single["windowed"]


def items_seconds(fixed_ms: list[int], n_words: int) -> list[tuple[float, float]]:
    """How the official code turns repaired ms into item times (3 decimals)."""
    return [
        (round(fixed_ms[2 * i] / 1000.0, 3), round(fixed_ms[2 * i + 1] / 1000.0, 3))
        for i in range(n_words)
    ]


def logits_with_argmax(classes: list[int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((len(classes), N_CLASSES)).astype(np.float32)
    logits[np.arange(len(classes)), classes] = 10.0
    return logits


def test_fixture_covers_all_variants(fa_cases):
    names = [name for case in fa_cases for name, _ in variants(case)]
    assert len(fa_cases) >= 40
    assert sum(name.endswith("/windowed") for name in names) == len(fa_cases) + sum(
        "single_call" in case for case in fa_cases
    )
    assert any("/single_call" in name for name in names)


def test_repair_matches_official_fixed_ms(fa_cases):
    checked, mismatches = 0, []
    for case in fa_cases:
        for name, run in variants(case):
            if "fixed_ms" not in run:
                continue
            assert run["raw_ms"] == [c * STEP_MS for c in run["raw_class_ids"]], name
            if repair_reference(run["raw_ms"]) != run["fixed_ms"]:
                mismatches.append(name)
            checked += 1
    assert not mismatches
    # the default and windowed run of every case
    assert checked == 2 * len(fa_cases)


def test_repair_matches_official_items_of_every_run(fa_cases):
    # single_call runs record only classes and items, so compare seconds.
    checked, mismatches = 0, []
    for case in fa_cases:
        n_words = len(case["word_list"])
        for name, run in variants(case):
            fixed = repair_reference([c * STEP_MS for c in run["raw_class_ids"]])
            official = [(it["start_time"], it["end_time"]) for it in run["items"]]
            if items_seconds(fixed, n_words) != official:
                mismatches.append(name)
            checked += 1
    assert not mismatches
    assert checked > 2 * len(fa_cases)


def test_interpolated_cases_are_present(fa_cases):
    # The fixtures exercise the interpolation branch (times off the 80 ms grid).
    off_grid = sum(any(ms % STEP_MS for ms in case["fixed_ms"]) for case in fa_cases)
    assert off_grid >= 10


def test_decode_reference_reproduces_official_runs(fa_cases):
    mismatches = []
    for index, case in enumerate(fa_cases):
        n_words = len(case["word_list"])
        for name, run in variants(case):
            decoded = decode_reference(logits_with_argmax(run["raw_class_ids"], index))
            slots = np.stack([decoded.start_ms, decoded.end_ms], axis=1).ravel().tolist()
            if "fixed_ms" in run and slots != run["fixed_ms"]:
                mismatches.append(f"{name}: fixed_ms")
            seconds = list(zip(decoded.start_s.tolist(), decoded.end_s.tolist()))[:n_words]
            official = [(it["start_time"], it["end_time"]) for it in run["items"]]
            if [(round(a, 3), round(b, 3)) for a, b in seconds] != official:
                mismatches.append(f"{name}: items")
            if not ((decoded.scores >= 0) & (decoded.scores <= 1)).all():
                mismatches.append(f"{name}: scores")
    assert not mismatches
