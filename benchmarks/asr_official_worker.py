"""One transcription by the official ``qwen-asr`` package, timed, in its own virtual env.

Run by ``bench_asr.py --official-python PY`` (imports only the standard library,
numpy, torch and ``qwen_asr``)::

    PY benchmarks/asr_official_worker.py --model ORIGINAL_DIR --seconds 600 --tokens 2400

The clip is the same noise ``bench_asr.py`` makes (``numpy`` generator, seed 0).
The answer length is fixed: ``max_new_tokens`` and ``min_new_tokens`` both equal
``--tokens`` (random weights would otherwise stop anywhere). The package's
``generate`` passes only its own arguments on to the inner ("thinker") model, whose
generation config is not the outer one, so ``min_new_tokens`` is added to every
``generate`` call by a wrapper (:func:`force_min_new_tokens`, also used by
``gpu_worker.py``), which also counts the ids each call generated (``generated``:
the proof that the budget was spent, not the re-tokenised text).
The package cuts the file as it does by default (one request up to 20 minutes).
The last line of stdout is ``RESULT <json>``: ``load_s``, ``total_s``, ``tokens``
asked, ``generated`` per ``generate`` call.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    """The benchmark clip: Gaussian noise at 0.1, 16 kHz, float32."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * 16000)) * 0.1).astype(np.float32)


def force_min_new_tokens(asr: Any) -> list[tuple[int, int]]:
    """Make every ``asr.model.generate`` call generate at least ``asr.max_new_tokens`` ids.

    ``asr`` is a ``qwen_asr.Qwen3ASRModel``; its ``generate`` is wrapped in place.
    Returns the list that each call then appends ``(rows, new_ids)`` to: the
    batch's row count and the ids generated past the prompt. ``new_ids`` is per
    call (the padded length of the output), so every row of one call is credited
    with the same count; clear the list between measurements.
    """
    generate = asr.model.generate
    calls: list[tuple[int, int]] = []

    def forced_generate(*a, **kw):
        kw["min_new_tokens"] = asr.max_new_tokens
        out = generate(*a, **kw)
        prompt = kw["input_ids"] if "input_ids" in kw else a[0]
        calls.append((int(out.sequences.shape[0]), int(out.sequences.shape[1] - prompt.shape[1])))
        return out

    asr.model.generate = forced_generate
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--tokens", type=int, required=True)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from qwen_asr import Qwen3ASRModel

    start = time.perf_counter()
    asr = Qwen3ASRModel.from_pretrained(
        args.model, dtype=torch.bfloat16, device_map="cpu", max_new_tokens=args.tokens
    )
    load_s = time.perf_counter() - start
    calls = force_min_new_tokens(asr)

    def run(audio: np.ndarray, tokens: int) -> float:
        asr.max_new_tokens = tokens
        calls.clear()
        begin = time.perf_counter()
        asr.transcribe(audio=(audio, 16000), language="English")
        return time.perf_counter() - begin

    run(noise(1.0, seed=1), 2)  # warm-up: first calls allocate and pick kernels
    total = run(noise(args.seconds), args.tokens)
    result = {
        "load_s": round(load_s, 3),
        "total_s": round(total, 3),
        "generated": [new for _, new in calls],
        "tokens": args.tokens,
        "seconds": args.seconds,
        "threads": torch.get_num_threads(),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
