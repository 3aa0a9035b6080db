"""``qalign evaluate`` on two 60-minute alignments: wall time and peak RSS.

Builds a reference of ``--minutes`` of speech at 2.7 words per second (about 9,700
words for an hour, a vocabulary with a natural mix of frequent and rare words) as a
TextGrid, and a hypothesis as JSON: every boundary moved by up to +-``--jitter-ms``,
with 1 % of words deleted, 1 % substituted and 1 % fillers inserted. Then runs
``qalign evaluate HYP REF --format json`` in a fresh process and reports its wall
time, peak RSS (the whole process: Python, click, praatio, the files) and the
numbers it printed. The targets (issue 9): under 10 s and 500 MB.

    python benchmarks/bench_evaluate.py               # two 60-minute alignments
    python benchmarks/bench_evaluate.py --minutes 5   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qalign import formats
from qalign.alignment import Alignment, Unit

WORDS_PER_SECOND = 2.7


def make_pair(minutes: float, jitter_ms: float, seed: int) -> tuple[Alignment, Alignment]:
    """(hypothesis, reference) alignments of ``minutes`` of speech."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * WORDS_PER_SECOND)
    # Zipf-like vocabulary: a few very frequent words, many rare ones.
    ranks = np.minimum(rng.zipf(1.3, size=n), 20000)
    words = [f"w{r}" for r in ranks]
    step = 1.0 / WORDS_PER_SECOND
    ref_units = [Unit(w, w, i * step, i * step + 0.8 * step) for i, w in enumerate(words)]
    duration = n * step + 1.0
    hyp_units: list[Unit] = []
    jitter = jitter_ms / 1000.0
    for unit in ref_units:
        r = rng.random()
        if r < 0.01:
            continue  # deleted
        text = f"x{int(rng.integers(1_000_000))}" if r < 0.02 else unit.text
        floor = hyp_units[-1].end if hyp_units else 0.0
        start = max(unit.start + rng.uniform(-jitter, jitter), floor)
        end = max(unit.end + rng.uniform(-jitter, jitter), start)
        hyp_units.append(Unit(text, text, start, end))
        if r < 0.03 and r >= 0.02:
            hyp_units.append(Unit("um", "um", end, end + 0.05))  # an inserted filler
    return (
        Alignment(tuple(hyp_units), duration=duration),
        Alignment(tuple(ref_units), duration=duration),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--jitter-ms", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qalign-bench-evaluate"
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    hyp, ref = make_pair(args.minutes, args.jitter_ms, args.seed)
    hyp_path, ref_path = args.workdir / "hyp.json", args.workdir / "ref.TextGrid"
    formats.save(hyp, hyp_path)
    formats.save(ref, ref_path)
    cmd = [sys.executable, "-m", "qalign.cli", "evaluate", str(hyp_path), str(ref_path)]
    started = time.perf_counter()
    done = subprocess.run([*cmd, "--format", "json"], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "minutes": args.minutes,
        "hyp_words": len(hyp.units),
        "ref_words": len(ref.units),
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "targets": "under 10 s and 500 MB",
        "met": wall < 10 and peak_mb < 500,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "words": json.loads(done.stdout)["words"],
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
