"""Smoke test of benchmarks/bench_longform_speed.py on the tiny sizes: it keeps the
benchmark from rotting and checks that it reports what the issue asks (audio seconds
per second in-process, the same-run limit and the ratio, recovery passes apart)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow
def test_one_minute_at_tiny_sizes_reports_speed_limit_and_recovery_apart(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module("bench_longform_speed")
    out = tmp_path / "speed.json"
    bench.main(["--tiny", "--minutes", "1", "--workdir", str(tmp_path / "ckpt"), "--out", str(out)])
    figures = json.loads(out.read_text())
    assert figures["window_seconds"] == 45.0  # the Qwen3 engine's own choice
    assert figures["walk_passes"] >= 1 and figures["walk_audio_s"] >= figures["audio_s"]
    assert figures["in_process_audio_s_per_s"] > 0 and figures["limit_gflops"] > 0
    assert 0 < figures["ratio"]
    assert {
        "recovery_passes",
        "recovery_model_s",
        "in_process_minus_recovery_audio_s_per_s",
    } <= set(figures)
    # Every word of matching text comes out placed.
    assert figures["aligned_units"] == figures["units"] > 0
    # Words are fed at the real tokenizer's 1.9 tokens: 2 slots each, plus audio.
    per_unit = (figures["walk_mean_tokens"] - figures["walk_mean_audio_tokens"]) / figures[
        "walk_mean_units"
    ]
    assert 3.4 < per_unit < 4.4
    sys.modules.pop("bench_longform_speed", None)
