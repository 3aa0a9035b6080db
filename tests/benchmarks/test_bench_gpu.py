"""benchmarks/bench_gpu.py and gpu_worker.py: the CPU smoke run on the tiny sizes, and the table.

The smoke run builds the tiny checkpoints, times our aligner and transcriber at
batches 1 and 2 on a 5 s clip, and checks what the workers report: every row,
the ASR token budget spent exactly, every transcript word aligned. A job that
cannot run (its Python missing, its model folder missing) is an error entry,
and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
SECONDS = 5


@pytest.fixture(scope="module")
def bench_gpu():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_gpu

        yield bench_gpu
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def smoke(bench_gpu, parity_dir: Path, tmp_path_factory) -> dict:
    """One run: a job whose Python is missing first, then ours on both tasks."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    tmp = tmp_path_factory.mktemp("bench_gpu")
    out, md = tmp / "gpu.json", tmp / "gpu.md"
    argv = [
        "--tiny", "--device", "cpu", "--batches", "1,2", "--seconds", str(SECONDS),
        "--jobs", "align/official,align/ours,asr/ours", "--workdir", str(tmp / "work"),
        "--official-python", str(tmp / "no-such-python"), "--out", str(out), "--markdown", str(md),
    ]  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QALIGN_SHARED", str(parity_dir.parent))
        bench_gpu.main(argv)
    report = json.loads(out.read_text(encoding="utf-8"))
    text = (tmp / "work" / "inputs" / f"clip_{SECONDS}s.txt").read_text(encoding="utf-8")
    return {
        "report": report,
        "markdown": md.read_text(encoding="utf-8"),
        "words": len(text.split()),
    }


def _result(smoke: dict, task: str, engine: str) -> dict:
    (found,) = [r for r in smoke["report"]["results"] if (r["task"], r["engine"]) == (task, engine)]
    return found


@pytest.mark.slow
def test_smoke_reports_every_row(smoke) -> None:
    assert smoke["report"]["limits"] == {}  # no device figures on the CPU
    assert [(r["task"], r["engine"]) for r in smoke["report"]["results"]] == [
        ("align", "official"),
        ("align", "ours"),
        ("asr", "ours"),
    ]
    for task in ("align", "asr"):
        result = _result(smoke, task, "ours")
        assert "error" not in result
        assert result["seconds"] == SECONDS
        assert [row["batch"] for row in result["rows"]] == [1, 2]
        for row in result["rows"]:
            assert len(row["times_s"]) == 2 and row["best_s"] == min(row["times_s"]) > 0
            assert row["audio_s_per_s"] > 0
            assert row["audio_s_per_s"] == pytest.approx(
                row["batch"] * SECONDS / row["best_s"], rel=0.01, abs=0.1
            )
            assert row["gpu_peak_gb"] is None


@pytest.mark.slow
def test_smoke_asr_spends_the_token_budget(smoke) -> None:
    result = _result(smoke, "asr", "ours")
    budget = math.ceil(4 * SECONDS)
    assert result["tokens_per_item"] == budget == 20
    assert [row["items_out"] for row in result["rows"]] == [budget, budget]


@pytest.mark.slow
def test_smoke_aligns_every_transcript_word(smoke) -> None:
    result = _result(smoke, "align", "ours")
    assert smoke["words"] > 1
    assert result["words_per_item"] == smoke["words"]
    assert [row["items_out"] for row in result["rows"]] == [smoke["words"]] * 2


@pytest.mark.slow
def test_smoke_reports_a_job_that_cannot_start_and_goes_on(smoke) -> None:
    failed = _result(smoke, "align", "official")
    assert "rows" not in failed
    assert "no-such-python" in failed["error"]
    lines = smoke["markdown"].splitlines()
    assert any(line.startswith("align / official failed:") for line in lines)


