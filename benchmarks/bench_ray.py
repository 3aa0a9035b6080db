"""Corpus throughput with the Ray executor: 1 and 2 workers on one machine, against the local executor.

Nothing is downloaded: the Qwen3-ForcedAligner-0.6B-size checkpoint with random
weights is ``aligner_checkpoint.py``'s and the corpus ``speech_corpus.py``'s (espeak-ng
speech with ``.lab`` transcripts in speaker folders), as in ``bench_batch.py``.

Measured, each run a fresh ``qalign batch`` process into an empty output folder, wall
time including start-up (Ray's and every model load), all in bf16:

* ``local, 1 thread`` and ``local, N threads`` (``--local-threads``): the local executor
  (one model, torch threads fixed by ``OMP_NUM_THREADS``);
* ``ray, W worker(s)``: ``--executor ray --workers W --cpus-per-worker 1``, a Ray instance
  started on this machine (loopback) by the run itself: W models, one thread each.

Printed: files per minute, audio seconds per wall second, and the speed of 2 workers over
1 worker. On a 2-core machine 2 one-thread workers compete with each other (and with
anything else running) for the same two cores: compare them with the local executor at
2 threads, not only with 1 worker.

Reduced run (5 minutes on a quiet 2-core machine; 20 on a shared one, where the
local two-thread run is the slowest)::

    python benchmarks/bench_ray.py --files 16 --seconds 4,7,10

Smoke run with the tiny checkpoint: ``--tiny --files 6``.
"""

from __future__ import annotations

import argparse
import json
import os
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
from speech_corpus import write_corpus  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


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
    parser.add_argument("--files", type=int, default=48)
    parser.add_argument("--seconds", default="4,7,10,13,16", help="file lengths, cycled")
    parser.add_argument("--workers", default="1,2", help="Ray worker counts to measure, in order")
    parser.add_argument(
        "--local-threads",
        default=None,
        help="thread counts of the local executor runs (default: 1 and all cores; '' for none)",
    )
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    args.workdir = args.workdir.expanduser().resolve()
    if args.workdir == REPO or REPO in args.workdir.parents:
        parser.error("--workdir is inside the repository; choose a folder outside it")
    args.seconds = [float(x) for x in args.seconds.split(",") if x.strip()]
    args.workers = [int(x) for x in args.workers.split(",") if x.strip()]
    if args.local_threads is None:
        args.local_threads = sorted({1, available_cores()})
    else:
        args.local_threads = [int(x) for x in args.local_threads.split(",") if x.strip()]
    if args.files < 1 or not args.seconds or not args.workers:
        parser.error("--files must be positive, --seconds and --workers non-empty")
    return args


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = TINY_SIZES if args.tiny else REAL_SIZES
    model = build_checkpoints(
        args.workdir, sizes, templates=find_templates(args.shared), seed=args.seed
    ).native
    work = args.workdir / "ray-bench"
    corpus, out = work / "corpus", work / "out"
    made = write_corpus(corpus, args.files, args.seconds, model, args.seed)
    audio = made.audio_seconds
    print(f"corpus: {made.describe()}", flush=True)
    base = [sys.executable, "-m", "qalign.cli", "batch", str(corpus), "-o", str(out), "-q"]
    base += ["-f", "json", "--engine", "qwen3", "--model", str(model), "--dtype", args.dtype]
    cores = available_cores()
    runs: list[tuple[str, list[str], dict[str, str]]] = [
        (f"local, {n} thread{'s' if n > 1 else ''}", [], worker_env(n)) for n in args.local_threads
    ]
    for n in args.workers:
        env = {**worker_env(1), "RAY_USAGE_STATS_ENABLED": "0"}
        env.pop("RAY_ADDRESS", None)
        extra = ["--executor", "ray", "--workers", str(n), "--cpus-per-worker", "1"]
        runs.append((f"ray, {n} worker(s)", extra, env))
    load_before = os.getloadavg()
    rows = []
    for name, extra, env in runs:
        if out.exists():
            shutil.rmtree(out)
        wall = timed([*base, *extra], env)
        rows.append(
            {
                "run": name,
                "wall_s": round(wall, 2),
                "files_per_min": round(args.files / wall * 60, 2),
                "audio_s_per_s": round(audio / wall, 3),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    by_name = {r["run"]: r for r in rows}
    one, two = by_name.get("ray, 1 worker(s)"), by_name.get("ray, 2 worker(s)")
    result = {
        "model": "tiny" if args.tiny else "real size (918 M parameters), random weights",
        "dtype": args.dtype,
        "files": args.files,
        "audio_s": round(audio, 1),
        "corpus": made.describe(),
        "cores": cores,
        "runs": rows,
        "ray_2_over_1": round(two["files_per_min"] / one["files_per_min"], 2)
        if one and two
        else None,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))
    print(
        "\n| run | files | audio s | wall s | files/min | audio s/s |\n|---|---:|---:|---:|---:|---:|"
    )
    for r in rows:
        print(
            f"| {r['run']} | {args.files} | {audio:.0f} | {r['wall_s']} | "
            f"{r['files_per_min']} | {r['audio_s_per_s']} |"
        )
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
