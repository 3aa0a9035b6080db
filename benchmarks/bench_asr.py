"""Speed of Qwen3-ASR transcription on this machine, with random weights (nothing is downloaded).

Run::

    python benchmarks/bench_asr.py                  # real ASR-0.6B sizes, bf16 and fp32, 30 s and 120 s
    python benchmarks/bench_asr.py --tiny           # smoke run with the tiny test sizes
    python benchmarks/bench_asr.py --seconds 30 --dtype bf16 --threads 2

The model is built from the tiny parity checkpoint's config (``asr-tiny-hf``,
found through ``QALIGN_SHARED`` or ``../shared`` beside the repository), with
the sizes of Qwen3-ASR-0.6B written in (``--tiny`` keeps the tiny sizes), and
randomly initialised. Its tokenizer supplies the prompt. The clip is noise:
with random weights the content does not matter, and the answer length is
fixed instead (``--tokens-per-second``, about what real speech needs; stop ids
are disabled so every run generates exactly that many tokens).

File mode (``--file-seconds 600``): one recording of that length, cut into chunks
as ``qalign transcribe`` cuts it (:func:`qalign.asr.chunking.plan_chunks`, 180 s
at most, or ``--chunk-seconds``), the chunks decoded together (up to the
transcriber's batch size, 8) by ``Qwen3Transcriber`` loaded from a
real-size random checkpoint on disk (``asr_checkpoint.py``, bf16), with a budget
of ``--tokens-per-second`` answer tokens per second of each chunk and no stop
token. With ``--official-python`` (the Python of a virtual env holding the
official ``qwen-asr`` package) the same file, same weights (original layout) and
the same total budget are then run by the official package in a fresh process
(``asr_official_worker.py``), and the ratio is printed::

    python benchmarks/bench_asr.py --file-seconds 600 --official-python /path/to/venv/bin/python

Reported per dtype and clip length, best of ``--repeat`` runs:

* ``ttft_s``: time to first token: features, audio encoder, prompt prefill and
  the first greedy step (a run whose budget is one token);
* ``total_s``: the whole transcription with the fixed answer length;
* ``audio_s_per_s``: clip seconds divided by ``total_s``;
* ``peak_rss_gb``: the process's peak resident memory so far.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: Qwen3-ASR-0.6B sizes (audio encoder and Qwen3 LLM), see docs/MODEL_FACTS.md.
REAL_AUDIO = {
    "d_model": 896,
    "encoder_layers": 18,
    "encoder_attention_heads": 14,
    "encoder_ffn_dim": 3584,
    "output_dim": 1024,
    "downsample_hidden_size": 480,
    "num_key_value_heads": 14,
}
REAL_TEXT = {
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 151936,
    "tie_word_embeddings": True,
}


def find_tiny_checkpoint() -> Path:
    env = os.environ.get("QALIGN_SHARED")
    root = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    folder = root / "parity" / "asr-tiny-hf"
    if not (folder / "config.json").is_file():
        sys.exit(f"tiny ASR checkpoint not found at {folder} (set QALIGN_SHARED)")
    return folder


def build_transcriber(folder: Path, dtype_name: str, tiny: bool):
    """A Qwen3Transcriber around a randomly initialised model of the chosen size."""
    import torch
    from transformers import AutoTokenizer, Qwen3ASRConfig, Qwen3ASRForConditionalGeneration

    from qalign.asr.qwen3 import Qwen3Transcriber
    from qalign.checkpoint import LoadedModel, ModelSummary

    raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if not tiny:
        raw["audio_config"].update(REAL_AUDIO)
        raw["text_config"].update(REAL_TEXT)
        raw["text_config"]["layer_types"] = ["full_attention"] * REAL_TEXT["num_hidden_layers"]
        raw["tie_word_embeddings"] = True
    for key in ("architectures", "transformers_version", "model_type", "dtype"):
        raw.pop(key, None)
    config = Qwen3ASRConfig(**raw)
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype_name]
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # build directly in the target dtype: no fp32 copy
    try:
        model = Qwen3ASRForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    tokenizer = AutoTokenizer.from_pretrained(folder)

    def tid(token: str) -> int:
        return int(tokenizer.convert_tokens_to_ids(token))

    summary = ModelSummary(
        kind="asr",
        layout="native",
        audio_start_token_id=tid("<|audio_start|>"),
        audio_end_token_id=tid("<|audio_end|>"),
        audio_pad_token_id=int(config.audio_token_id),
        timestamp_token_id=None,
        timestamp_segment_time=None,
        num_labels=None,
        support_languages=None,
        eos_token_ids=(tid("<|im_end|>"), tid("<|endoftext|>")),
        pad_token_id=tid("<|endoftext|>"),
        asr_text_token_id=tid("<asr_text>"),
        num_mel_bins=int(config.audio_config.num_mel_bins),
        n_window=int(config.audio_config.n_window),
        n_window_infer=int(config.audio_config.n_window_infer),
    )
    loaded = LoadedModel(model, tokenizer, summary, "cpu", dtype, "random", folder)
    transcriber = Qwen3Transcriber(loaded, batch_size=1)
    transcriber.stop_ids = (-1,)  # random weights: generate exactly the budget
    n_params = sum(p.numel() for p in model.parameters())
    return transcriber, n_params


def time_answer(transcriber, audio: np.ndarray, tokens: int, language: str) -> float:
    from qalign.asr.base import TranscribeRequest

    transcriber.max_new_tokens = tokens
    start = time.perf_counter()
    (answer,) = transcriber.answer_batch([TranscribeRequest(audio, language=language)])
    elapsed = time.perf_counter() - start
    if isinstance(answer, Exception):
        raise answer
    assert len(answer.generated_ids) == tokens, (len(answer.generated_ids), tokens)
    return elapsed


def file_mode(args: argparse.Namespace) -> None:
    """Time one long recording, ours then (optionally) the official package; print the ratio."""
    import subprocess

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from asr_checkpoint import build
    from asr_official_worker import noise
    from bench_aligner_limit import measure_bandwidth, measure_limit

    import qalign.asr.qwen3 as qwen3
    from qalign.asr.base import TranscribeRequest
    from qalign.asr.chunking import plan_chunks

    if args.threads:
        torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    native, original = build(args.workdir, REAL_AUDIO, REAL_TEXT)
    seconds = args.file_seconds
    audio = noise(seconds)
    # Budget: tokens_per_second per second of each chunk, exactly (no base allowance).
    qwen3.BUDGET_BASE_TOKENS = 0
    qwen3.BUDGET_TOKENS_PER_SECOND = args.tokens_per_second
    start = time.perf_counter()
    transcriber = qwen3.Qwen3Transcriber.from_pretrained(native, device="cpu", dtype="bf16")
    load_s = time.perf_counter() - start
    transcriber.stop_ids = (-1,)  # random weights: generate exactly the budget
    transcriber.answer_batch([TranscribeRequest(noise(1.0, seed=1), language="English")])
    start = time.perf_counter()
    spans = plan_chunks(audio, args.chunk_seconds, sample_rate=16000)
    requests = [
        TranscribeRequest(audio[sp.start : sp.end], language="English", name=f"chunk{i}")
        for i, sp in enumerate(spans)
    ]
    answers = transcriber.answer_batch(requests)
    ours_s = time.perf_counter() - start
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    tokens = sum(len(a.generated_ids) for a in answers)
    budget = sum(math.ceil(args.tokens_per_second * (sp.end - sp.start) / 16000) for sp in spans)
    assert tokens == budget, (tokens, budget)  # every chunk spent exactly its budget
    steps = max(len(a.generated_ids) for a in answers)
    stages = transcriber.timings
    # The machine's limits, measured right after (same load): a large bf16 copy, and
    # bf16 products at the language model's shapes for the packed prompts.
    lm = transcriber.loaded.model.model.language_model
    prompt_rows = sum(len(a.input_ids) for a in answers)
    layer = lm.layers[0]
    shapes = sorted(
        {(prompt_rows, m.in_features, m.out_features) for m in layer.modules()
         if isinstance(m, torch.nn.Linear)}
    )  # fmt: skip
    bandwidth = measure_bandwidth(512)
    gflops = measure_limit(shapes, repeat=2)
    layer_bytes = sum(p.numel() * p.element_size() for p in lm.layers.parameters())
    head = transcriber.loaded.model.lm_head.weight
    weight_gb = (layer_bytes + head.numel() * head.element_size()) / 1e9
    cfg = lm.config
    per_position = 2 * len(lm.layers) * cfg.num_key_value_heads * cfg.head_dim * head.element_size()
    mean_prompt = prompt_rows / len(answers)
    rows = len(answers) / max(stages["batches"], 1)  # rows per batch, on average
    cache_gb = rows * (mean_prompt + steps / 2) * per_position / 1e9  # filled, mean
    decode_step = stages["decode"] / max(stages["steps"], 1)
    row = {
        "engine": "qalign",
        "seconds": seconds,
        "chunks": len(spans),
        "chunk_seconds_max": args.chunk_seconds,
        "batches": stages["batches"],
        "tokens": tokens,
        "steps": steps,
        "steps_all_batches": stages["steps"],
        "load_s": round(load_s, 2),
        "total_s": round(ours_s, 2),
        "encode_s": round(stages["encode"], 2),
        "prefill_s": round(stages["prefill"], 2),
        "decode_s": round(stages["decode"], 2),
        "ms_per_step": round(1e3 * decode_step, 1),
        "weights_gb_per_step": round(weight_gb, 3),
        "cache_gb_per_step_mean_filled": round(cache_gb, 3),
        "step_gb_s": round((weight_gb + cache_gb) / decode_step, 1),
        "copy_gb_s": round(bandwidth, 1),
        "bf16_gflop_s_at_prompt_shapes": round(gflops, 1),
        "audio_s_per_s": round(seconds / ours_s, 2),
        "threads": torch.get_num_threads(),
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(row), flush=True)
    if not args.official_python:
        return
    del transcriber
    gc.collect()
    worker = Path(__file__).resolve().with_name("asr_official_worker.py")
    command = [
        args.official_python, str(worker), "--model", str(original), "--seconds", str(seconds),
        "--tokens", str(tokens), "--threads", str(torch.get_num_threads()),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        sys.exit(f"official run failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    official = json.loads(lines[-1][len("RESULT ") :])
    if sum(official.get("generated", [])) != tokens:
        sys.exit(f"official run generated {official.get('generated')} ids, not {tokens}")
    official["engine"] = "official qwen-asr"
    official["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    official["audio_s_per_s"] = round(seconds / official["total_s"], 2)
    print(json.dumps(official), flush=True)
    ratio = official["total_s"] / ours_s
    target = seconds / ours_s >= 6.0
    print(
        f"# {seconds:.0f} s file, {tokens} answer tokens: qalign {seconds / ours_s:.2f} audio s/s, "
        f"official {official['audio_s_per_s']:.2f} audio s/s, ratio {ratio:.2f}x; "
        f"target >= 6 audio s/s: {'met' if target else 'NOT met'}",
        flush=True,
    )


def peak_rss_gb() -> float:
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny test sizes (smoke run)")
    parser.add_argument("--seconds", type=float, nargs="+", default=[30.0, 120.0])
    parser.add_argument("--dtype", nargs="+", choices=["bf16", "fp32"], default=["bf16", "fp32"])
    parser.add_argument("--tokens-per-second", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--no-header", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file-seconds", type=float, default=0.0, help="file mode: length (s)")
    parser.add_argument("--official-python", default=None, help="python with qwen-asr (file mode)")
    parser.add_argument(
        "--chunk-seconds",
        type=float,
        default=180.0,
        help="file mode: longest chunk (s), as `qalign transcribe --chunk-seconds` (default 180)",
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qalign-bench-asr"
    )
    args = parser.parse_args()
    if args.file_seconds:
        file_mode(args)
        return

    if len(args.dtype) > 1:
        # One process per dtype, so that each peak memory figure is its own.
        import subprocess

        for i, name in enumerate(args.dtype):
            argv = [a for a in sys.argv[1:]]
            cut = argv.index("--dtype") if "--dtype" in argv else None
            if cut is not None:
                end = cut + 1
                while end < len(argv) and not argv[end].startswith("--"):
                    end += 1
                argv = argv[:cut] + argv[end:]
            argv += ["--dtype", name] + ([] if i == 0 else ["--no-header"])
            subprocess.run([sys.executable, __file__, *argv], check=True)
        return

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    folder = find_tiny_checkpoint()
    rng = np.random.default_rng(0)
    if not args.no_header:
        print(
            f"{'size':>5} {'dtype':>5} {'clip_s':>6} {'tokens':>6} {'ttft_s':>7} {'total_s':>8} "
            f"{'audio_s_per_s':>13} {'peak_rss_gb':>11}",
            flush=True,
        )
    for dtype_name in args.dtype:
        start = time.perf_counter()
        transcriber, n_params = build_transcriber(folder, dtype_name, args.tiny)
        built = time.perf_counter() - start
        size = "tiny" if args.tiny else "0.6B"
        print(
            f"# {size}: {n_params / 1e6:.1f} M parameters, {dtype_name}, "
            f"{torch.get_num_threads()} threads, built in {built:.1f} s",
            flush=True,
        )
        # Warm-up: first calls allocate and pick kernels.
        time_answer(
            transcriber, (rng.standard_normal(16000) * 0.1).astype(np.float32), 2, "English"
        )
        for seconds in args.seconds:
            audio = (rng.standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32)
            tokens = max(1, math.ceil(seconds * args.tokens_per_second))
            ttft = min(time_answer(transcriber, audio, 1, "English") for _ in range(args.repeat))
            total = min(
                time_answer(transcriber, audio, tokens, "English") for _ in range(args.repeat)
            )
            print(
                f"{size:>5} {dtype_name:>5} {seconds:>6.0f} {tokens:>6} {ttft:>7.2f} {total:>8.2f} "
                f"{seconds / total:>13.2f} {peak_rss_gb():>11.2f}",
                flush=True,
            )
        del transcriber
        gc.collect()


if __name__ == "__main__":
    main()
