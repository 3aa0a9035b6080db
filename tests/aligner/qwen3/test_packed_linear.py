"""Linear layers packed once for oneDNN: the same bits as ``nn.Linear``, rows independent."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from qalign.aligner.qwen3 import packed_linear  # noqa: E402
from qalign.aligner.qwen3.packed_linear import PackedLinear, pack_linears  # noqa: E402

needs_packing = pytest.mark.skipif(
    not packed_linear.can_pack(torch.bfloat16, torch.device("cpu")),
    reason="this torch or CPU has no oneDNN bf16 products",
)


def _linear(inp: int, out: int, bias: bool, seed: int) -> torch.nn.Linear:
    gen = torch.Generator().manual_seed(seed)
    layer = torch.nn.Linear(inp, out, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(out, inp, generator=gen) * 0.05)
        if bias:
            layer.bias.copy_(torch.randn(out, generator=gen))
    return layer.to(torch.bfloat16)


@needs_packing
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize(("inp", "out"), [(64, 192), (256, 64), (96, 96)])
def test_packed_equals_the_linear_bit_for_bit(inp: int, out: int, bias: bool) -> None:
    layer = _linear(inp, out, bias, seed=inp + out)
    packed = PackedLinear(layer)
    assert not packed.packed
    gen = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        for rows in (1, 13, 300):
            x = torch.randn(rows, inp, generator=gen).to(torch.bfloat16)
            assert torch.equal(packed(x), layer(x)), rows
        x3 = torch.randn(2, 7, inp, generator=gen).to(torch.bfloat16)
        assert packed(x3).shape == (2, 7, out)
        assert torch.equal(packed(x3), layer(x3))
    assert packed.packed and packed._weight is None  # the original is no longer held


@needs_packing
def test_packed_rows_do_not_depend_on_the_other_rows() -> None:
    packed = PackedLinear(_linear(128, 320, True, seed=3))
    x = torch.randn(700, 128, generator=torch.Generator().manual_seed(2)).to(torch.bfloat16)
    with torch.inference_mode():
        whole = packed(x)
        for a, b in [(0, 1), (5, 37), (100, 612), (699, 700)]:
            assert torch.equal(packed(x[a:b]), whole[a:b]), (a, b)


def test_only_bf16_cpu_linears_are_replaced() -> None:
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 8), torch.nn.Sequential(torch.nn.Linear(8, 4)), torch.nn.LayerNorm(4)
    )
    assert pack_linears(model) == 0  # float32: left as it is
    assert [type(m) for m in model.modules()].count(torch.nn.Linear) == 2
    if not packed_linear.can_pack(torch.bfloat16, torch.device("cpu")):
        pytest.skip("this torch or CPU has no oneDNN bf16 products")
    model.to(torch.bfloat16)
    assert pack_linears(model) == 2
    assert isinstance(model[0], PackedLinear) and isinstance(model[1][0], PackedLinear)
    assert isinstance(model[2], torch.nn.LayerNorm)


@needs_packing
@pytest.mark.parametrize("seconds", [[2.0, 0.6, 3.1]])
def test_bf16_aligner_logits_are_the_unpacked_models_and_batch_equals_single(
    parity_dir: Path, monkeypatch, seconds: list[float]
) -> None:
    pytest.importorskip("transformers")
    import numpy as np

    from qalign.aligner.qwen3.model import Qwen3AlignerModel
    from qalign.checkpoint import load_model

    def runner() -> Qwen3AlignerModel:
        return Qwen3AlignerModel(load_model(parity_dir / "fa-tiny-hf", "aligner", dtype="bf16"))

    packed = runner()
    layers = packed.model.model.language_model.layers
    assert isinstance(layers[0].mlp.down_proj, PackedLinear)
    assert isinstance(packed.model.model.audio_tower.layers[0].fc1, PackedLinear)
    monkeypatch.setattr(packed_linear, "pack_linears", lambda *modules, **kw: 0)
    plain = runner()
    assert type(plain.model.model.language_model.layers[0].mlp.down_proj) is torch.nn.Linear

    rng = np.random.default_rng(5)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog"]
    items = [
        packed.prepare(
            (rng.standard_normal(int(s * 16000)) * 0.1).astype(np.float32), words[: 3 + i * 3]
        )
        for i, s in enumerate(seconds)
    ]
    batched = packed.slot_logits(items)
    for item, logits, reference in zip(items, batched, plain.slot_logits(items), strict=True):
        assert torch.equal(logits, reference)
        assert torch.equal(packed.slot_logits([item])[0], logits)


@needs_packing
def test_without_a_pass_counter_a_layer_packs_on_its_second_call() -> None:
    """Without a pass counter every call counts as a pass: the first call uses the
    original weight, the second packs it; every call gives the linear's bits."""
    layer = _linear(64, 96, True, seed=8)
    packed = PackedLinear(layer)
    x = torch.randn(5, 64, generator=torch.Generator().manual_seed(9)).to(torch.bfloat16)
    with torch.inference_mode():
        assert torch.equal(packed(x), layer(x))
        assert not packed.packed and packed._weight is not None
        assert torch.equal(packed(x), layer(x))
        assert packed.packed and packed._weight is None
        assert torch.equal(packed(x), layer(x))


