"""The aligner's speed against this machine's matrix-product limit, measured in the same run.

For each clip (real Qwen3-ForcedAligner-0.6B sizes, random bf16 weights, see
``aligner_checkpoint.py``; noise clips with realistic transcripts, see
``aligner_inputs.py``), in one process:

* **the pass's FLOPs**, counted from the model's own layers: every matrix product
  (2 FLOPs per multiply-add): the encoder's convolutions and linear layers, its
  windowed attention (8 s windows), the language model's linear layers, its causal
  attention (the lower triangle only) and the timestamp head at the slots;
* **the limit**: bf16 matrix products at the same shapes (rows = the clip's token
  counts; hidden -> q/kv/ffn widths and back, the encoder's widths), FLOP-weighted,
  the fastest of the rounds, measured two ways: ``torch.nn.functional.linear``, and
  the same products with the weights packed once for oneDNN (as the aligner runs
  its layers on the CPU); the ratio is taken against the faster of the two, and
  also printed against ``F.linear`` alone;
* **the pass**: ``Qwen3Aligner.align`` on the clip (features, encoder, language
  model, head, decoding), the fastest of the rounds;
* the ratio ``(FLOPs / pass time) / limit``; the issue's target is 0.80. The
  pass and the limit run in one process with the same thread count (``--threads``,
  else torch's default), which the output states.

Rounds alternate limit and pass, so that both see the same machine load. The
memory bandwidth (a large bf16 copy, bytes read + written) is printed beside
them. Run::

    python benchmarks/bench_aligner_limit.py --clips 30,120 --rounds 3 --out limit.json
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
from aligner_inputs import tokenizer_counter, write_inputs  # noqa: E402

TARGET = 0.80


def _linears(module) -> list[tuple[int, int]]:
    import torch

    from qalign.aligner.qwen3.packed_linear import PackedLinear

    kinds = (torch.nn.Linear, PackedLinear)
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, kinds)]


def pass_flops(model, cfg, n_frames: int, n_audio: int, n_tokens: int, n_slots: int) -> dict:
    """Matrix-product FLOPs of one clip's pass, by part."""
    from qalign.aligner.qwen3.audio_encoder import window_rows

    tower = model.model.audio_tower
    chunk = 2 * cfg.n_window
    n_chunks = math.ceil(n_frames / chunk)
    conv = 0
    freq, steps = cfg.num_mel_bins, min(chunk, n_frames)
    for layer in (tower.conv2d1, tower.conv2d2, tower.conv2d3):
        freq, steps = (freq + 1) // 2, (steps + 1) // 2
        kh, kw = layer.kernel_size
        conv += 2 * layer.in_channels * layer.out_channels * kh * kw * freq * steps
    conv_out = 2 * tower.conv_out.in_features * tower.conv_out.out_features * steps
    encoder_lin = sum(2 * n_audio * i * o for i, o in _linears(tower.layers))
    projector = sum(2 * n_audio * i * o for i, o in _linears(model.model.multi_modal_projector))
    d_model = tower.layers[0].self_attn.embed_dim
    window = window_rows(cfg.n_window, cfg.n_window_infer)  # the encoder's own computation
    full, rest = divmod(n_audio, window)
    encoder_attn = len(tower.layers) * 4 * d_model * (full * window**2 + rest**2)
    lm = model.model.language_model
    llm_lin = sum(2 * n_tokens * i * o for i, o in _linears(lm.layers))
    lm_cfg = lm.config
    head_dim = getattr(lm_cfg, "head_dim", None) or lm_cfg.hidden_size // lm_cfg.num_attention_heads
    llm_attn = (
        len(lm.layers) * 4 * lm_cfg.num_attention_heads * head_dim * n_tokens * (n_tokens + 1) // 2
    )
    head = 2 * n_slots * model.score.in_features * model.score.out_features
    parts = {
        "encoder_conv": n_chunks * (conv + conv_out),
        "encoder_linear": encoder_lin + projector,
        "encoder_attention": encoder_attn,
        "llm_linear": llm_lin,
        "llm_attention": llm_attn,
        "head": head,
    }
    parts["total"] = sum(parts.values())
    return parts


def limit_shapes(model, n_audio: int, n_tokens: int) -> list[tuple[int, int, int]]:
    """(rows, in, out) of the distinct linear layers, at the clip's row counts."""
    tower, lm = model.model.audio_tower, model.model.language_model
    shapes = {(n_audio, i, o) for i, o in _linears(tower.layers[0])}
    shapes |= {(n_tokens, i, o) for i, o in _linears(lm.layers[0])}
    return sorted(shapes)


def measure_limits(shapes: list[tuple[int, int, int]], repeat: int = 5) -> dict[str, float]:
    """bf16 GFLOP/s over ``shapes`` (FLOP-weighted), fastest of ``repeat`` sweeps, two ways.

    ``linear``: ``torch.nn.functional.linear`` (oneDNN copies the weight into its
    blocked layout on every call); ``packed``: the same products with the weights
    packed once (``torch.ops.mkldnn._reorder_linear_weight``, the aligner's own
    path on the CPU), only where this torch and CPU have it. Sweeps of the two
    alternate, so that both see the same machine load.
    """
    import torch
    import torch.nn.functional as F

    from qalign.aligner.qwen3.packed_linear import can_pack

    gen = torch.Generator().manual_seed(0)
    operands = [
        (
            torch.randn(m, k, generator=gen).to(torch.bfloat16),
            (torch.randn(n, k, generator=gen) * 0.02).to(torch.bfloat16),
        )
        for m, k, n in shapes
    ]
    flops = sum(2 * m * k * n for m, k, n in shapes)
    sweeps = {"linear": lambda: [F.linear(x, w) for x, w in operands]}
    if operands and can_pack(torch.bfloat16, torch.device("cpu")):
        packed = [(x, torch.ops.mkldnn._reorder_linear_weight(w)) for x, w in operands]
        sweeps["packed"] = lambda: [
            torch.ops.mkldnn._linear_pointwise(x, p, None, "none", [], "") for x, p in packed
        ]
    best = dict.fromkeys(sweeps, math.inf)
    for sweep in sweeps.values():
        sweep()
    for _ in range(repeat):
        for name, sweep in sweeps.items():
            start = time.perf_counter()
            sweep()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: flops / seconds / 1e9 for name, seconds in best.items()}


