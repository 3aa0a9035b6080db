"""One aligner measurement in a fresh process: load, warm up, time one clip at one batch size.

Run by ``bench_aligner.py``, once per measurement, so that the load time is a
real cold-process load and the peak memory is this process's own. It imports
only the standard library and numpy at module level and never imports qalign
unless it measures qalign, so it also runs under the official ``qwen-asr``
package's own virtual env::

    python benchmarks/aligner_worker.py --engine ours --model DIR --dtype bf16 \\
        --inputs DIR --clip 30 --batch 1 [--repeat 1] [--threads 2]

Engines (each given the same ``(samples, transcript)`` items, language English):

* ``ours``: ``qalign.aligner.qwen3.Qwen3Aligner.from_pretrained(DIR, device="cpu",
  dtype=..., decoder=...)`` then ``align_batch``;
* ``transformers``: ``AutoProcessor`` + ``Qwen3ASRForTokenClassification.from_pretrained``
  (``--dtype default`` passes no dtype: the library's own choice), then
  ``prepare_forced_aligner_inputs``, the inputs moved to the model's device and
  dtype, one forward pass under ``torch.inference_mode`` and
  ``decode_forced_alignment``: the forced-alignment path the processor provides;
* ``official``: ``qwen_asr.Qwen3ForcedAligner.from_pretrained(DIR)`` (``--dtype default``:
  no arguments at all) and ``.align(audio=[(samples, 16000), ...], text=..., language=...)``.

The last line of stdout is ``RESULT <json>`` with: ``import_s`` (importing the
engine's libraries), ``load_s`` (model, tokenizer and processor), ``dtype``
(the parameter dtype actually loaded), ``warmup_s`` (the first of two warm-up calls
on ``batch`` copies of the warm-up clip), ``times_s`` (wall seconds of each timed call), ``best_s``,
``audio_s_per_s`` (``batch * clip / best_s``), ``words_out`` (aligned words per
item, a check that every engine aligned the whole transcript), ``tokens_seen``
(sequence length per item, transformers only, else ``null``), ``rss_after_load_gb``,
``load_peak_rss_gb`` (peak up to the end of loading), ``run_peak_rss_gb`` (peak
during warm-up and timed calls, when the kernel lets the peak be reset, else
``null``) and ``peak_rss_gb`` (the process's peak, ``ru_maxrss``). GB = 1e9 bytes.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16000
_TORCH_DTYPES = {"bf16": "bfloat16", "fp32": "float32"}


# -- memory -------------------------------------------------------------------------------


def _status_kb(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (Linux only), else ``None``."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_gb() -> float:
    """The process's peak resident memory in GB (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e9


def _gb(kb: int | None) -> float | None:
    return None if kb is None else kb * 1024 / 1e9


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (``VmHWM``) of this process; ``False`` where not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


# -- engines ------------------------------------------------------------------------------


class Engine(Protocol):
    """A loaded aligner: ``run`` aligns a batch and returns the word count of each item."""

    dtype: str

    def run(self, audios: list[np.ndarray], texts: list[str], language: str) -> list[int]: ...


class OursEngine:
    """qalign's Qwen3Aligner."""

    def __init__(self, folder: str, dtype: str, decoder: str) -> None:
        from qalign.aligner.qwen3 import Qwen3Aligner

        name = _TORCH_DTYPES.get(dtype, "auto")
        self.aligner = Qwen3Aligner.from_pretrained(
            folder, device="cpu", dtype=name, decoder=decoder
        )
        self.dtype = str(self.aligner.loaded.dtype).replace("torch.", "")

    def run(self, audios: list[np.ndarray], texts: list[str], language: str) -> list[int]:
        from qalign.aligner.base import AlignRequest

        results = self.aligner.align_batch(
            [AlignRequest(audio=a, transcript=t, language=language) for a, t in zip(audios, texts)]
        )
        for result in results:
            if isinstance(result, Exception):
                raise result
        return [len(r.units) for r in results]


class TransformersEngine:
    """transformers' own Qwen3ASRProcessor + Qwen3ASRForTokenClassification."""

    def __init__(self, folder: str, dtype: str, decoder: str) -> None:
        import torch
        from transformers import AutoProcessor, Qwen3ASRForTokenClassification

        kwargs = {} if dtype == "default" else {"dtype": getattr(torch, _TORCH_DTYPES[dtype])}
        self.processor = AutoProcessor.from_pretrained(folder)
        self.model = Qwen3ASRForTokenClassification.from_pretrained(folder, **kwargs).eval()
        self.dtype = str(self.model.dtype).replace("torch.", "")
        self.timestamp_id = int(self.model.config.timestamp_token_id)

    def run(self, audios: list[np.ndarray], texts: list[str], language: str) -> list[int]:
        import torch

        inputs, word_lists = self.processor.prepare_forced_aligner_inputs(
            audio=audios, transcript=texts, language=language
        )
        # The usual transformers step before a forward pass: features to the
        # model's device and dtype (a bf16 model refuses float32 features).
        inputs = inputs.to(self.model.device, self.model.dtype)
        self.tokens_seen = [int(n) for n in inputs["attention_mask"].sum(-1)]
        with torch.inference_mode():
            logits = self.model(**inputs).logits
        items = self.processor.decode_forced_alignment(
            logits, inputs["input_ids"], word_lists, self.timestamp_id
        )
        return [len(i) for i in items]