@needs_packing
def test_layers_pack_in_the_second_pass_not_on_a_second_call_in_the_first() -> None:
    """A pass that calls a layer several times (row tiles) keeps the original weight;
    the first call of the next pass packs it, with the same bits throughout."""
    model = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.Linear(96, 32))
    model.to(torch.bfloat16)
    plain = [model[0], model[1]]
    passes = packed_linear.PassCounter()
    assert pack_linears(model, passes=passes) == 2
    gen = torch.Generator().manual_seed(10)
    tiles = [torch.randn(rows, 64, generator=gen).to(torch.bfloat16) for rows in (512, 64, 128)]
    with torch.inference_mode():
        expected = [plain[1](plain[0](t)) for t in tiles]
        passes.begin()
        for tile, want in zip(tiles, expected, strict=True):
            assert torch.equal(model(tile), want)
        assert not model[0].packed and not model[1].packed
        passes.begin()
        assert torch.equal(model(tiles[0]), expected[0])
        assert model[0].packed and model[1].packed
        for tile, want in zip(tiles, expected, strict=True):
            assert torch.equal(model(tile), want)


@needs_packing
def test_the_aligner_packs_nothing_in_its_first_pass(parity_dir: Path) -> None:
    """A one-file run's single pass runs on the mapped weights; the second pass packs."""
    import numpy as np

    from qalign.aligner.qwen3.model import Qwen3AlignerModel
    from qalign.checkpoint import load_model

    runner = Qwen3AlignerModel(load_model(parity_dir / "fa-tiny", "aligner", dtype="bf16"))
    layers = [m for m in runner.model.modules() if isinstance(m, PackedLinear)]
    assert layers
    rng = np.random.default_rng(6)
    # Two clips (the encoder runs twice) and over 512 rows (the text layers run per tile).
    items = [
        runner.prepare((rng.standard_normal(s * 16000) * 0.1).astype(np.float32), ["a", "word"])
        for s in (40, 3)
    ]
    first = runner.slot_logits(items)
    assert not any(layer.packed for layer in layers)
    assert torch.equal(runner.slot_logits(items[:1])[0], first[0])
    assert all(layer.packed for layer in layers)


def _bf16_checkpoint(parity_dir: Path, folder: Path) -> Path:
    """fa-tiny-hf saved in bf16 (its own file is float32, which a bf16 load copies: no
    weight would stay file-mapped, and packing would release nothing)."""
    import shutil

    from safetensors.torch import load_file, save_file

    source = parity_dir / "fa-tiny-hf"
    folder.mkdir()
    for file in source.iterdir():
        if file.is_file() and file.suffix != ".safetensors":
            shutil.copy(file, folder / file.name)
    weights = load_file(str(source / "model.safetensors"))
    save_file(
        {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in weights.items()},
        str(folder / "model.safetensors"),
    )
    return folder


@needs_packing
def test_a_bf16_checkpoint_packs_and_releases_its_mapped_weights_with_the_same_logits(
    parity_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    """The whole path on a checkpoint stored in bf16: the layers' originals are views
    of the mapped file (mapped ahead by a thread, which the second pass stops), the
    second pass packs them and releases their pages, and three passes give the logits
    of a model that never packs, bit for bit."""
    pytest.importorskip("transformers")
    import numpy as np

    from qalign.aligner.qwen3 import Qwen3Aligner
    from qalign.weights import is_file_mapped

    folder = _bf16_checkpoint(parity_dir, tmp_path / "fa-tiny-bf16")
    runner = Qwen3Aligner.from_pretrained(folder, dtype="bf16", device="cpu").runner
    layers = [m for m in runner.model.modules() if isinstance(m, PackedLinear)]
    assert layers and all(is_file_mapped(layer.original) for layer in layers)
    released: list[bool] = []
    release = packed_linear.release_pages
    monkeypatch.setattr(
        packed_linear, "release_pages", lambda t: (released.append(release(t)), released[-1])[1]
    )
    rng = np.random.default_rng(11)
    words = ["the", "quick", "brown", "fox", "jumps", "over"]
    items = [
        runner.prepare((rng.standard_normal(int(s * 16000)) * 0.1).astype(np.float32), words)
        for s in (2.5, 1.2)
    ]
    passes = [runner.slot_logits(items)]
    assert not any(layer.packed for layer in layers) and not runner.passes.packing.is_set()
    passes += [runner.slot_logits(items), runner.slot_logits(items)]
    assert all(layer.packed for layer in layers) and runner.passes.packing.is_set()
    assert len(released) == len(layers) and any(released)  # tiny layers may hold no whole page

    monkeypatch.setattr(packed_linear, "can_pack", lambda dtype, device: False)
    plain = Qwen3Aligner.from_pretrained(folder, dtype="bf16", device="cpu").runner
    assert not any(isinstance(m, PackedLinear) for m in plain.model.modules())
    reference = plain.slot_logits(items)
    for logits in passes:
        for got, want in zip(logits, reference, strict=True):
            assert torch.equal(got, want)
