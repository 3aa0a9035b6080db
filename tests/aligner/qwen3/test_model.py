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


def _items(runner):
    """Clips and runs of text of many lengths (one chunk and less, partial windows, tiles)."""
    lengths = [(0.7, 3), (3.0, 5), (12.3, 17), (27.7, 41), (41.0, 90)]
    return [
        runner.prepare(_audio(s, seed=k), [WORDS[i % 7] for i in range(n)])
        for k, (s, n) in enumerate(lengths)
    ]


def test_padding_to_a_few_shapes_changes_no_logit(runner, monkeypatch):
    from functools import partial

    from qalign.aligner.qwen3 import audio_encoder, text_model

    items = _items(runner)
    padded = runner.slot_logits(items)

    # The same passes at each sequence's own length: one call over all rows, the last
    # attention block and the last encoder window unpadded.
    def one_call(fn, *tensors, **sizes):
        return fn(*tensors)

    for module in (audio_encoder, text_model):
        monkeypatch.setattr(module, "by_rows", one_call)
    monkeypatch.setattr(
        text_model, "causal_attention", partial(text_model.causal_attention, whole_blocks=False)
    )
    monkeypatch.setattr(
        audio_encoder,
        "window_attention",
        partial(audio_encoder.window_attention, whole_window=False),
    )
    plain = runner.slot_logits(items)
    for a, b in zip(padded, plain, strict=True):
        assert torch.equal(a, b)  # bit for bit, so the decoded slots are the same too


def test_attention_padded_to_whole_blocks_only_where_it_is_exact():
    from qalign.aligner.qwen3.text_model import causal_attention

    gen = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(300, h, 16, generator=gen) for h in (4, 2, 2))
    half = [t.bfloat16() for t in (q, k, v)]
    padded = causal_attention(*half, 0.25, fused=False)  # bf16: whole blocks by default
    assert torch.equal(padded, causal_attention(*half, 0.25, fused=False, whole_blocks=False))
    # float32 stays at the sequence's own length by default: padding moves its last bits
    own = causal_attention(q, k, v, 0.25, fused=False)
    assert not torch.equal(own, causal_attention(q, k, v, 0.25, fused=False, whole_blocks=True))


def test_row_counts_stay_few_whatever_the_lengths(runner):
    from qalign.aligner.qwen3 import audio_encoder, shapes
    from qalign.aligner.qwen3.packed_linear import PackedLinear

    rows: dict[str, set[int]] = {"audio": set(), "text": set()}
    # Every projection but the encoder's conv_out (one row per 1 s chunk and step, in
    # groups of at most CONV_GROUP chunks: a bounded set) and the float32 head.
    model = runner.model.model
    skip = (runner.model.score, model.audio_tower.conv_out)
    audio = {
        id(m) for part in (model.audio_tower, model.multi_modal_projector) for m in part.modules()
    }

    def hook(stack: str):
        return lambda _m, args: rows[stack].add(args[0].shape[0])

    hooks = [
        m.register_forward_pre_hook(hook("audio" if id(m) in audio else "text"))
        for m in runner.model.modules()
        if isinstance(m, (torch.nn.Linear, PackedLinear)) and all(m is not s for s in skip)
    ]
    try:
        items = _items(runner)
        runner.slot_logits(items)  # one pack, and each item alone
        for item in items:
            runner.slot_logits([item])
    finally:
        for h in hooks:
            h.remove()
    text = set(range(shapes.ROW_STEP, shapes.ROW_TILE + 1, shapes.ROW_STEP))
    tower = model.audio_tower
    window = audio_encoder.window_rows(tower.n_window, tower.n_window_infer)
    assert window == 104  # 8 s windows of 13 positions per second
    step, tile = window, audio_encoder.TILE_WINDOWS * window
    audio_tiles = set(range(step, tile + 1, step))
    assert rows["text"] <= text, sorted(rows["text"] - text)
    assert rows["audio"] <= audio_tiles, sorted(rows["audio"] - audio_tiles)
    assert len(rows["text"]) >= 3
    assert len(rows["audio"]) >= 3
