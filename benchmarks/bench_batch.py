"""Corpus throughput: ``qalign batch`` (one model load) against ``qalign align`` file by file.

Nothing is downloaded: the Qwen3-ForcedAligner-0.6B-size checkpoint with random
weights is built (or reused) under ``--workdir`` by ``aligner_checkpoint.py``; with
random weights speed depends only on lengths. The corpus is ``--files`` WAV files of
espeak-ng speech (``synth.py``) of transcripts of 2.7 words per ``--seconds`` (cycled)
at the real tokenizer's token counts (``aligner_inputs.py``), each with its ``.lab``,
in speaker folders of 20 files. Speech, not noise: the long-form layer skips audio in
which its speech detector finds no speech, and the model would never run.

Measured, each in a fresh process with the same thread count and dtype:

* ``batch``: ``qalign batch CORPUS -o OUT --engine qwen3 --model M -f json``;
* ``one by one``: ``qalign align WAV LAB -o OUT.json --engine qwen3 --model M`` for the
  first ``--one-by-one`` files (default: all), in sequence, each loading the model.

Printed: files per minute and audio seconds per wall second of each, their ratio (the
one-by-one figures are per file, so a subset gives the same rates), and the batch
run's peak RSS. Full run (about 30-40 minutes on an idle 2-core CPU)::

    python benchmarks/bench_batch.py --files 200

Reduced run (what fits a shared machine)::

    python benchmarks/bench_batch.py --files 40 --one-by-one 8

Smoke run with the tiny checkpoint: ``--tiny --files 6``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from aligner_checkpoint import REAL_SIZES, TINY_SIZES, build_checkpoints, find_templates  # noqa: E402
from aligner_inputs import (  # noqa: E402
    WORDS_PER_SECOND,
    choose_words,
    tokenizer_counter,
    transcript_text,
)
from bench_aligner import available_cores, worker_env  # noqa: E402
from synth import synthesize  # noqa: E402

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
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument(
        "--seconds", default="4,7,10,13,16", help="file lengths, cycled (comma-separated)"
    )
    parser.add_argument(
        "--one-by-one", type=int, default=None, help="files aligned one by one (default: all)"
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
    return args


def write_corpus(root: Path, files: int, seconds: list[float], model: Path, seed: int) -> float:
    """The corpus (espeak-ng speech of each transcript); returns its audio seconds."""
    if root.exists():
        shutil.rmtree(root)
    count = tokenizer_counter(model)
    total = 0.0
    for n in range(files):
        sec = seconds[n % len(seconds)]
        folder = root / f"spk{n // 20:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        words = choose_words(max(1, round(sec * WORDS_PER_SECOND)), count, seed=seed + n)
        text = transcript_text(words, seed=seed + n)
        # Speech, not noise: the long-form layer skips audio its speech detector finds
        # empty, and the model would never run.
        samples = synthesize(text, rate=160).samples
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
        with wave.open(str(folder / f"utt{n:04d}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes(pcm.tobytes())
        (folder / f"utt{n:04d}.lab").write_text(text, encoding="utf-8")
        total += len(samples) / 16000
    return total


# With random weights the model may place no word of a file: `qalign align` then exits 2
# with this message after doing all the model work, where `qalign batch` writes the
# file with every word unaligned. Both count as completed runs here.
NOTHING_PLACED = "no part of the transcript could be aligned"


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, bool]:
    """Wall seconds of ``cmd``, and whether it ended with nothing placed."""
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    nothing = done.returncode == 2 and NOTHING_PLACED in done.stderr
    if done.returncode not in (0, 1) and not nothing:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return elapsed, nothing


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = TINY_SIZES if args.tiny else REAL_SIZES
    checkpoints = build_checkpoints(
        args.workdir, sizes, templates=find_templates(args.shared), seed=args.seed
    )
    model = checkpoints.native
    work = args.workdir / "batch-bench"
    corpus, out = work / "corpus", work / "out"
    audio_seconds = write_corpus(corpus, args.files, args.seconds, model, args.seed)
    env = worker_env(args.threads)
    qalign = [sys.executable, "-m", "qalign.cli"]
    common = ["--engine", "qwen3", "--model", str(model), "--dtype", args.dtype]
    if out.exists():
        shutil.rmtree(out)
    batch_s, _ = _run(
        [*qalign, "batch", str(corpus), "-o", str(out), "-f", "json", "-q", *common], env
    )
    batch_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    print(
        f"batch: {args.files} files, {audio_seconds:.0f} s of audio in {batch_s:.1f} s", flush=True
    )
    singles = sorted(corpus.rglob("*.wav"))[: args.one_by_one or args.files]
    single_dir = work / "single"
    single_dir.mkdir(parents=True, exist_ok=True)
    single_s = 0.0
    single_audio = 0.0
    nothing_placed = 0
    for wav in singles:
        target = single_dir / f"{wav.stem}.json"
        cmd = [*qalign, "align", str(wav), str(wav.with_suffix(".lab")), "-o", str(target)]
        elapsed, nothing = _run([*cmd, "-q", *common], env)
        single_s += elapsed
        nothing_placed += nothing
        with wave.open(str(wav)) as w:
            single_audio += w.getnframes() / w.getframerate()
    result = {
        "model": "tiny" if args.tiny else "real size (918 M parameters), random weights",
        "dtype": args.dtype,
        "threads": args.threads,
        "files": args.files,
        "audio_s": round(audio_seconds, 1),
        "batch_s": round(batch_s, 2),
        "batch_files_per_min": round(args.files / batch_s * 60, 2),
        "batch_audio_s_per_s": round(audio_seconds / batch_s, 3),
        "batch_peak_rss_gb": round(batch_rss, 2),
        "one_by_one_files": len(singles),
        "one_by_one_nothing_placed": nothing_placed,
        "one_by_one_s": round(single_s, 2),
        "one_by_one_files_per_min": round(len(singles) / single_s * 60, 2),
        "one_by_one_audio_s_per_s": round(single_audio / single_s, 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    result["speedup"] = round(result["batch_audio_s_per_s"] / result["one_by_one_audio_s_per_s"], 2)
    print(json.dumps(result, indent=1))
    print(
        f"\n| run | files | audio s | wall s | files/min | audio s/s |\n|---|---:|---:|---:|---:|---:|\n"
        f"| qalign batch | {args.files} | {audio_seconds:.0f} | {batch_s:.1f} | "
        f"{result['batch_files_per_min']} | {result['batch_audio_s_per_s']} |\n"
        f"| qalign align, one by one | {len(singles)} | {single_audio:.0f} | {single_s:.1f} | "
        f"{result['one_by_one_files_per_min']} | {result['one_by_one_audio_s_per_s']} |\n"
        f"\nbatch / one by one: {result['speedup']}x; batch peak RSS {result['batch_peak_rss_gb']} GB"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
