"""One engine on one task, timed at several batch sizes in one process (run by ``bench_gpu.py``).

Tasks and engines (bf16, weights loaded once, the same clip repeated ``batch`` times):

* ``align``: ``ours`` is ``Qwen3Aligner`` (native layout, every item of a batch in
  one pass); ``official`` is ``qwen_asr.Qwen3ForcedAligner.align`` (original layout).
* ``asr``: ``ours`` is ``Qwen3Transcriber.answer_batch``; ``official`` is
  ``qwen_asr.Qwen3ASRModel.transcribe`` with ``max_inference_batch_size`` =
  batch. Both generate exactly ``--tokens-per-second`` answer tokens per second
  of audio (random weights never stop by themselves; stop ids are disabled on
  ours and ``min_new_tokens`` is forced on the official package's ``generate``),
  and the generated counts are returned as proof.

Per batch size: one untimed call (kernels and allocator warm-up; the ASR one
with a budget of 8 tokens), then ``--repeat`` timed calls, the fastest kept.
Every item must come back with every transcript word aligned (align) or with
exactly the token budget generated (asr); anything else stops the run. The
clip and the official ``min_new_tokens`` wrapper are ``asr_official_worker.py``'s.
Times include moving the outputs to the host. It imports only the standard
library and numpy at module level, so it runs under the official package's
environment too. The last stdout line is ``RESULT <json>``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from asr_official_worker import force_min_new_tokens, noise  # noqa: E402

SAMPLE_RATE = 16000


class OursAlign:
    def __init__(self, folder: str, device: str, largest: int) -> None:
        from qalign.aligner.qwen3 import Qwen3Aligner

        self.aligner = Qwen3Aligner.from_pretrained(
            folder, device=device, dtype="bf16", batch_size=largest, batch_tokens=10**9
        )

    def run(self, audio: np.ndarray, text: str, batch: int, tokens: int) -> list[int]:
        from qalign.aligner.base import AlignRequest

        requests = [AlignRequest(audio=audio, transcript=text, language="English")] * batch
        results = self.aligner.align_batch(requests)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return [len(r.units) for r in results]


class OfficialAlign:
    def __init__(self, folder: str, device: str, largest: int) -> None:
        import torch
        from qwen_asr import Qwen3ForcedAligner

        self.aligner = Qwen3ForcedAligner.from_pretrained(
            folder, dtype=torch.bfloat16, device_map=device
        )

    def run(self, audio: np.ndarray, text: str, batch: int, tokens: int) -> list[int]:
        results = self.aligner.align(
            audio=[(audio, SAMPLE_RATE)] * batch, text=[text] * batch, language="English"
        )
        return [len(r.items) for r in results]


class OursAsr:
    def __init__(self, folder: str, device: str, largest: int) -> None:
        from qalign.asr.qwen3 import Qwen3Transcriber

        self.asr = Qwen3Transcriber.from_pretrained(
            folder, device=device, dtype="bf16", batch_size=largest
        )
        self.asr.batch_tokens = 10**9  # every item of a batch decoded together
        self.asr.stop_ids = (-1,)  # random weights: generate exactly the budget

    def run(self, audio: np.ndarray, text: str, batch: int, tokens: int) -> list[int]:
        from qalign.asr.base import TranscribeRequest

        self.asr.max_new_tokens = tokens
        answers = self.asr.answer_batch([TranscribeRequest(audio, language="English")] * batch)
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer
        return [len(a.generated_ids) for a in answers]


class OfficialAsr:
    def __init__(self, folder: str, device: str, largest: int) -> None:
        import torch
        from qwen_asr import Qwen3ASRModel

        self.asr = Qwen3ASRModel.from_pretrained(
            folder, dtype=torch.bfloat16, device_map=device, max_inference_batch_size=largest
        )
        self.calls = force_min_new_tokens(self.asr)

    def run(self, audio: np.ndarray, text: str, batch: int, tokens: int) -> list[int]:
        """Ids generated per item: each ``generate`` call's padded count, for each of its rows.

        The count is per call, not per row (a row that stopped early would still
        be credited with the call's length); ``min_new_tokens`` = ``max_new_tokens``
        makes every row generate exactly that many, so the two agree here.
        """
        self.asr.max_new_tokens = tokens
        self.asr.max_inference_batch_size = batch
        self.calls.clear()
        self.asr.transcribe(audio=[(audio, SAMPLE_RATE)] * batch, language="English")
        return [new for rows, new in self.calls for _ in range(rows)]


ENGINES = {
    ("align", "ours"): OursAlign,
    ("align", "official"): OfficialAlign,
    ("asr", "ours"): OursAsr,
    ("asr", "official"): OfficialAsr,
}


def measure(args: argparse.Namespace) -> dict:
    import torch

    cuda = args.device.startswith("cuda")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    if args.task == "align":
        stem = f"clip_{args.seconds:g}s"
        audio = np.load(Path(args.inputs) / f"{stem}.npy")
        text = (Path(args.inputs) / f"{stem}.txt").read_text(encoding="utf-8")
        expect_words = len(text.split())
    else:
        audio, text, expect_words = noise(args.seconds), "", None
    tokens = math.ceil(args.tokens_per_second * args.seconds)
    batches = sorted(args.batches)
    start = time.perf_counter()
    engine = ENGINES[(args.task, args.engine)](args.model, args.device, batches[-1])
    sync()
    load_s = time.perf_counter() - start
    rows = []
    for batch in batches:
        engine.run(audio, text, batch, 8)  # warm-up
        sync()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        times, counts = [], []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            counts = engine.run(audio, text, batch, tokens)
            sync()
            times.append(time.perf_counter() - begin)
        if args.task == "asr" and counts != [tokens] * batch:
            raise RuntimeError(f"batch {batch}: generated {counts}, not {tokens} each")
        if expect_words is not None and counts != [expect_words] * batch:
            raise RuntimeError(f"batch {batch}: aligned {counts} words, not {expect_words} each")
        best = min(times)
        rows.append({
            "batch": batch,
            "times_s": [round(t, 4) for t in times],
            "best_s": round(best, 4),
            "audio_s_per_s": round(batch * args.seconds / best, 1),
            "items_out": counts[0],
            "gpu_peak_gb": round(torch.cuda.max_memory_allocated() / 1e9, 2) if cuda else None,
        })  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    return {
        "task": args.task,
        "engine": args.engine,
        "device": torch.cuda.get_device_name() if cuda else args.device,
        "seconds": args.seconds,
        "tokens_per_item": tokens if args.task == "asr" else None,
        "words_per_item": expect_words,
        "load_s": round(load_s, 2),
        "rows": rows,
        "torch": torch.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=["align", "asr"], required=True)
    parser.add_argument("--engine", choices=["ours", "official"], required=True)
    parser.add_argument("--model", required=True, help="checkpoint folder")
    parser.add_argument("--inputs", help="aligner_inputs folder (align)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[1])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tokens-per-second", type=float, default=4.0)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    print("RESULT " + json.dumps(measure(args)), flush=True)


if __name__ == "__main__":
    main()
