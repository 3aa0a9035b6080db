"""qalign against the official ``qwen-asr`` package on a GPU: aligner and ASR, bf16, by batch size.

Both tasks use real-size checkpoints with random bf16 weights (nothing is
downloaded), the same tensors in both layouts: qalign loads ``native/``, the
official package ``original/``. Each engine runs in its own process
(``gpu_worker.py``), loads once and is timed at every batch size on the same
clip repeated (60 s by default):

* ``align``: Qwen3-ForcedAligner-0.6B size, a noise clip with an English-like
  transcript of realistic length (``aligner_inputs.py``: 2.7 words a second);
* ``asr``: Qwen3-ASR-0.6B size, a noise clip, exactly ``--tokens-per-second``
  answer tokens per second of audio from both engines (checked).

The device's own limits are measured in the same run and printed beside the
figures: bf16 matrix products (8192 x 8192 x 8192) and a device-to-device copy.

Checkpoints come from the builders (``aligner_checkpoint.py``, ``asr_checkpoint.py``,
which need transformers with Qwen3-ASR) or, with ``--skeleton DIR``, from
weight-less copies refilled with random weights on the spot
(``checkpoint_skeleton.py``: ``DIR/aligner`` and ``DIR/asr``), for a machine
without the network. The official package runs under ``--official-python``
(default: this Python), with ``--official-path`` folders put first on its
``PYTHONPATH`` (for a package installed with ``pip --target``)::

    python benchmarks/bench_gpu.py --official-python /path/to/qwen-asr-env/bin/python \\
        --out gpu.json --markdown gpu.md

Smoke run on the CPU with the tiny sizes (a minute)::

    python benchmarks/bench_gpu.py --tiny --device cpu --batches 1,2 --seconds 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

HERE = Path(__file__).resolve().parent
JOBS = (("align", "ours"), ("align", "official"), ("asr", "ours"), ("asr", "official"))


def device_limits(device: str) -> dict:
    """bf16 TFLOP/s of an 8192-cube product and copy GB/s (read + written), best of 10 each."""
    import torch

    if not device.startswith("cuda"):
        return {}
    n = 8192
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    src = torch.empty(2 * 1024**3, device=device, dtype=torch.uint8)
    dst = torch.empty_like(src)

    def best(fn) -> float:
        for _ in range(3):
            fn()
        times = []
        for _ in range(10):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        return min(times)

    mm = best(lambda: a @ b)
    copy = best(lambda: dst.copy_(src))
    return {
        "device": torch.cuda.get_device_name(device),
        "bf16_tflop_s": round(2 * n**3 / mm / 1e12, 1),
        "copy_gb_s": round(2 * 2 * 1024**3 / copy / 1e9, 1),
        "torch": torch.__version__,
    }


def checkpoints(args: argparse.Namespace) -> dict[str, Path]:
    """``{"align": folder, "asr": folder}``, each holding ``native/`` and ``original/``."""
    if args.skeleton:
        from checkpoint_skeleton import refill

        out = {}
        for task, name in (("align", "aligner"), ("asr", "asr")):
            folder = Path(args.skeleton) / name
            start = time.perf_counter()
            count = refill(folder)
            print(f"{name}: {count:,} random parameters in {time.perf_counter() - start:.1f} s")
            out[task] = folder
        return out
    from aligner_checkpoint import REAL_SIZES, TINY_SIZES, build_checkpoints
    from asr_checkpoint import build, templates
    from bench_asr import REAL_AUDIO, REAL_TEXT

    aligner = build_checkpoints(args.workdir, TINY_SIZES if args.tiny else REAL_SIZES)
    if args.tiny:
        raw = json.loads((templates()[0] / "config.json").read_text(encoding="utf-8"))
        audio = {k: raw["audio_config"][k] for k in REAL_AUDIO}
        text = {k: raw["text_config"][k] for k in REAL_TEXT if k != "tie_word_embeddings"}
    else:
        audio, text = REAL_AUDIO, REAL_TEXT
    native, _ = build(args.workdir, audio, text)
    return {"align": aligner.native.parent, "asr": native.parent}


def run_job(args: argparse.Namespace, task: str, engine: str, folder: Path, inputs: Path) -> dict:
    """One worker process; its RESULT, or ``{"error": ...}`` with the end of its output."""
    layout = "native" if engine == "ours" else "original"
    python = args.official_python if engine == "official" else sys.executable
    env = dict(os.environ)
    if engine == "official" and args.official_path:
        parts = [*args.official_path, *env.get("PYTHONPATH", "").split(os.pathsep)]
        # an empty entry would put the current directory on the worker's sys.path
        env["PYTHONPATH"] = os.pathsep.join(p for p in parts if p)
    command = [
        python, str(HERE / "gpu_worker.py"), "--task", task, "--engine", engine,
        "--model", str(folder / layout), "--inputs", str(inputs), "--seconds", str(args.seconds),
        "--batches", ",".join(map(str, args.batches)), "--repeat", str(args.repeat),
        "--tokens-per-second", str(args.tokens_per_second), "--device", args.device,
    ]  # fmt: skip
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=args.job_timeout
        )
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stdout or b"")[-1500:]
        tail = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
        return {"task": task, "engine": engine, "error": f"timed out; {tail}"}
    except OSError as exc:  # the Python itself is missing or cannot run
        return {"task": task, "engine": engine, "error": f"could not start {python}: {exc}"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        tail = (done.stdout + done.stderr)[-3000:]
        return {"task": task, "engine": engine, "error": f"exit {done.returncode}: {tail}"}
    result = json.loads(lines[-1][len("RESULT ") :])
    result["wall_s"] = round(time.perf_counter() - start, 1)
    return result


def table(results: list[dict], limits: dict) -> str:
    """Markdown: one row per task and batch, qalign beside the official package."""
    by = {(r["task"], r["engine"]): r for r in results if "rows" in r}
    lines = []
    if limits:
        lines.append(
            f"{limits['device']}, torch {limits['torch']}: bf16 products "
            f"{limits['bf16_tflop_s']} TFLOP/s, copy {limits['copy_gb_s']} GB/s (same run)."
        )
        lines.append("")
    lines += [
        "| task | batch | qalign s | official s | qalign audio s/s | official audio s/s "
        "| speed-up | qalign GPU GB | official GPU GB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task in ("align", "asr"):
        ours = {r["batch"]: r for r in by.get((task, "ours"), {}).get("rows", [])}
        official = {r["batch"]: r for r in by.get((task, "official"), {}).get("rows", [])}
        for batch in sorted(set(ours) | set(official)):
            a, b = ours.get(batch, {}), official.get(batch, {})
            ratio = f"{b['best_s'] / a['best_s']:.2f}x" if a and b else ""
            cells = (a.get("best_s"), b.get("best_s"), a.get("audio_s_per_s"))
            cells += (b.get("audio_s_per_s"), ratio, a.get("gpu_peak_gb"), b.get("gpu_peak_gb"))
            text = " | ".join("" if c is None else str(c) for c in cells)  # no GPU: blank
            lines.append(f"| {task} | {batch} | {text} |")
    for r in results:
        if "error" in r:
            lines.append(f"\n{r['task']} / {r['engine']} failed: {r['error'][-400:]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default=os.path.join(os.sep, "tmp", "qalign-bench-gpu"))
    parser.add_argument("--skeleton", help="folder with aligner/ and asr/ checkpoint skeletons")
    parser.add_argument("--official-python", default=sys.executable)
    parser.add_argument("--official-path", action="append", default=[])
    parser.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 16, 32])  # fmt: skip
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tokens-per-second", type=float, default=4.0)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--jobs", default=",".join(f"{t}/{e}" for t, e in JOBS))
    parser.add_argument("--job-timeout", type=float, default=240.0, help="seconds per worker")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (a CPU smoke run)")
    parser.add_argument("--out", type=Path, help="JSON results")
    parser.add_argument("--markdown", type=Path, help="the table as markdown")
    args = parser.parse_args(argv)

    from aligner_inputs import tokenizer_counter, write_inputs

    limits = device_limits(args.device)
    if args.device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    print(json.dumps(limits), flush=True)
    folders = checkpoints(args)
    inputs = Path(args.workdir) / "inputs"
    write_inputs(inputs, [args.seconds], tokenizer_counter(folders["align"] / "native"))
    results: list[dict] = []
    for job in args.jobs.split(","):
        task, engine = job.split("/")
        result = run_job(args, task, engine, folders[task], inputs)
        results.append(result)
        print(json.dumps(result), flush=True)
        report = {"limits": limits, "argv": sys.argv[1:], "results": results}
        if args.out:
            args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        if args.markdown:
            args.markdown.write_text(table(results, limits), encoding="utf-8")
    print(table(results, limits))


if __name__ == "__main__":
    main()
