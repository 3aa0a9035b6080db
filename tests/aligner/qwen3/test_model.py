"""The forward pass of the aligner model: threads for a small checkpoint, shared audio, shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from qalign.aligner.qwen3 import Qwen3Aligner  # noqa: E402

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"]


@pytest.fixture(scope="module", params=["fp32", "bf16"])
def runner(parity_dir: Path, request):
    engine = Qwen3Aligner.from_pretrained(parity_dir / "fa-tiny", device="cpu", dtype=request.param)
    return engine.runner


def _audio(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal(int(16000 * seconds))).astype(np.float32)


def test_a_small_checkpoint_runs_on_one_thread_with_the_same_result(runner, monkeypatch):
    assert runner.small  # the tiny checkpoint: well under SMALL_MODEL_PARAMETERS
    item = runner.prepare(_audio(3.0), WORDS)
    seen: list[int] = []
    encode = runner.encode_audio
    monkeypatch.setattr(
        runner, "encode_audio", lambda f: (seen.append(torch.get_num_threads()), encode(f))[1]
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        one = runner.slot_logits([item])[0]
        assert seen == [1] and torch.get_num_threads() == 2  # restored after the pass
        runner.small = False  # as a real checkpoint: torch's thread count
        two = runner.slot_logits([item])[0]
        assert seen == [1, 2]
    finally:
        runner.small = True
        torch.set_num_threads(before)
    assert torch.equal(one, two)


def test_items_sharing_a_clip_are_encoded_once_with_the_same_result(runner, monkeypatch):
    audio = _audio(12.0, seed=1)
    first = runner.prepare(audio, WORDS[:3])
    shared = runner.prepare(audio, WORDS[2:], first.features)
    alone = runner.prepare(audio, WORDS[2:])
    assert shared.features is first.features and torch.equal(alone.features, first.features)
    calls: list[int] = []
    encode = runner.encode_audio
    monkeypatch.setattr(runner, "encode_audio", lambda f: (calls.append(1), encode(f))[1])
    together = runner.slot_logits([first, shared])
    assert len(calls) == 1
    assert torch.equal(together[1], runner.slot_logits([alone])[0])
    assert torch.equal(together[0], runner.slot_logits([first])[0])