def measure_limit(shapes: list[tuple[int, int, int]], repeat: int = 5) -> float:
    """The bf16 matrix-product limit at ``shapes`` in GFLOP/s: the faster way of :func:`measure_limits`."""
    return max(measure_limits(shapes, repeat).values())


def measure_bandwidth(megabytes: int = 512, repeat: int = 3) -> float:
    """GB/s of a large bf16 copy (bytes read plus bytes written), fastest of ``repeat``."""
    import torch

    src = torch.ones(megabytes * 2**20 // 2, dtype=torch.bfloat16)
    dst = torch.empty_like(src)
    dst.copy_(src)
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        dst.copy_(src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.numel() * 2 / best / 1e9


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", default="30,120", help="seconds, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qalign-bench-aligner"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    args = parser.parse_args(argv)
    clips = [float(x) for x in args.clips.split(",") if x.strip()]

    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from qalign.aligner.qwen3 import Qwen3Aligner
    from qalign.aligner.qwen3.units import split_units

    sizes = TINY_SIZES if args.tiny else REAL_SIZES
    ckpt = build_checkpoints(args.workdir, sizes)
    inputs = write_inputs(args.workdir / "inputs", [5.0, *clips], tokenizer_counter(ckpt.native))
    aligner = Qwen3Aligner.from_pretrained(ckpt.native, device="cpu", dtype="bf16")
    runner, cfg = aligner.runner, aligner.loaded.config
    warm = inputs[5.0]
    for _ in range(2):  # the second pass packs the weights for oneDNN (packed_linear)
        aligner.align(np.load(warm.audio_path), warm.transcript_path.read_text("utf-8"), "English")
    bandwidth = measure_bandwidth(64 if args.tiny else 512)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    threads = torch.get_num_threads()
    print(
        f"# {threads} threads (pass and limit alike), torch {torch.__version__}, bf16; "
        f"memory bandwidth {bandwidth:.1f} GB/s; load average at start {load}"
    )
    print(
        "| clip | threads | tokens | TFLOP | pass (s) | audio s/s | achieved GFLOP/s "
        "| limit GFLOP/s: F.linear / packed | ratio to the faster | ratio to F.linear | >= 0.80 |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    rows = []
    for seconds in clips:
        clip = inputs[seconds]
        audio = np.load(clip.audio_path)
        text = clip.transcript_path.read_text("utf-8")
        units = [u.norm for u in split_units(text, "English") if u.norm]
        prepared = runner.prepare(audio, units)
        n_tokens = len(prepared.input_ids)
        flops = pass_flops(
            runner.model, cfg, prepared.n_feature_frames, prepared.n_audio_tokens, n_tokens,
            len(prepared.slot_positions),
        )  # fmt: skip
        shapes = limit_shapes(runner.model, prepared.n_audio_tokens, n_tokens)
        limits: dict[str, float] = {}
        best = math.inf
        for _ in range(args.rounds):
            for name, value in measure_limits(shapes).items():
                limits[name] = max(limits.get(name, 0.0), value)
            start = time.perf_counter()
            aligner.align(audio, text, "English")
            best = min(best, time.perf_counter() - start)
        achieved = flops["total"] / best / 1e9
        limit = max(limits.values())
        row = {
            "clip_s": seconds,
            "threads": threads,
            "tokens": n_tokens,
            "audio_tokens": prepared.n_audio_tokens,
            "tflop": round(flops["total"] / 1e12, 3),
            "flops_by_part": flops,
            "pass_s": round(best, 3),
            "audio_s_per_s": round(seconds / best, 2),
            "achieved_gflops": round(achieved, 1),
            "limit_gflops": round(limit, 1),
            "limit_linear_gflops": round(limits["linear"], 1),
            "limit_packed_gflops": round(limits["packed"], 1) if "packed" in limits else None,
            "ratio": round(achieved / limit, 3),
            "ratio_to_linear": round(achieved / limits["linear"], 3),
            "target_met": achieved / limit >= TARGET,
        }
        rows.append(row)
        r = row
        packed = f"{r['limit_packed_gflops']:.0f}" if r["limit_packed_gflops"] else "-"
        print(
            f"| {r['clip_s']:g} s | {threads} | {r['tokens']} | {r['tflop']:.3f} | "
            f"{r['pass_s']:.2f} | {r['audio_s_per_s']:.1f} | {r['achieved_gflops']:.0f} | "
            f"{r['limit_linear_gflops']:.0f} / {packed} | {r['ratio']:.3f} | "
            f"{r['ratio_to_linear']:.3f} | {'met' if r['target_met'] else 'not met'} |",
            flush=True,
        )
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"# load average at the end {load_end}")
    if args.out:
        summary = {"bandwidth_gbs": bandwidth, "load": load, "load_end": load_end, "rows": rows}
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
