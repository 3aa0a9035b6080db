"""Speed and memory of qalign's Qwen3 aligner against transformers and the official package, on CPU.

Nothing is downloaded: a Qwen3-ForcedAligner-0.6B-size model with random bf16
weights is built once from the tiny parity checkpoint's config (found through
``--shared``, ``QALIGN_SHARED`` or ``../shared`` beside the repository) and
cached under ``--workdir``, in both layouts (``aligner_checkpoint.py``). Inputs
are noise clips with English-like transcripts of realistic token counts
(``aligner_inputs.py``): 2.7 words and about 1.9 + 2 tokens per word per second.

Every measurement runs in a fresh process (``aligner_worker.py``): load, one
warm-up call on ``batch`` copies of a 5 s clip, then ``--repeat`` timed calls
on ``batch`` copies of the clip; the fastest call counts. Engines and variants:

* ``ours/<dtype>`` for each ``--dtypes``: ``Qwen3Aligner`` (native layout unless
  ``--ours-layout original``);
* ``transformers/<dtype>`` for each ``--transformers-dtypes`` (``default``: no
  dtype passed, the library's own choice): ``Qwen3ASRProcessor`` +
  ``Qwen3ASRForTokenClassification`` on the native layout;
* ``official/<dtype>`` for each ``--official-dtypes`` (``default`` and ``bf16``):
  ``qwen_asr.Qwen3ForcedAligner`` on the original layout, run by the Python of
  the package's own virtual env (``--official-python``; skipped without it).

Full run: 30 measurements, roughly 1.5 hours on an idle 2-core CPU and up to
about 3 hours when the cores are shared; the official package at its default
(float32) on 4 x 300 s is the longest and most memory-hungry point::

    python benchmarks/bench_aligner.py --official-python /path/to/qwen-asr-env/bin/python \\
        --out results.json --markdown results.md

Smoke run with the tiny sizes (about a minute)::

    python benchmarks/bench_aligner.py --tiny --clips 3 --batches 1,2 --baselines transformers

Printed at the end: one table row per measurement (audio seconds per wall
second, load seconds, peak RSS), qalign's speed over each baseline's for the
same clip and batch, the issue's targets, and the command that reproduces the
run. ``--out`` gets the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from aligner_checkpoint import REAL_SIZES, TINY_SIZES, build_checkpoints, find_templates  # noqa: E402
from aligner_inputs import tokenizer_counter, write_inputs  # noqa: E402
from aligner_report import (  # noqa: E402
    checks_table,
    ratios,
    ratios_table,
    results_table,
    target_checks,
)

REPO = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().with_name("aligner_worker.py")
WARMUP_CLIP_S = 5.0


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "qalign-bench-aligner",
        help="cache for checkpoints and inputs (never inside the repository)",
    )
    parser.add_argument("--shared", type=Path, default=None, help="shared folder with parity/")
    parser.add_argument("--tiny", action="store_true", help="tiny test sizes (smoke run)")
    parser.add_argument(
        "--clips", type=_floats, default=[30.0, 120.0, 300.0], help="seconds, comma-separated"
    )
    parser.add_argument("--batches", type=_ints, default=[1, 4])
    parser.add_argument("--dtypes", type=_names, default=["bf16", "fp32"], help="qalign's dtypes")
    parser.add_argument("--baselines", type=_names, default=["transformers", "official"])
    parser.add_argument("--transformers-dtypes", type=_names, default=["default"])
    parser.add_argument("--official-dtypes", type=_names, default=["default", "bf16"])
    parser.add_argument(
        "--official-python",
        default=None,
        help="python of the virtual env where qwen-asr is installed",
    )
    parser.add_argument("--ours-layout", choices=["native", "original"], default="native")
    parser.add_argument("--decoder", default="monotonic", help="qalign decoder")
    parser.add_argument("--threads", type=int, default=available_cores())
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per measurement")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default: workdir)")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args(argv)
    for name in ("dtypes", "transformers_dtypes", "official_dtypes"):
        bad = [d for d in getattr(args, name) if d not in ("default", "bf16", "fp32")]
        if bad:
            parser.error(
                f"--{name.replace('_', '-')}: unknown dtype {bad[0]!r} (default, bf16, fp32)"
            )
    bad = [b for b in args.baselines if b not in ("transformers", "official")]
    if bad:
        parser.error(f"--baselines: unknown baseline {bad[0]!r} (transformers, official)")
    workdir = args.workdir.expanduser().resolve()
    if workdir == REPO or REPO in workdir.parents:
        parser.error(f"--workdir {workdir} is inside the repository; choose a folder outside it")
    args.workdir = workdir
    if args.repeat < 1 or args.threads < 1 or not args.clips or not args.batches:
        parser.error("--repeat and --threads must be positive; --clips and --batches non-empty")
    return args


def plan(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``(engine, dtype)`` variants to measure, and notes on the ones skipped."""
    variants = [("ours", d) for d in args.dtypes]
    notes = []
    if "transformers" in args.baselines:
        variants += [("transformers", d) for d in args.transformers_dtypes]
    if "official" in args.baselines:
        if args.official_python:
            variants += [("official", d) for d in args.official_dtypes]
        else:
            notes.append(
                "official qwen-asr baseline skipped: pass --official-python "
                "(the python of a virtual env with qwen-asr installed)"
            )
    return variants, notes


