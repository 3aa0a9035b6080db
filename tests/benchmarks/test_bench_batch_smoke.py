"""benchmarks/bench_batch.py and its helpers (counted_cli.py, speech_corpus.py) on the tiny sizes.

Keeps the 200-file benchmark from rotting, and checks what its numbers rest on: the
window counts are real counts (the random model's own placements make every file
probe for recovery, agreeing ones none), agreeing placements decode to ordered,
confident times, and the one-by-one subset is fixed by the seed.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
BENCH = BENCHMARKS / "bench_batch.py"


@pytest.fixture(scope="module")
def mods():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield {n: importlib.import_module(n) for n in ("bench_batch", "counted_cli")}
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_default_size_is_the_issues_200_files(mods) -> None:
    args = mods["bench_batch"].parse_args([])
    assert args.files == 200 and args.placements == "agree"
    # a dataset builder's utterances: espeak speaks ~0.7 of the target, so ~2 to ~20 s
    assert min(args.seconds) >= 3 and max(args.seconds) <= 30


def test_one_by_one_subset_is_fixed_by_the_seed(mods) -> None:
    pick = mods["bench_batch"].one_by_one_subset
    wavs = [Path(f"spk000/utt{n:04d}.wav") for n in range(50)]
    a, b = pick(wavs, 7, seed=0), pick(wavs, 7, seed=0)
    assert a == b and len(set(a)) == 7 and a == sorted(a)
    assert a != wavs[:7]  # random, not the first files
    assert pick(wavs, 7, seed=1) != a
    assert pick(wavs, None, seed=0) == wavs


def test_agreeing_logits_decode_to_ordered_confident_times(mods) -> None:
    from qalign.aligner.longform.engine import Script, WindowJob
    from qalign.aligner.qwen3.decoding import DECODERS

    weights = (3.0, 1.0, 5.0, 2.0, 4.0)
    script = Script("English", tuple(range(len(weights))), weights)
    job = WindowJob(np.zeros(16000 * 6, dtype=np.float32), 1, 5, start=0.0)
    like = np.zeros((8, 5000), dtype=np.float32)
    logits = mods["counted_cli"].agreeing_logits(script, job, 5000, 80, like)
    assert logits.shape == (8, 5000)
    decoded = DECODERS["monotonic"](logits, 75, step_ms=80)
    starts, ends = np.asarray(decoded.start_s), np.asarray(decoded.end_s)
    assert (ends > starts).all() and (starts[1:] >= ends[:-1] - 1e-9).all()
    assert starts[0] >= 0.2 and ends[-1] <= 6.0
    # lengths follow the weights 1, 5, 2, 4 (to one 80 ms class)
    share = (ends - starts) / (ends - starts).sum()
    assert share == pytest.approx(np.array([1, 5, 2, 4]) / 12, abs=0.03)
    assert min(decoded.scores) > 0.9


def _counted(corpus: Path, out: Path, model: Path, agree: bool) -> dict:
    stats = out.with_suffix(".stats.json")
    cmd = [sys.executable, str(BENCHMARKS / "counted_cli.py"), str(stats)]
    cmd += ["--agree"] if agree else []
    cmd += ["--", "batch", str(corpus), "-o", str(out), "-f", "json", "-q"]
    cmd += ["--engine", "qwen3", "--model", str(model)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(stats.read_text())


@pytest.mark.slow
def test_counts_tell_recovery_from_one_batched_pass(tmp_path: Path, parity_dir: Path) -> None:
    pytest.importorskip("torch")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from speech_corpus import write_corpus
    finally:
        sys.path.remove(str(BENCHMARKS))
    model = parity_dir / "fa-tiny-hf"
    corpus = write_corpus(tmp_path / "c", 3, [4.0, 9.0], model)
    assert corpus.files == 3 and len(corpus.durations) == 3
    assert "3 WAV files of espeak-ng English speech" in corpus.describe()
    own = _counted(corpus.root, tmp_path / "own", model, agree=False)
    agreed = _counted(corpus.root, tmp_path / "agreed", model, agree=True)
    # random weights: every file's window disagrees and the recovery search probes
    assert own["windows"] == 3 and own["probes"] >= 3
    # agreeing placements: one window per file, all three in one engine pass, no probe
    assert agreed == {"windows": 3, "probes": 0, "passes": 1, "jobs_per_pass": [3]}
    report = (tmp_path / "agreed" / "alignment_report.csv").read_text()
    assert ",1.0,0.0,0.0," in report  # every word aligned


@pytest.mark.slow
def test_bench_batch_tiny(tmp_path: Path, shared_dir: Path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "b.json"
    cmd = [sys.executable, str(BENCH), "--tiny", "--files", "3", "--seconds", "3,5"]
    cmd += ["--one-by-one", "2", "--workdir", str(tmp_path / "w"), "--shared", str(shared_dir)]
    cmd += ["--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert (result["files"], result["one_by_one_files"], result["one_by_one_subset"]) == (
        3,
        2,
        True,
    )
    assert result["batch_one_window_no_probe"] and result["batch_windows"] == 3
    assert (result["batch_probes"], result["one_by_one_probes"]) == (0, 0)
    assert result["one_by_one_windows"] == 2
    assert result["batch_files_per_min"] > 0 and result["one_by_one_files_per_min"] > 0
    ratio = result["batch_audio_s_per_s"] / result["one_by_one_audio_s_per_s"]
    assert result["speedup"] == pytest.approx(ratio, rel=0.02)
    assert f"batch / one by one: {result['speedup']}x" in done.stdout
    assert "corpus: 3 WAV files of espeak-ng English speech" in done.stdout
    assert "random subset of 2" in done.stdout
