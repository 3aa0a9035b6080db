"""Greedy decoding with the static cache: budgets, batch independence, cache growth."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from qalign.asr import decoding  # noqa: E402
from qalign.asr.decoding import greedy_decode  # noqa: E402


@pytest.fixture(scope="module")
def model(parity_dir: Path):
    from qalign.checkpoint import load_model

    return load_model(parity_dir / "asr-tiny-hf", "asr", device="cpu", dtype="fp32").model


def _prompts(model, lengths: list[int]) -> list:
    gen = torch.Generator().manual_seed(sum(lengths))
    width = model.model.language_model.config.hidden_size
    return [torch.randn(n, width, generator=gen) for n in lengths]


def test_budgets_and_batch_independence(model) -> None:
    prompts = _prompts(model, [12, 40, 25])
    budgets = [5, 9, 0]
    batched = greedy_decode(model, prompts, budgets, stop_ids=[-1], pad_id=0)
    assert [len(ids) for ids in batched] == budgets
    for prompt, budget, ids in zip(prompts, budgets, batched, strict=True):
        assert greedy_decode(model, [prompt], [budget], stop_ids=[-1], pad_id=0)[0] == ids


def test_growing_cache_gives_the_same_answers(model, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts = _prompts(model, [10, 31])
    roomy = greedy_decode(model, prompts, [12, 12], stop_ids=[-1], pad_id=0)
    monkeypatch.setattr(decoding, "CACHE_STEP", 1)  # room for one answer token: grows 4 times
    assert greedy_decode(model, prompts, [12, 12], stop_ids=[-1], pad_id=0) == roomy


def test_stop_ids_end_a_row_and_are_left_out(model) -> None:
    (prompt,) = _prompts(model, [20])
    free = greedy_decode(model, [prompt], [6], stop_ids=[-1], pad_id=0)[0]
    stopped = greedy_decode(model, [prompt], [6], stop_ids=[free[2]], pad_id=0)[0]
    assert stopped == free[: free.index(free[2])]


def test_nothing_to_decode() -> None:
    assert greedy_decode(None, [], [], stop_ids=[1], pad_id=0) == []
