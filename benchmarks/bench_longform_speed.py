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
from dataclasses import replace
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from aligner_checkpoint import REAL_SIZES, TINY_SIZES, build_checkpoints  # noqa: E402
from aligner_inputs import TOKENS_PER_WORD, choose_words  # noqa: E402
from bench_aligner_limit import limit_shapes, measure_limit, pass_flops  # noqa: E402
from simulated_qwen3 import _WORDS, SimulatedQwen3, build  # noqa: E402

from qalign.aligner.qwen3.decoding import DECODERS  # noqa: E402


class TimedPasses:
    """Runs every batch of windows the layer asks for through the real model and times it.

    Batches go through ``Qwen3Windows.slot_logits`` as the engine sends them; the
    real logits are then decoded (timed apart). ``kind`` says which part of the
    layer asked: ``walk``, ``edges`` (second looks), ``refine`` or ``recovery``.
    """

    def __init__(self, windows, spelled: dict[str, str] | None = None) -> None:
        self.windows = windows  # a Qwen3Windows over the real-size model
        self.spelled = spelled or {}  # a unit's text as fed to the real model
        self.kind = "walk"
        self.rows: list[dict] = []
        self.logits_s = 0.0  # wall time of the real model's logits, all kinds

    def run(self, script, jobs) -> None:
        runner = self.windows.aligner.runner
        cfg = self.windows.aligner.loaded.config
        jobs = [j for j in jobs if j.stop > j.first and j.samples.size >= 400]
        if not jobs:
            return
        if self.spelled:
            units = tuple(replace(u, norm=self.spelled.get(u.norm, u.norm)) for u in script.units)
            script = replace(script, units=units)
        start = time.perf_counter()
        logits = self.windows.slot_logits(script, jobs)
        model_s = time.perf_counter() - start
        self.logits_s += model_s
        total_tokens = 0
        rows = []
        for job, window in zip(jobs, logits):
            n = job.samples.size
            start = time.perf_counter()
            DECODERS[self.windows.decoder](
                window, min(int(n * 1000 // (16000 * 80)), 4999), step_ms=80
            )
            decode_s = time.perf_counter() - start
            prepared = runner.prepare(
                job.samples, [u.norm for u in script.units[job.first : job.stop]]
            )
            flops = pass_flops(
                runner.model, cfg, prepared.n_feature_frames, prepared.n_audio_tokens,
                len(prepared.input_ids), len(prepared.slot_positions),
            )["total"]  # fmt: skip
            total_tokens += len(prepared.input_ids)
            rows.append(
                {
                    "kind": self.kind,
                    "audio_s": n / 16000,
                    "units": job.stop - job.first,
                    "tokens": len(prepared.input_ids),
                    "audio_tokens": prepared.n_audio_tokens,
                    "decode_s": decode_s,
                    "flops": flops,
                }
            )
        for row in rows:  # the batch's model time shared by tokens
            row["seconds"] = model_s * row["tokens"] / total_tokens + row["decode_s"]
        self.rows.extend(rows)


def _flagged(timed: TimedPasses, kind: str, function):
    """``function`` with ``timed.kind`` set to ``kind`` while it runs (the outermost kind wins)."""

    def wrapper(*a, **k):
        outer = timed.kind
        if outer == "walk":
            timed.kind = kind
        try:
            return function(*a, **k)
        finally:
            timed.kind = outer

    return wrapper


def _summary(rows: list[dict]) -> dict:
    audio = sum(r["audio_s"] for r in rows)
    return {
        "passes": len(rows),
        "audio_s": round(audio, 1),
        "mean_audio_s": round(audio / max(1, len(rows)), 1),
        "mean_units": round(sum(r["units"] for r in rows) / max(1, len(rows)), 1),
        "mean_tokens": round(sum(r["tokens"] for r in rows) / max(1, len(rows))),
        "mean_audio_tokens": round(sum(r["audio_tokens"] for r in rows) / max(1, len(rows))),
        "model_s": round(sum(r["seconds"] for r in rows), 1),
        "decode_s": round(sum(r["decode_s"] for r in rows), 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument(
        "--window-seconds", type=float, default=None, help="override the engine's window length"
    )
    for name in ("agreed-slack", "agreed-pad", "text-slack", "text-pad"):
        parser.add_argument(f"--{name}", type=float, default=None, help="override the engine's")
    parser.add_argument(
        "--tokens-per-word",
        type=float,
        default=TOKENS_PER_WORD,
        help="text tokens per word fed to the model (0: the checkpoint's tokenizer on the "
        "simulation's words as they are)",
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qalign-bench-aligner"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from qalign.aligner.longform import aligner as layer
    from qalign.aligner.longform import recovery, walk
    from qalign.aligner.longform.slots import Qwen3Windows
    from qalign.aligner.qwen3 import Qwen3Aligner

    ckpt = build_checkpoints(args.workdir, TINY_SIZES if args.tiny else REAL_SIZES)
    aligner = Qwen3Aligner.from_pretrained(ckpt.native, device="cpu", dtype="bf16")
    real = Qwen3Windows(aligner)
    spelled = {}
    if args.tokens_per_word:
        # The checkpoint keeps the tiny tokenizer, which splits the simulation's words into
        # more pieces than the real one: each word is fed as a word of the benchmark pool,
        # drawn so that the words average --tokens-per-word tokens (the real tokenizer's
        # figure, as in bench_aligner_limit.py).
        def count(word: str) -> int:
            return len(aligner.runner.unit_token_ids([word])[0])

        spelled = dict(zip(_WORDS, choose_words(len(_WORDS), count, args.tokens_per_word)))
    timed = TimedPasses(real, spelled)
    recording = build(args.minutes)
    engine_s = [0.0]  # wall time inside the engine's slot_logits (simulation + real + bookkeeping)

    class Engine(SimulatedQwen3):
        # The real engine's settings: the same windows and text as Qwen3 would get.
        window_seconds = real.window_seconds
        max_window_seconds = real.max_window_seconds
        agreed_slack, agreed_pad = real.agreed_slack, real.agreed_pad
        text_slack, text_pad = real.text_slack, real.text_pad

        def slot_logits(self, script, jobs):
            start = time.perf_counter()
            timed.run(script, jobs)
            out = super().slot_logits(script, jobs)
            engine_s[0] += time.perf_counter() - start
            return out

    if args.window_seconds:
        Engine.window_seconds = args.window_seconds
        Engine.max_window_seconds = min(aligner.max_duration, 2.0 * args.window_seconds)
    for name in ("agreed_slack", "agreed_pad", "text_slack", "text_pad"):
        value = getattr(args, name)
        if value is not None:  # --agreed-slack 0: the generous text everywhere
            value = None if name == "agreed_slack" and not value else value
            setattr(Engine, name, int(value) if name.endswith("pad") and value else value)
    patched = [
        (recovery, "recover", "recovery"),
        (recovery, "back_fill", "recovery"),
        (walk, "grow_edges", "edges"),
        (layer, "refine", "refine"),
    ]
    originals = [getattr(owner, name) for owner, name, _ in patched]
    for (owner, name, kind), original in zip(patched, originals):
        setattr(owner, name, _flagged(timed, kind, original))
    try:
        _run(args, aligner, timed, recording, Engine, engine_s)
    finally:  # the layer as it was (the benchmark may run inside a test process)
        for (owner, name, _), original in zip(patched, originals):
            setattr(owner, name, original)


def _run(args, aligner, timed: TimedPasses, recording, Engine, engine_s: list[float]) -> None:
    import torch

    from qalign.aligner.longform import LongFormAligner

    samples = recording.samples()
    warm = Engine(build(0.5))
    LongFormAligner(warm, vad=False).align(
        warm.recording.samples(), warm.recording.transcript, "English"
    )
    timed.rows.clear()
    timed.logits_s, engine_s[0] = 0.0, 0.0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    start = time.perf_counter()
    result = LongFormAligner(Engine(recording), vad=False).align(
        samples, recording.transcript, "English"
    )
    total = time.perf_counter() - start
    # In-process: the run with the simulation's logits (and the bookkeeping here) replaced
    # by the real model's; the layer's own decoding of every window stays in.
    in_process = total - engine_s[0] + timed.logits_s
    matching = [r for r in timed.rows if r["kind"] != "recovery"]
    probes = [r for r in timed.rows if r["kind"] == "recovery"]
    recovery_s = sum(r["seconds"] - r["decode_s"] for r in probes)
    audio = samples.size / 16000
    model_s = sum(r["seconds"] for r in matching)
    flops = sum(r["flops"] for r in matching)
    walked = [r for r in matching if r["kind"] == "walk"]
    mean_tokens = round(sum(r["tokens"] for r in walked) / max(1, len(walked)))
    mean_audio = round(sum(r["audio_tokens"] for r in walked) / max(1, len(walked)))
    limit = max(
        measure_limit(limit_shapes(aligner.runner.model, mean_audio, mean_tokens)) for _ in range(3)
    )
    achieved = flops / model_s / 1e9 if model_s else math.nan
    figures = {
        "audio_s": round(audio, 1),
        "threads": torch.get_num_threads(),
        "window_seconds": Engine.window_seconds,
        "text": f"{Engine.text_slack}x+{Engine.text_pad}, agreed {Engine.agreed_slack}x+{Engine.agreed_pad}",
        "tokens_per_word": args.tokens_per_word or "checkpoint tokenizer",
        "load_average_start": load,
        "load_average_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        **{f"{kind}_{k}": v for kind in ("walk", "edges", "refine", "recovery")
           for k, v in _summary([r for r in timed.rows if r["kind"] == kind]).items()},
        "matching_model_s": round(model_s, 1),
        "matching_audio_s_per_s": round(audio / model_s, 2) if model_s else None,
        "in_process_s": round(in_process, 1),
        "in_process_audio_s_per_s": round(audio / in_process, 2),
        "in_process_minus_recovery_s": round(in_process - recovery_s, 1),
        "in_process_minus_recovery_audio_s_per_s": round(audio / (in_process - recovery_s), 2),
        "matching_gflops": round(achieved, 1),
        "limit_gflops": round(limit, 1),
        "ratio": round(achieved / limit, 3),
        "aligned_units": sum(u.status != "unaligned" for u in result.units),
        "units": len(result.units),
    }  # fmt: skip
    for key, value in figures.items():
        print(f"{key}: {value}")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
