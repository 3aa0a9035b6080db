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


def test_steps_run_are_the_longest_answer_with_its_stop_id(model) -> None:
    (prompt,) = _prompts(model, [20])
    free = greedy_decode(model, [prompt], [6], stop_ids=[-1], pad_id=0)[0]
    steps: list[int] = []
    short, full = greedy_decode(
        model, [prompt, prompt], [6, 3], stop_ids=[free[2]], pad_id=0, on_steps=steps.append
    )
    stop = free.index(free[2])  # the first answer ends at its stop id, chosen at this step
    assert (len(short), len(full)) == (stop, min(3, stop))
    assert steps == [max(stop + 1, len(full) + (len(full) < 3))]
    greedy_decode(model, [prompt], [4], stop_ids=[-1], pad_id=0, on_steps=steps.append)
    assert steps[-1] == 4  # no stop id: the budget


def test_nothing_to_decode() -> None:
    steps: list[int] = []
    assert greedy_decode(None, [], [], stop_ids=[1], pad_id=0, on_steps=steps.append) == []
    assert steps == [0]


def test_a_long_bf16_decode_packs_its_weights_and_answers_the_same(
    parity_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qalign.asr.batch_decoder import BatchDecoder, can_pack
    from qalign.checkpoint import load_model

    bf16 = load_model(parity_dir / "asr-tiny-hf", "asr", device="cpu", dtype="bf16").model
    if not can_pack(torch.bfloat16, torch.device("cpu")):
        pytest.skip("this torch or CPU has no oneDNN bf16 packing")
    prompts = [p.to(torch.bfloat16) for p in _prompts(bf16, [14, 33])]
    least = decoding.PACK_MIN_STEPS
    budgets = [least, 9]
    packed_at_end: list[bool] = []
    release = BatchDecoder.release

    def spy(self: BatchDecoder) -> None:
        packed_at_end.append(self.packed is not None)
        release(self)
        assert self.packed is None

    monkeypatch.setattr(BatchDecoder, "release", spy)
    packed = greedy_decode(bf16, prompts, budgets, stop_ids=[-1], pad_id=0)
    short = greedy_decode(bf16, prompts, [least - 1, 9], stop_ids=[-1], pad_id=0)
    monkeypatch.setattr(decoding, "PACK_MIN_STEPS", 10**9)
    plain = greedy_decode(bf16, prompts, budgets, stop_ids=[-1], pad_id=0)
    assert packed_at_end == [True, False, False]
    assert packed == plain
    assert short == [plain[0][: least - 1], plain[1]]
