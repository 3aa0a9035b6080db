"""Long-form speed at real size: hours of audio through the layer, every window a real pass.

Random weights make every window look mismatched, so timing the real engine
alone would time the recovery search, not the path a matching transcript takes.
Here the long-form layer walks a synthetic recording (``simulated_qwen3.build``:
words at ~2.5 per second with known true times) and plans its windows from the
simulated engine's answers, exactly as it would for matching text; every window
it asks for is *also* run through the real-size Qwen3-ForcedAligner (random bf16
weights, ``aligner_checkpoint.py``) on the same audio and the same run of units,
and that pass is what is timed. Passes asked for by the recovery search (probes
and back-fills) are timed and reported apart.

Printed, from one process:

* audio seconds, windows, tokens per window;
* model time of the windows (features, encoder, language model, head, decoding)
  and audio seconds per second over it; the whole in-process run (speech map,
  windows, stitching) likewise;
* recovery passes and their time, apart;
* the same-run bf16 matrix-product limit at the windows' shapes
  (``bench_aligner_limit.measure_limit``), the windows' counted FLOPs and the ratio.

Run::

    python benchmarks/bench_longform_speed.py --minutes 60 --out longform_speed.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from aligner_checkpoint import REAL_SIZES, TINY_SIZES, build_checkpoints  # noqa: E402
from bench_aligner_limit import limit_shapes, measure_limit, pass_flops  # noqa: E402
from simulated_qwen3 import SimulatedQwen3, build  # noqa: E402

from qalign.aligner.qwen3.decoding import DECODERS  # noqa: E402


class TimedPasses:
    """Runs every window the layer asks for through the real model and times it."""

    def __init__(self, windows) -> None:
        self.windows = windows  # a Qwen3Windows over the real-size model
        self.in_recovery = False
        self.rows: list[dict] = []

    def run(self, script, jobs) -> None:
        runner = self.windows.aligner.runner
        cfg = self.windows.aligner.loaded.config
        for job in jobs:
            if not (job.stop > job.first and job.samples.size >= 400):
                continue
            start = time.perf_counter()
            cpu = time.thread_time()
            logits = self.windows.slot_logits(script, [job])
            n = job.samples.size
            DECODERS[self.windows.decoder](
                logits[0], min(int(n * 1000 // (16000 * 80)), 4999), step_ms=80
            )
            seconds = time.perf_counter() - start
            cpu = time.thread_time() - cpu
            prepared = runner.prepare(
                job.samples, [u.norm for u in script.units[job.first : job.stop]]
            )
            flops = pass_flops(
                runner.model, cfg, prepared.n_feature_frames, prepared.n_audio_tokens,
                len(prepared.input_ids), len(prepared.slot_positions),
            )["total"]  # fmt: skip
            self.rows.append(
                {
                    "recovery": self.in_recovery,
                    "audio_s": n / 16000,
                    "tokens": len(prepared.input_ids),
                    "audio_tokens": prepared.n_audio_tokens,
                    "seconds": seconds,
                    "thread_cpu_s": cpu,
                    "flops": flops,
                }
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qalign-bench-aligner"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from qalign.aligner.longform import LongFormAligner, walk
    from qalign.aligner.longform.slots import Qwen3Windows
    from qalign.aligner.qwen3 import Qwen3Aligner

    ckpt = build_checkpoints(args.workdir, TINY_SIZES if args.tiny else REAL_SIZES)
    aligner = Qwen3Aligner.from_pretrained(ckpt.native, device="cpu", dtype="bf16")
    timed = TimedPasses(Qwen3Windows(aligner))
    recording = build(args.minutes)

    class Engine(SimulatedQwen3):
        def slot_logits(self, script, jobs):
            timed.run(script, jobs)
            return super().slot_logits(script, jobs)

    def flagged(method):
        def wrapper(self, *a, **k):
            outer, timed.in_recovery = timed.in_recovery, True
            try:
                return method(self, *a, **k)
            finally:
                timed.in_recovery = outer

        return wrapper

    walk.WindowRun._recover = flagged(walk.WindowRun._recover)
    walk.WindowRun._back_fill = flagged(walk.WindowRun._back_fill)

    samples = recording.samples()
    warm = Engine(build(0.5))
    LongFormAligner(warm, vad=False).align(
        warm.recording.samples(), warm.recording.transcript, "English"
    )
    timed.rows.clear()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    start = time.perf_counter()
    result = LongFormAligner(Engine(recording), vad=False).align(
        samples, recording.transcript, "English"
    )
    total = time.perf_counter() - start
    windows = [r for r in timed.rows if not r["recovery"]]
    probes = [r for r in timed.rows if r["recovery"]]
    audio = samples.size / 16000
    model_s = sum(r["seconds"] for r in windows)
    flops = sum(r["flops"] for r in windows)
    tokens = [r["tokens"] for r in windows]
    mean_tokens = round(sum(tokens) / max(1, len(tokens)))
    mean_audio = round(sum(r["audio_tokens"] for r in windows) / max(1, len(windows)))
    limit = max(
        measure_limit(limit_shapes(aligner.runner.model, mean_audio, mean_tokens)) for _ in range(3)
    )
    achieved = flops / model_s / 1e9 if model_s else math.nan
    figures = {
        "audio_s": round(audio, 1),
        "threads": torch.get_num_threads(),
        "load_average_start": load,
        "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "windows": len(windows),
        "tokens_per_window": mean_tokens,
        "window_model_s": round(model_s, 1),
        "window_audio_s_per_s": round(audio / model_s, 2) if model_s else None,
        "in_process_s": round(total, 1),
        "recovery_passes": len(probes),
        "recovery_model_s": round(sum(r["seconds"] for r in probes), 1),
        "in_process_minus_recovery_audio_s_per_s": round(
            audio / (total - sum(r["seconds"] for r in probes)), 2
        ),
        "window_gflops": round(achieved, 1),
        "limit_gflops": round(limit, 1),
        "ratio": round(achieved / limit, 3),
        "aligned_units": sum(u.status != "unaligned" for u in result.units),
        "units": len(result.units),
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
