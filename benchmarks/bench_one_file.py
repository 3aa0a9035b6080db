"""The whole ``qalign align --engine qwen3`` process on one clip at real size, split by phase.

A fresh Python process runs the command line's own ``main`` on a clip (noise,
with a realistic transcript, ``aligner_inputs.py``) and the real-size random
bf16 checkpoint (``aligner_checkpoint.py``), and records where the time goes:

* ``startup``: the interpreter until this driver runs (measured by the parent,
  up to the moment the driver reports its phases);
* ``exit``: from that report until the process has ended, which it does as the
  ``qalign`` program does (``qalign.cli.main.end_process``: exit handlers, flushes,
  then the kernel releases the memory; no interpreter teardown);
* ``import torch`` and ``import qalign``: the modules the path imports, timed
  one after the other before the command runs (the rest of what the command
  imports, lazily, falls into ``load`` and the later phases);
* ``load``: :func:`qalign.checkpoint.load_model` (config, tokenizer, weights);
* ``first pass``: the first model pass (features, encoder, language model, head):
  the one pass a matching transcript needs for a clip of one window; its major page
  faults are printed too (pages read from disk: the checkpoint was not, or not all,
  in the page cache);
* ``recovery passes``: with random weights every window looks mismatched, so
  the long-form layer's recovery search probes forward; their passes are timed
  apart (they are the only part a matching transcript would not run);
* ``writing``: the output files;
* ``rest``: everything else in the command (speech map, decoding, stitching).

``one-pass process`` is the whole process minus the recovery passes: the time a
matching transcript would take.

qalign's own modules are byte-compiled first (``__pycache__``, as pip does when it
installs a package): a checkout installed in editable mode, run with
``PYTHONDONTWRITEBYTECODE`` set, would otherwise compile every module it imports
from source in every process (about 0.1 s of the run, measured). Run::

    python benchmarks/bench_one_file.py --seconds 30 --rounds 3
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
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _driver(args: argparse.Namespace, clip: Path, text: Path, model: Path, out: Path) -> dict:
    """Runs inside the fresh process: the timed command line."""
    t_start = time.perf_counter()
    phases: dict[str, float] = {}
    t = time.perf_counter()
    import torch

    phases["import torch"] = time.perf_counter() - t
    if args.threads:
        torch.set_num_threads(args.threads)
    t = time.perf_counter()
    import qalign.aligner.qwen3.model as qmodel
    import qalign.checkpoint as checkpoint
    from qalign.aligner.longform import recovery
    from qalign.cli import align as cli_align
    from qalign.cli.main import main as cli_main

    phases["import qalign"] = time.perf_counter() - t
    passes: list[tuple[bool, float]] = []
    state = {"recovery": False}

    def timed(fn, name):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    def flagged(fn):
        def wrapper(*a, **k):
            outer, state["recovery"] = state["recovery"], True
            try:
                return fn(*a, **k)
            finally:
                state["recovery"] = outer

        return wrapper

    slot_logits = qmodel.Qwen3AlignerModel.slot_logits

    def pass_timer(self, items):
        t0 = time.perf_counter()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
        try:
            return slot_logits(self, items)
        finally:
            if not passes:  # pages read from disk: the checkpoint was not in the page cache
                after = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
                phases["first pass major faults"] = after - faults
            passes.append((state["recovery"], time.perf_counter() - t0))

    qmodel.Qwen3AlignerModel.slot_logits = pass_timer
    recovery.recover = flagged(recovery.recover)
    recovery.back_fill = flagged(recovery.back_fill)
    checkpoint.load_model = timed(checkpoint.load_model, "load")
    cli_align.write_outputs = timed(cli_align.write_outputs, "writing")
    argv = ["align", str(clip), str(text), "--engine", "qwen3", "--model", str(model)]
    argv += ["--dtype", "bf16", "--device", "cpu", "-q", "-o", str(out)]
    t = time.perf_counter()
    phases["exit code"] = cli_main(argv)
    phases["command"] = time.perf_counter() - t
    phases["first pass"] = passes[0][1] if passes else 0.0
    phases["recovery passes"] = sum(s for rec, s in passes if rec)
    phases["other window passes"] = sum(s for rec, s in passes[1:] if not rec)
    phases["n recovery passes"] = sum(1 for rec, _ in passes if rec)
    phases["driver"] = time.perf_counter() - t_start
    return phases


def _write_wav(path: Path, samples) -> None:
    import numpy as np

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())


def _byte_compile() -> None:
    """Byte-compile the folders of qalign's packages (those pyproject.toml lists; in
    an editable install they are the checkout's folders)."""
    import compileall
    import importlib
    import re

    pyproject = (HERE.parent / "pyproject.toml").read_text("utf-8")
    listed = re.search(r"^packages = (\[.*?\])$", pyproject, re.M)
    for name in json.loads(listed.group(1)) if listed else ["qalign"]:
        try:
            package = importlib.import_module(name)
        except ImportError:  # an extra's package whose dependency is missing
            continue
        for folder in package.__path__:
            compileall.compile_dir(folder, maxlevels=0, quiet=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument(
        "--speech", action="store_true", help="the transcript spoken by espeak-ng, not noise"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qalign-bench-aligner"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    parser.add_argument("--driver", nargs=4, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.driver:
        clip, text, model, out = (Path(x) for x in args.driver)
        phases = _driver(args, clip, text, model, out)
        print(json.dumps(phases), flush=True)
        from qalign.cli.main import end_process

        end_process(0)  # as the qalign program ends (its command's code was reported above)

    import numpy as np

    sys.path.insert(0, str(HERE))
    from aligner_checkpoint import REAL_SIZES, TINY_SIZES, build_checkpoints
    from aligner_inputs import tokenizer_counter, write_inputs

    ckpt = build_checkpoints(args.workdir, TINY_SIZES if args.tiny else REAL_SIZES)
    _byte_compile()
    inputs = write_inputs(args.workdir / "inputs", [args.seconds], tokenizer_counter(ckpt.native))
    clip = inputs[args.seconds]
    wav = args.workdir / "inputs" / f"one-file-{args.seconds:g}.wav"
    samples = np.load(clip.audio_path)
    if args.speech:  # espeak-ng speaking the transcript: the speech map hears speech
        from synth import synthesize

        samples = synthesize(clip.transcript_path.read_text("utf-8")).samples
    _write_wav(wav, samples)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            out = Path(tmp) / "out.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--driver"]
            cmd += [str(wav), str(clip.transcript_path), str(ckpt.native), str(out)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            load = os.getloadavg()[0]
            start = time.perf_counter()
            with subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ) as proc:
                line = ""
                for line in proc.stdout:  # the driver's phases, printed when the command returns
                    if line.startswith("{"):
                        break
                reported = time.perf_counter() - start
                _, err = proc.communicate()
            total = time.perf_counter() - start
            if proc.returncode or not line.strip():
                raise SystemExit(f"driver failed ({proc.returncode}): {err[-500:]}")
            phases = json.loads(line)
            if phases["exit code"] not in (0, 1):  # 1: nothing aligned (random weights)
                raise SystemExit(f"qalign align exited {phases['exit code']}: {err[-500:]}")
            phases["process"] = total
            phases["startup"] = reported - phases["driver"]
            phases["exit"] = total - reported
            phases["rest"] = (
                phases["command"]
                - phases["load"]
                - phases["writing"]
                - (phases["first pass"] + phases["recovery passes"] + phases["other window passes"])
            )
            phases["one-pass process"] = total - phases["recovery passes"]
            phases["load average"] = load
            rows.append(phases)
            print(
                " | ".join(
                    f"{k} {v:.2f}"
                    for k, v in phases.items()
                    if k
                    not in (
                        "driver",
                        "command",
                        "n recovery passes",
                        "exit code",
                        "first pass major faults",
                    )
                )
                + f" | recovery passes: {phases['n recovery passes']:.0f}"
                + f" | first pass major faults: {phases.get('first pass major faults', 0):.0f}",
                flush=True,
            )
    best = min(rows, key=lambda r: r["one-pass process"])
    print(
        f"best one-pass process: {best['one-pass process']:.2f} s "
        f"(whole process {best['process']:.2f} s with {best['recovery passes']:.2f} s "
        f"of recovery passes); target <= 3.5 s: "
        f"{'met' if best['one-pass process'] <= 3.5 else 'not met'}"
    )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
