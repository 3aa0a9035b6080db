"""The preallocated decoding step: the same numbers as the model's own step, nothing large allocated."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from qalign.aligner.qwen3.text_model import TextModel  # noqa: E402
from qalign.asr.batch_decoder import BatchDecoder, can_pack  # noqa: E402


@pytest.fixture(scope="module", params=["fp32", "bf16"])
def model(request: pytest.FixtureRequest, parity_dir: Path):
    from qalign.checkpoint import load_model

    return load_model(parity_dir / "asr-tiny-hf", "asr", device="cpu", dtype=request.param).model


def _prompts(model, lengths: list[int]) -> list:
    gen = torch.Generator().manual_seed(sum(lengths))
    width = model.model.language_model.config.hidden_size
    return [torch.randn(n, width, generator=gen).to(model.dtype) for n in lengths]


def _reference_steps(model, prompts, fed: list[list[int]]) -> list:
    """Hidden states of TextModel.step (the model's modules, fresh tensors every step)."""
    text = TextModel(model.model.language_model)
    embed = model.model.language_model.get_input_embeddings()
    cache = text.new_cache(len(prompts), max(p.shape[0] for p in prompts) + len(fed), prompts[0])
    out = [text.prefill(prompts, cache)]
    for ids in fed:
        out.append(text.step(embed(torch.tensor(ids)), cache))
    return out


def _packs(model, pack: bool) -> bool:
    """Whether a decoder asked to ``pack`` packs; skips a packing test where nothing can be packed."""
    packs = pack and can_pack(model.dtype, torch.device("cpu"))
    if pack and model.dtype == torch.bfloat16 and not packs:
        pytest.skip("this torch or CPU has no oneDNN bf16 packing")
    return packs


@pytest.mark.parametrize("pack", [False, True], ids=["plain", "packed"])
@torch.inference_mode()
def test_steps_equal_the_model_modules_bit_for_bit(model, pack: bool) -> None:
    packs = _packs(model, pack)
    prompts = _prompts(model, [9, 30, 17])
    fed = [[5, 6, 7], [100, 2, 3], [4000, 4001, 4002], [1, 1, 1]]
    expected = _reference_steps(model, prompts, fed)
    decoder = BatchDecoder(model, 3, 30 + len(fed), prompts[0], pack=pack)
    got = [decoder.prefill(prompts).clone()]
    # Packing only for bf16 (fp32 keeps the plain products whatever is asked).
    assert (decoder.packed is not None) == packs == (pack and model.dtype == torch.bfloat16)
    for ids in fed:
        got.append(decoder.step(torch.tensor(ids)).clone())
    for step, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert torch.equal(a, b), (model.dtype, step, (a.float() - b.float()).abs().max())
    ids = decoder.choose(got[-1])
    assert ids.tolist() == model.lm_head(expected[-1]).argmax(-1).tolist()


@torch.inference_mode()
def test_growing_mid_decode_keeps_the_cache(model) -> None:
    """Growing copies every filled position; the steps after it agree with a roomy cache.

    Attention reads the whole capacity, so two capacities sum the same terms plus a
    different number of exact zeros: equal up to the product's summation order.
    """
    prompts = _prompts(model, [12, 20])
    fed = [[3, 4], [5, 6], [7, 8], [9, 10]]
    roomy = BatchDecoder(model, 2, 20 + len(fed), prompts[0])
    tight = BatchDecoder(model, 2, 21, prompts[0])  # room for one answer position
    roomy.prefill(prompts)
    tight.prefill(prompts)
    tol = 1e-5 if model.dtype == torch.float32 else 3e-2
    for ids in fed:
        if int(tight.cache.lengths.max()) >= tight.capacity:
            before = tight.cache.keys.clone()
            tight.grow(tight.capacity + 1)
            assert torch.equal(tight.cache.keys[:, :, :, : before.shape[3]], before)
            assert torch.isinf(tight.cache.bias[:, before.shape[3] :]).all()
        a = roomy.step(torch.tensor(ids)).clone()
        b = tight.step(torch.tensor(ids))
        assert torch.allclose(a.float(), b.float(), atol=tol, rtol=tol)
        assert roomy.choose(a).tolist() == tight.choose(b).tolist()
    assert tight.capacity == 24
    n = 24
    assert torch.equal(tight.cache.lengths, roomy.cache.lengths)
    assert torch.allclose(
        tight.cache.keys[:, :, :, :n].float(), roomy.cache.keys[:, :, :, :n].float(), atol=tol
    )


@pytest.mark.parametrize("pack", [False, True], ids=["plain", "packed"])
@torch.inference_mode()
def test_a_step_allocates_nothing_sized_by_the_cache_or_the_vocabulary(model, pack: bool) -> None:
    from torch.profiler import ProfilerActivity, profile

    _packs(model, pack)
    prompts = _prompts(model, [40, 50, 60])
    decoder = BatchDecoder(model, 3, 70, prompts[0], pack=pack)
    hidden = decoder.prefill(prompts)
    ids = decoder.choose(hidden).clone()
    buffers = [decoder.cache.keys, decoder.cache.values, decoder.scores, decoder.logits]
    pointers = [b.data_ptr() for b in buffers]
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        for _ in range(3):
            ids = decoder.choose(decoder.step(ids)).clone()
    cfg = model.model.language_model.config
    widest = max(cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim)
    # The fused norms' few temporaries: a couple of row-blocks of activations in float32;
    # packed, the products' results (3 rows of q+k+v or of gate+up, in bf16).
    packed_rows = (
        3 * max(widest + 2 * cfg.num_key_value_heads * cfg.head_dim, 2 * cfg.intermediate_size) * 2
    )
    small = max(2 * 3 * widest * 4, packed_rows if decoder.packed is not None else 0)
    largest = max((e.cpu_memory_usage for e in prof.events() if e.cpu_memory_usage > 0), default=0)
    assert 0 < largest <= small, largest
    # What a cache-sized or vocabulary-sized allocation would have been:
    assert small < min(3 * cfg.num_attention_heads * 50 * 4, 3 * cfg.vocab_size * 2)
    assert [b.data_ptr() for b in buffers] == pointers


@torch.inference_mode()
def test_release_drops_the_packed_weights_and_the_cache(model) -> None:
    packs = _packs(model, True)
    prompts = _prompts(model, [5, 8])
    decoder = BatchDecoder(model, 2, 10, prompts[0], pack=True)
    decoder.prefill(prompts)
    if packs:
        layers = len(model.model.language_model.layers)
        assert decoder.packed is not None and len(decoder.packed) == layers
    decoder.release()
    assert decoder.packed is None and decoder.cache is None


@torch.inference_mode()
def test_a_failed_packing_decodes_with_the_plain_weights(
    model, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qalign.asr import batch_decoder

    _packs(model, True)
    prompts = _prompts(model, [6, 11])
    plain = BatchDecoder(model, 2, 14, prompts[0])
    expected = plain.step(plain.choose(plain.prefill(prompts)).clone()).clone()

    def no_memory(weight, rows):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(batch_decoder, "pack_weight", no_memory)
    decoder = BatchDecoder(model, 2, 14, prompts[0], pack=True)
    hidden = decoder.prefill(prompts)
    assert decoder.packed is None and not decoder.pack
    assert torch.equal(decoder.step(decoder.choose(hidden).clone()), expected)