class OfficialEngine:
    """The official qwen-asr package's Qwen3ForcedAligner."""

    def __init__(self, folder: str, dtype: str, decoder: str) -> None:
        import torch
        from qwen_asr import Qwen3ForcedAligner

        kwargs = {} if dtype == "default" else {"dtype": getattr(torch, _TORCH_DTYPES[dtype])}
        self.aligner = Qwen3ForcedAligner.from_pretrained(folder, **kwargs)
        self.dtype = str(self.aligner.model.dtype).replace("torch.", "")

    def run(self, audios: list[np.ndarray], texts: list[str], language: str) -> list[int]:
        results = self.aligner.align(
            audio=[(a, SAMPLE_RATE) for a in audios], text=list(texts), language=language
        )
        return [len(r.items) for r in results]


ENGINES: dict[str, Callable[[str, str, str], Engine]] = {
    "ours": OursEngine,
    "transformers": TransformersEngine,
    "official": OfficialEngine,
}


# -- the measurement ----------------------------------------------------------------------


def _clip(inputs: Path, seconds: float) -> tuple[np.ndarray, str]:
    stem = f"clip_{seconds:g}s"
    audio = np.load(inputs / f"{stem}.npy")
    text = (inputs / f"{stem}.txt").read_text(encoding="utf-8")
    return audio, text


def measure(args: argparse.Namespace) -> dict:
    """Load the engine, warm it up on the warm-up clip at the same batch size, then time the clip.

    The warm-up runs the batched code path twice (first calls allocate and pick
    kernels; qalign packs its weights for oneDNN in its second pass), so the timed
    calls measure steady-state speed; ``warmup_s`` is the first of the two.
    """
    inputs = Path(args.inputs)
    audio, text = _clip(inputs, args.clip)
    warm_audio, warm_text = _clip(inputs, args.warmup_clip)

    start = time.perf_counter()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    engine_cls = ENGINES[args.engine]
    # Libraries are imported here, not inside the load, so that load_s compares
    # loading alone (qalign imports transformers lazily, qwen_asr eagerly).
    import transformers

    if args.engine == "official":
        import qwen_asr  # noqa: F401
    else:
        from transformers import Qwen3ASRForTokenClassification  # noqa: F401
    if args.engine == "ours":
        import qalign.aligner.qwen3  # noqa: F401
    import_s = time.perf_counter() - start

    start = time.perf_counter()
    engine = engine_cls(args.model, args.dtype, args.decoder)
    load_s = time.perf_counter() - start
    rss_after_load = _gb(_status_kb("VmRSS"))
    load_peak = _gb(_status_kb("VmHWM")) or peak_rss_gb()
    can_reset = reset_peak_rss()

    start = time.perf_counter()
    engine.run([warm_audio] * args.batch, [warm_text] * args.batch, args.language)
    warmup_s = time.perf_counter() - start
    engine.run([warm_audio] * args.batch, [warm_text] * args.batch, args.language)

    times = []
    words_out: list[int] = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        words_out = engine.run([audio] * args.batch, [text] * args.batch, args.language)
        times.append(time.perf_counter() - start)
    best = min(times)
    run_peak = _gb(_status_kb("VmHWM")) if can_reset else None
    peak = max(peak_rss_gb(), load_peak or 0.0, run_peak or 0.0)
    versions = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    return {
        "engine": args.engine,
        "dtype_requested": args.dtype,
        "dtype": engine.dtype,
        "clip_s": args.clip,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "import_s": round(import_s, 3),
        "load_s": round(load_s, 3),
        "warmup_s": round(warmup_s, 3),
        "times_s": [round(t, 6) for t in times],
        "best_s": round(best, 6),
        "audio_s_per_s": round(args.batch * args.clip / best, 3),
        "words_out": words_out,
        "tokens_seen": getattr(engine, "tokens_seen", None),
        "rss_after_load_gb": None if rss_after_load is None else round(rss_after_load, 3),
        "load_peak_rss_gb": None if load_peak is None else round(load_peak, 3),
        "run_peak_rss_gb": None if run_peak is None else round(run_peak, 3),
        "peak_rss_gb": round(peak, 3),
        "versions": versions,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=sorted(ENGINES), required=True)
    parser.add_argument("--model", required=True, help="checkpoint folder")
    parser.add_argument("--dtype", choices=["default", "bf16", "fp32"], default="default")
    parser.add_argument(
        "--inputs", required=True, help="folder written by aligner_inputs.write_inputs"
    )
    parser.add_argument("--clip", type=float, required=True, help="clip length in seconds")
    parser.add_argument("--warmup-clip", type=float, default=5.0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--decoder", default="monotonic", help="qalign decoder (ours only)")
    parser.add_argument("--language", default="English")
    args = parser.parse_args(argv)
    if args.batch < 1 or args.repeat < 1:
        parser.error("--batch and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    result = measure(parse_args(argv))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