def worker_env(threads: int) -> dict[str, str]:
    """The environment of a worker: thread counts fixed, offline, quiet."""
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TRANSFORMERS_VERBOSITY="error",
        PYTHONWARNINGS="ignore",
    )
    env.pop("PYTHONPATH", None)
    return env


def run_worker(
    python: str,
    engine: str,
    dtype: str,
    model: Path,
    inputs: Path,
    clip: float,
    batch: int,
    *,
    threads: int,
    repeat: int = 1,
    decoder: str = "monotonic",
    timeout: float | None = None,
    cwd: Path | None = None,
) -> dict:
    """Run one measurement in a fresh ``python`` process; a failure becomes a row with ``error``."""
    cmd = [
        python,
        str(WORKER),
        "--engine",
        engine,
        "--model",
        str(model),
        "--dtype",
        dtype,
        "--inputs",
        str(inputs),
        "--clip",
        f"{clip:g}",
        "--warmup-clip",
        f"{WARMUP_CLIP_S:g}",
        "--batch",
        str(batch),
        "--repeat",
        str(repeat),
        "--threads",
        str(threads),
        "--decoder",
        decoder,
    ]
    failed = {"engine": engine, "dtype_requested": dtype, "clip_s": clip, "batch": batch}
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=worker_env(threads),
            timeout=timeout,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {**failed, "error": f"timed out after {timeout:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    return {**failed, "error": f"exit {proc.returncode}: {tail}"}


def machine_info(threads: int) -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in (
            Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").splitlines()
        ):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": available_cores(),
        "threads": threads,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python benchmarks/bench_aligner.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    variants, notes = plan(args)
    sizes = TINY_SIZES if args.tiny else REAL_SIZES

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    start = time.perf_counter()
    templates = find_templates(args.shared)
    ckpt = build_checkpoints(args.workdir / "models", sizes, templates=templates, seed=args.seed)
    say(
        f"checkpoint: {ckpt.num_parameters / 1e6:.1f} M parameters, bf16, ready in "
        f"{time.perf_counter() - start:.0f} s ({ckpt.native.parent})"
    )
    inputs_dir = args.workdir / "inputs"
    clips = write_inputs(
        inputs_dir,
        sorted({WARMUP_CLIP_S, *args.clips}),
        tokenizer_counter(ckpt.native),
        seed=args.seed,
    )
    for sec in args.clips:
        c = clips[sec]
        say(
            f"clip {sec:g} s: {c.words} words, {c.text_tokens} text tokens, "
            f"{c.sequence_tokens} tokens in all"
        )
    for note in notes:
        say("note: " + note)

    rows = []
    total = len(args.clips) * len(args.batches) * len(variants)
    for clip in args.clips:
        for batch in args.batches:
            for engine, dtype in variants:
                python = args.official_python if engine == "official" else sys.executable
                model = (
                    ckpt.original
                    if engine == "official" or (engine == "ours" and args.ours_layout == "original")
                    else ckpt.native
                )
                row = run_worker(
                    python,
                    engine,
                    dtype,
                    model,
                    inputs_dir,
                    clip,
                    batch,
                    threads=args.threads,
                    repeat=args.repeat,
                    decoder=args.decoder,
                    timeout=args.timeout,
                    cwd=args.workdir,
                )
                row["sequence_tokens"] = clips[clip].sequence_tokens
                row["words_in"] = clips[clip].words
                rows.append(row)
                if "error" in row:
                    say(
                        f"[{len(rows)}/{total}] {engine}/{dtype} {clip:g} s x{batch}: {row['error']}"
                    )
                else:
                    say(
                        f"[{len(rows)}/{total}] {engine}/{dtype} ({row['dtype']}) {clip:g} s x{batch}: "
                        f"{row['audio_s_per_s']:.2f} audio s/s, load {row['load_s']:.1f} s, "
                        f"peak {row['peak_rss_gb']:.2f} GB"
                    )

    machine = machine_info(args.threads)
    checks = target_checks(rows)
    size_name = "tiny test sizes" if args.tiny else "Qwen3-ForcedAligner-0.6B sizes"
    report = "\n\n".join(
        [
            f"Random-weight model, {size_name} ({ckpt.num_parameters / 1e6:.0f} M parameters, bf16 on "
            f"disk); {machine['cpu']}, {machine['cores']} cores, {args.threads} threads; best of "
            f"{args.repeat} call(s) after a warm-up, each measurement in a fresh process.",
            results_table(rows),
            "Speed ratio, qalign over baseline (same clip and batch, same run):",
            ratios_table(ratios(rows)),
            "Targets:",
            checks_table(checks),
            *(f"Note: {n}" for n in notes),
            f"Reproduce: `{command}`",
        ]
    )
    print(report)
    out = args.out or args.workdir / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "command": command,
                "machine": machine,
                "sizes": asdict(sizes),
                "num_parameters": ckpt.num_parameters,
                "inputs": {
                    f"{s:g}": {
                        "words": c.words,
                        "text_tokens": c.text_tokens,
                        "sequence_tokens": c.sequence_tokens,
                    }
                    for s, c in clips.items()
                },
                "rows": rows,
                "ratios": [asdict(r) for r in ratios(rows)],
                "targets": [{"target": n, "met": m, "detail": d} for n, m, d in checks],
                "notes": notes,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    if args.markdown:
        args.markdown.write_text(report + "\n", encoding="utf-8")
    say(f"results: {out}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
