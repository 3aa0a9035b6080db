"""Corpus throughput: ``qalign batch`` (one model load) against ``qalign align`` file by file.

Nothing is downloaded: the Qwen3-ForcedAligner-0.6B-size checkpoint with random
weights is built (or reused) under ``--workdir`` by ``aligner_checkpoint.py``. The
corpus (``speech_corpus.py``) is a dataset builder's: ``--files`` utterances of
espeak-ng speech, a few seconds to about 20 s each (well inside one 30 s window),
with ``.lab`` transcripts in speaker folders.

Both commands run through ``counted_cli.py``, which counts the long-form layer's
windows, recovery probes and engine passes. With random weights the model places
no word credibly, so by itself every window "disagrees" and the recovery search
probes every file (several extra windows each): ``--placements agree`` (default)
keeps the real forward pass of every window and replaces only its output by
placements that agree with the transcript, as a trained model's do on clean
utterances; ``--placements model`` keeps the random model's own (recovery on
every file). The run checks, and prints, that with ``agree`` every file went
through one window, no probe ran, and the windows met the model in batched passes.

Measured in the same run, each in a fresh process with the same threads and dtype:

* ``batch``: ``qalign batch CORPUS -o OUT --engine qwen3 --model M -f json``;
* ``one by one``: ``qalign align WAV LAB -o OUT.json --engine qwen3 --model M``, a
  fresh process per file (import, model load), for every file or, with
  ``--one-by-one N``, a fixed random subset of N files (seeded): its rates are per
  file and per audio second, and the time for all files is extrapolated from them
  and labelled so.

Printed: the corpus, files per minute and audio seconds per wall second of each,
their ratio, the batch run's peak RSS and the load average. Full run (22 minutes on
a 2-core CPU: 4 for the batch, 18 for the 200 processes one by one)::

    python benchmarks/bench_batch.py --files 200

Smoke run with the tiny checkpoint: ``--tiny --files 6``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from aligner_checkpoint import REAL_SIZES, TINY_SIZES, build_checkpoints, find_templates  # noqa: E402
from bench_aligner import available_cores, worker_env  # noqa: E402
from speech_corpus import wav_seconds, write_corpus  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
COUNTED = Path(__file__).resolve().parent / "counted_cli.py"
#: Target lengths cycled through the corpus (espeak-ng speaks them in about 0.7 of that).
DATASET_SECONDS = "3,5,8,11,14,18,22,28"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "qalign-bench-aligner",
        help="checkpoint cache (shared with bench_aligner.py), outside the repository",
    )
    parser.add_argument("--shared", type=Path, default=None, help="shared folder with parity/")
    parser.add_argument("--tiny", action="store_true", help="the tiny test checkpoint (smoke run)")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument(
        "--seconds", default=DATASET_SECONDS, help="target file lengths, cycled (comma-separated)"
    )
    parser.add_argument(
        "--one-by-one",
        type=int,
        default=None,
        help="files aligned one by one: a fixed random subset of this many (default: all)",
    )
    parser.add_argument(
        "--placements",
        choices=("agree", "model"),
        default="agree",
        help="agree: placements agreeing with the transcript after the real forward pass; "
        "model: the random model's own (recovery search on every file)",
    )
    parser.add_argument(
        "--dtype", default="bfloat16", help="dtype for both runs (auto, float32, bfloat16)"
    )
    parser.add_argument("--threads", type=int, default=available_cores())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=None, help="also write the results as JSON here"
    )
    args = parser.parse_args(argv)
    args.workdir = args.workdir.expanduser().resolve()
    if args.workdir == REPO or REPO in args.workdir.parents:
        parser.error("--workdir is inside the repository; choose a folder outside it")
    args.seconds = [float(x) for x in args.seconds.split(",") if x.strip()]
    if args.files < 1 or not args.seconds:
        parser.error("--files must be positive and --seconds non-empty")
    if args.one_by_one is not None and not 1 <= args.one_by_one <= args.files:
        parser.error("--one-by-one must be between 1 and --files")
    return args


# With random weights the model may place no word of a file: `qalign align` then exits 2
# with this message after doing all the model work, where `qalign batch` writes the
# file with every word unaligned. Both count as completed runs here.
NOTHING_PLACED = "no part of the transcript could be aligned"


def run_counted(
    args: list[str], stats: Path, agree: bool, env: dict[str, str]
) -> tuple[float, bool, dict]:
    """Wall seconds of ``qalign ARGS`` (through ``counted_cli.py``), whether it ended
    with nothing placed, and its window counts."""
    cmd = [sys.executable, str(COUNTED), str(stats), *(["--agree"] if agree else []), "--", *args]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    nothing = done.returncode == 2 and NOTHING_PLACED in done.stderr
    if done.returncode not in (0, 1) and not nothing:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return elapsed, nothing, json.loads(stats.read_text(encoding="utf-8"))


def one_by_one_subset(wavs: list[Path], count: int | None, seed: int) -> list[Path]:
    """All ``wavs``, or a fixed random subset of ``count`` of them (in corpus order)."""
    if count is None or count >= len(wavs):
        return list(wavs)
    return sorted(random.Random(seed).sample(wavs, count))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = TINY_SIZES if args.tiny else REAL_SIZES
    checkpoints = build_checkpoints(
        args.workdir, sizes, templates=find_templates(args.shared), seed=args.seed
    )
    model = checkpoints.native
    work = args.workdir / "batch-bench"
    out = work / "out"
    corpus = write_corpus(work / "corpus", args.files, args.seconds, model, args.seed)
    print(f"corpus: {corpus.describe()}", flush=True)
    agree = args.placements == "agree"
    env = worker_env(args.threads)
    common = ["--engine", "qwen3", "--model", str(model), "--dtype", args.dtype, "-q"]
    if out.exists():
        shutil.rmtree(out)
    load_before = os.getloadavg()
    batch_s, _, batch_stats = run_counted(
        ["batch", str(corpus.root), "-o", str(out), "-f", "json", *common],
        work / "batch-stats.json",
        agree,
        env,
    )
    batch_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    print(
        f"batch: {args.files} files, {corpus.audio_seconds:.0f} s of audio in {batch_s:.1f} s",
        flush=True,
    )
    singles = one_by_one_subset(sorted(corpus.root.rglob("*.wav")), args.one_by_one, args.seed)
    single_dir = work / "single"
    if single_dir.exists():
        shutil.rmtree(single_dir)
    single_dir.mkdir(parents=True)
    single_s = single_audio = 0.0
    nothing_placed = 0
    single_stats = {"windows": 0, "probes": 0, "passes": 0}
    for wav in singles:
        target = single_dir / f"{wav.stem}.json"
        elapsed, nothing, stats = run_counted(
            ["align", str(wav), str(wav.with_suffix(".lab")), "-o", str(target), *common],
            single_dir / f"{wav.stem}.stats.json",
            agree,
            env,
        )
        single_s += elapsed
        nothing_placed += nothing
        single_audio += wav_seconds(wav)
        for key in single_stats:
            single_stats[key] += stats[key]
    passes = batch_stats["jobs_per_pass"]
    one_window = batch_stats["windows"] == args.files and batch_stats["probes"] == 0
    result = {
        "model": "tiny" if args.tiny else "real size (918 M parameters), random weights",
        "placements": args.placements,
        "corpus": corpus.describe(),
        "dtype": args.dtype,
        "threads": args.threads,
        "files": args.files,
        "audio_s": round(corpus.audio_seconds, 1),
        "batch_s": round(batch_s, 2),
        "batch_files_per_min": round(args.files / batch_s * 60, 2),
        "batch_audio_s_per_s": round(corpus.audio_seconds / batch_s, 3),
        "batch_peak_rss_gb": round(batch_rss, 2),
        "batch_windows": batch_stats["windows"],
        "batch_probes": batch_stats["probes"],
        "batch_passes": batch_stats["passes"],
        "batch_windows_per_pass": round(sum(passes) / max(1, len(passes)), 2),
        "batch_one_window_no_probe": one_window,
        "one_by_one_files": len(singles),
        "one_by_one_subset": len(singles) < args.files,
        "one_by_one_audio_s": round(single_audio, 1),
        "one_by_one_nothing_placed": nothing_placed,
        "one_by_one_windows": single_stats["windows"],
        "one_by_one_probes": single_stats["probes"],
        "one_by_one_s": round(single_s, 2),
        "one_by_one_files_per_min": round(len(singles) / single_s * 60, 2),
        "one_by_one_audio_s_per_s": round(single_audio / single_s, 3),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    result["one_by_one_all_files_s_extrapolated"] = round(
        corpus.audio_seconds / result["one_by_one_audio_s_per_s"], 1
    )
    result["speedup"] = round(result["batch_audio_s_per_s"] / result["one_by_one_audio_s_per_s"], 2)
    result["speedup_per_file"] = round(
        result["batch_files_per_min"] / result["one_by_one_files_per_min"], 2
    )
    print(json.dumps(result, indent=1))
    subset = (
        f" (random subset of {len(singles)}; for all {args.files}: "
        f"{result['one_by_one_all_files_s_extrapolated']:.0f} s, extrapolated per audio second)"
        if result["one_by_one_subset"]
        else ""
    )
    print(
        f"\ncorpus: {corpus.describe()}\nplacements: {args.placements}; batch: "
        f"{batch_stats['windows']} windows, {batch_stats['probes']} recovery probes, "
        f"{batch_stats['passes']} engine passes of {result['batch_windows_per_pass']} windows "
        f"on average\n"
        f"\n| run | files | audio s | wall s | files/min | audio s/s |\n|---|---:|---:|---:|---:|---:|\n"
        f"| qalign batch | {args.files} | {corpus.audio_seconds:.0f} | {batch_s:.1f} | "
        f"{result['batch_files_per_min']} | {result['batch_audio_s_per_s']} |\n"
        f"| qalign align, one by one{subset} | {len(singles)} | {single_audio:.0f} | "
        f"{single_s:.1f} | {result['one_by_one_files_per_min']} | "
        f"{result['one_by_one_audio_s_per_s']} |\n"
        f"\nbatch / one by one: {result['speedup']}x; batch peak RSS "
        f"{result['batch_peak_rss_gb']} GB; load average before {result['load_average_before']}, "
        f"after {result['load_average_after']}"
    )
    if agree and not one_window:
        print(
            "WARNING: with agreeing placements some file took more than one window or a "
            "recovery probe: the corpus is not what this benchmark means to measure",
            file=sys.stderr,
        )
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