@pytest.mark.slow
def test_smoke_markdown_has_one_row_per_task_and_batch(smoke) -> None:
    rows = [line for line in smoke["markdown"].splitlines() if line.startswith("| a")]
    assert [row.split("|")[1:3] for row in rows] == [
        [" align ", " 1 "],
        [" align ", " 2 "],
        [" asr ", " 1 "],
        [" asr ", " 2 "],
    ]
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 9
        assert float(cells[2]) > 0 and float(cells[4]) > 0  # ours: seconds and audio s/s
        assert cells[3] == cells[5] == cells[6] == ""  # no official figures, no ratio
        assert "None" not in cells


@pytest.mark.slow
def test_a_worker_whose_model_folder_is_missing_is_an_error_entry(
    bench_gpu, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    args = argparse.Namespace(
        official_python=sys.executable, official_path=[], seconds=1.0, batches=[1], repeat=1,
        tokens_per_second=4.0, device="cpu", job_timeout=120.0,
    )  # fmt: skip
    result = bench_gpu.run_job(args, "asr", "ours", tmp_path / "missing", tmp_path)
    assert result["task"] == "asr" and result["engine"] == "ours"
    assert "rows" not in result
    assert result["error"].startswith("exit ") and not result["error"].startswith("exit 0")
    assert "missing" in result["error"]


@pytest.mark.parametrize(
    ("current", "want"),
    [(None, ["/a", "/b"]), ("", ["/a", "/b"]), ("/c", ["/a", "/b", "/c"])],
)
def test_the_official_worker_gets_no_empty_pythonpath_entry(
    bench_gpu, tmp_path: Path, monkeypatch, current, want
) -> None:
    """An empty entry would put the current directory on the official worker's ``sys.path``."""
    import subprocess

    seen = {}

    def fake_run(command, **kwargs):
        seen.update(kwargs["env"])
        return subprocess.CompletedProcess(command, 0, 'RESULT {"rows": []}\n', "")

    if current is None:
        monkeypatch.delenv("PYTHONPATH", raising=False)
    else:
        monkeypatch.setenv("PYTHONPATH", current)
    monkeypatch.setattr(bench_gpu.subprocess, "run", fake_run)
    args = argparse.Namespace(
        official_python=sys.executable, official_path=["/a", "/b"], seconds=1.0, batches=[1],
        repeat=1, tokens_per_second=4.0, device="cpu", job_timeout=1.0,
    )  # fmt: skip
    assert bench_gpu.run_job(args, "align", "official", tmp_path, tmp_path)["rows"] == []
    assert seen["PYTHONPATH"].split(os.pathsep) == want


def _rows(ours: dict[int, float], official: dict[int, float]) -> list[dict]:
    def side(engine: str, times: dict[int, float]) -> dict:
        rows = [
            {"batch": b, "best_s": t, "audio_s_per_s": round(60 * b / t, 1), "gpu_peak_gb": 1.5}
            for b, t in times.items()
        ]
        return {"task": "align", "engine": engine, "rows": rows}

    return [side("ours", ours), side("official", official)]


def test_table_puts_the_official_time_over_ours_in_the_speed_up(bench_gpu) -> None:
    limits = {"device": "Some GPU", "torch": "2.x", "bf16_tflop_s": 700.0, "copy_gb_s": 4000.0}
    results = _rows({1: 0.5, 8: 2.0}, {1: 1.0, 8: 3.0, 16: 4.0})
    results.append({"task": "asr", "engine": "official", "error": "exit 1: boom"})
    lines = bench_gpu.table(results, limits).splitlines()
    assert lines[0].startswith("Some GPU, torch 2.x:") and "700.0 TFLOP/s" in lines[0]
    rows = {
        int(cells[1]): cells
        for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)
        if len(cells) == 9 and cells[0] == "align"
    }
    assert sorted(rows) == [1, 8, 16]
    assert rows[1][2:7] == ["0.5", "1.0", "120.0", "60.0", "2.00x"]
    assert rows[8][6] == "1.50x"
    assert rows[16][2] == "" and rows[16][3] == "4.0" and rows[16][6] == ""  # official only
    assert not any(line.startswith("| asr") for line in lines)
    assert "asr / official failed: exit 1: boom" in lines
