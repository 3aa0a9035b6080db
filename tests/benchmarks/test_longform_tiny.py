"""Long audio end to end through the tiny random Qwen3 checkpoint, at reduced scale.

benchmarks/longform_tiny.py runs 10 and 40 minutes (issue 8); here 2 and 6 minutes of
synthetic speech go through ``qalign align --engine qwen3`` in child processes: every
unit written once and in order, times monotonic and inside the audio, statuses valid,
and the peak RSS of the longer run within 1.3x of the shorter one's.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("torch")
    sys.path.insert(0, str(BENCH))
    try:
        import longform_tiny
        import synth

        try:
            synth.synthesize("Check.")
        except synth.EspeakUnavailable as exc:
            pytest.skip(f"espeak-ng is needed for the synthetic speech: {exc}")
        yield longform_tiny
    finally:
        sys.path.remove(str(BENCH))


def test_the_checker_finds_missing_units_and_times_outside(tiny):
    from qalign.alignment import Alignment, Unit

    units = (Unit("One", "One", 0.0, 0.5, 0.9, 0, 3), Unit("two.", "two", 0.6, 1.0, 0.9, 4, 8))
    good = Alignment(units, duration=2.0)
    assert tiny.problems(good, "One two.", 2.0) == []
    assert tiny.problems(good, "One two. Three.", 2.0)  # a unit of the text is missing
    assert tiny.problems(good, "One two.", 0.8)  # past the end of the audio
    shifted = replace(good, units=(units[0], replace(units[1], char_start=3)))
    assert tiny.problems(shifted, "One two.", 2.0)  # not the transcript's units


@pytest.mark.slow
def test_two_and_six_minutes_end_to_end(tiny, parity_dir: Path, tmp_path: Path):
    short = tiny.run(2, parity_dir / "fa-tiny", tmp_path)
    long = tiny.run(6, parity_dir / "fa-tiny", tmp_path)
    for row in (short, long):
        # Random weights agree with nothing: exit 1 (nothing aligned) or 0, never a crash.
        assert row["rc"] in (0, 1), row
        assert row["problems"] == [], row
        assert row["units"] == sum(row["statuses"].values()) > 100
    assert long["audio_s"] > 2.5 * short["audio_s"]
    assert long["peak_rss_mb"] <= 1.3 * short["peak_rss_mb"], (short, long)
