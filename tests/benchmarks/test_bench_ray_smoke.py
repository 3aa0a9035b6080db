"""Smoke test of benchmarks/bench_ray.py on the tiny sizes: every run completes and the
printed table has a row per run (keeps the benchmark from rotting)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_ray.py"


@pytest.mark.slow
def test_bench_ray_tiny(tmp_path: Path, shared_dir: Path) -> None:
    pytest.importorskip("ray", reason='Ray is not installed (pip install "qalign[ray]")')
    out = tmp_path / "r.json"
    cmd = [sys.executable, str(BENCH), "--tiny", "--files", "3", "--seconds", "2", "--workers", "1"]
    cmd += ["--workdir", str(tmp_path / "w"), "--shared", str(shared_dir), "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert [r["run"] for r in result["runs"]][2:] == ["ray, 1 worker(s)"]
    assert all(r["files_per_min"] > 0 for r in result["runs"])
    assert "| ray, 1 worker(s) | 3 |" in done.stdout
