"""The long-form layer against a simulated Qwen3 engine with the real model's failure modes.

The simulation (``benchmarks/simulated_qwen3.py``) knows every word's true
times; it piles units missing from a window onto its last frames, puts units
from before the window at 0, collapses or misorders a few slots and is unsure
where text and audio disagree. Ten-minute recordings here; the two-hour runs
are the benchmark's (README, "Long audio").
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

import simulated_qwen3 as sim  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("defect", [None, *sim.DEFECTS])
def test_every_defect_keeps_the_rest_exact(defect):
    rec = sim.build(10.0, defect)
    result, row = sim.run(rec)
    # Stitched windows are as exact as one window of the engine.
    assert row["stitched_error_ms"] <= row["single_window_error_ms"] + 10
    # No unit spoken where the text says is left unaligned (a collapsed or out-of-order
    # slot, or a word next to text nobody speaks, gets a second look at the gap's edge).
    assert row["matched_unaligned"] == 0
    if rec.unspoken:  # inserted text is flagged, and a stretch names it
        assert row["inserted_flagged"] >= 0.9
        first = min(rec.unspoken)
        assert any(st.unit_start <= first < st.unit_end for st in result.stretches)
    if defect is None:
        assert result.stretches == ()
    # Outputs are valid: every unit present, in order, inside the audio.
    assert len(result.units) == len(rec.truth)
    assert all(0 <= u.start <= u.end <= result.duration for u in result.units)


@pytest.mark.slow
@pytest.mark.parametrize("defect", ["deleted", "noise30", "intro18"])
def test_speech_not_in_the_text_is_named(defect):
    rec = sim.build(10.0, defect)
    result, _ = sim.run(rec)
    assert any(st.reason == "speech not in transcript" for st in result.stretches)


def test_same_input_same_output():
    rec = sim.build(3.0, "unspoken_middle")
    first, _ = sim.run(rec)
    second, _ = sim.run(rec)
    assert first == second


def test_a_window_that_agrees_on_nothing_is_searched_past():
    rec = sim.build(3.0, None)
    # Every unit unspoken: nothing can be placed, the search gives up window by window.
    rec.truth = [None] * len(rec.truth)
    result, _ = sim.run(rec)
    assert all(u.status == "unaligned" for u in result.units)
    assert result.stretches and result.stretches[0].reason in ("text not heard", "not matched")
