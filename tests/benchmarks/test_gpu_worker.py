"""benchmarks/gpu_worker.py and the official ``min_new_tokens`` wrapper it shares with
asr_official_worker.py, on fake engines (no checkpoint, no ``qwen_asr``).

A batch whose items do not all come back with every transcript word stops the
run; the wrapper forces ``min_new_tokens`` on every ``generate`` call and counts
each call's rows and generated ids.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def mods():
    sys.path.insert(0, str(BENCH))
    try:
        import asr_official_worker
        import gpu_worker

        yield SimpleNamespace(worker=gpu_worker, official=asr_official_worker)
    finally:
        sys.path.remove(str(BENCH))


class _FakeAlign:
    counts: list[int] = []

    def __init__(self, folder: str, device: str, largest: int) -> None:
        pass

    def run(self, audio, text, batch, tokens) -> list[int]:
        return self.counts[:batch]


@pytest.mark.parametrize(
    ("counts", "ok"), [([4, 4], True), ([4, 3], False), ([3, 3], False), ([5, 5], False)]
)
def test_align_stops_unless_every_item_has_every_word(
    mods, tmp_path: Path, monkeypatch, counts, ok
) -> None:
    pytest.importorskip("torch")
    np.save(tmp_path / "clip_1s.npy", np.zeros(16000, np.float32))
    (tmp_path / "clip_1s.txt").write_text("the quick brown fox", encoding="utf-8")
    monkeypatch.setattr(_FakeAlign, "counts", counts)
    monkeypatch.setitem(mods.worker.ENGINES, ("align", "ours"), _FakeAlign)
    args = argparse.Namespace(
        task="align", engine="ours", model="unused", inputs=str(tmp_path), seconds=1.0,
        batches=[2], repeat=1, tokens_per_second=4.0, device="cpu",
    )  # fmt: skip
    if ok:
        result = mods.worker.measure(args)
        assert result["words_per_item"] == 4 and result["rows"][0]["items_out"] == 4
    else:
        with pytest.raises(RuntimeError, match="not 4 each"):
            mods.worker.measure(args)


def test_the_wrapper_forces_min_new_tokens_and_counts_each_call(mods) -> None:
    seen = []

    def generate(*a, **kw):
        seen.append(kw["min_new_tokens"])
        prompt = kw["input_ids"] if "input_ids" in kw else a[0]
        rows, length = prompt.shape
        return SimpleNamespace(sequences=np.zeros((rows, length + kw["min_new_tokens"])))

    asr = SimpleNamespace(model=SimpleNamespace(generate=generate), max_new_tokens=7)
    calls = mods.official.force_min_new_tokens(asr)
    asr.model.generate(input_ids=np.zeros((3, 10)), max_new_tokens=7)
    asr.max_new_tokens = 5
    asr.model.generate(np.zeros((2, 4)))
    assert seen == [7, 5]
    assert calls == [(3, 7), (2, 5)]


def test_the_official_asr_credits_each_row_with_its_calls_count(mods) -> None:
    engine = object.__new__(mods.worker.OfficialAsr)

    def transcribe(audio, language):
        engine.calls.extend([(2, 6), (1, 6)])

    engine.asr = SimpleNamespace(transcribe=transcribe)
    engine.calls = [(9, 9)]  # left from an earlier run: cleared
    assert engine.run(np.zeros(16), "", 3, 6) == [6, 6, 6]
