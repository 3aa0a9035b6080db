"""Smoke test of benchmarks/bench_batch.py on the tiny sizes: both runs complete and the
same-run ratio is printed (keeps the 200-file benchmark from rotting)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_batch.py"


def test_default_size_is_the_issues_200_files() -> None:
    sys.path.insert(0, str(BENCH.parent))
    try:
        import bench_batch
    finally:
        sys.path.remove(str(BENCH.parent))
    assert bench_batch.parse_args([]).files == 200


@pytest.mark.slow
def test_bench_batch_tiny(tmp_path: Path, shared_dir: Path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "b.json"
    cmd = [sys.executable, str(BENCH), "--tiny", "--files", "2", "--seconds", "3"]
    cmd += ["--one-by-one", "1", "--workdir", str(tmp_path / "w"), "--shared", str(shared_dir)]
    cmd += ["--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert (result["files"], result["one_by_one_files"]) == (2, 1)
    assert result["batch_files_per_min"] > 0 and result["one_by_one_files_per_min"] > 0
    ratio = result["batch_audio_s_per_s"] / result["one_by_one_audio_s_per_s"]
    assert result["speedup"] == pytest.approx(ratio, rel=0.02)
    assert f"batch / one by one: {result['speedup']}x" in done.stdout
