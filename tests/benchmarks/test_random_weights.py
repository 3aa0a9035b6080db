"""The random checkpoints of both benchmark models come from one helper (benchmarks/random_weights.py).

Checked on the tiny parity sizes: the weights are seeded, bf16, with norm scales 1,
biases 0 and matrices N(0, 0.02); both checkpoint builders write the same tensors in
the native and the original layout (under the renamed keys).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def mods():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    sys.path.insert(0, str(BENCH))
    try:
        yield {
            n: importlib.import_module(n)
            for n in ("random_weights", "aligner_checkpoint", "asr_checkpoint")
        }
    finally:
        sys.path.remove(str(BENCH))


def _aligner_config(mods, parity_dir: Path) -> dict:
    ck = mods["aligner_checkpoint"]
    native_tpl, _ = ck.find_templates(parity_dir)
    raw = json.loads((native_tpl / "config.json").read_text(encoding="utf-8"))
    return ck.native_config(raw, ck.TINY_SIZES)


def test_weights_are_seeded_bf16_with_the_documented_values(mods, parity_dir: Path) -> None:
    import torch
    from transformers import Qwen3ASRForTokenClassification

    rw = mods["random_weights"]
    config = _aligner_config(mods, parity_dir)
    a = rw.random_bf16_model(Qwen3ASRForTokenClassification, config, seed=3).state_dict()
    b = rw.random_bf16_model(Qwen3ASRForTokenClassification, config, seed=3).state_dict()
    c = rw.random_bf16_model(Qwen3ASRForTokenClassification, config, seed=4).state_dict()
    assert a.keys() == b.keys() == c.keys()
    matrices = [k for k, v in a.items() if v.ndim > 1]
    assert matrices and all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in matrices)
    assert all(v.dtype == torch.bfloat16 for v in a.values())
    for key, value in a.items():
        if value.ndim == 1:
            assert torch.all(value == (0.0 if key.endswith("bias") else 1.0)), key
    pooled = torch.cat([a[k].float().flatten() for k in matrices])
    assert abs(pooled.mean().item()) < 1e-3
    assert pooled.std().item() == pytest.approx(0.02, rel=0.05)


def test_renamed_maps_the_first_matching_prefix_and_refuses_unknown_names(mods) -> None:
    rw = mods["random_weights"]
    prefixes = (("model.audio_tower.", "thinker.audio_tower."), ("model.", "thinker.model."))
    assert (
        rw.renamed_key("model.audio_tower.conv.weight", prefixes)
        == "thinker.audio_tower.conv.weight"
    )
    assert rw.renamed_key("model.layers.0.w", prefixes) == "thinker.model.layers.0.w"
    with pytest.raises(ValueError, match="score.weight"):
        rw.renamed_key("score.weight", prefixes)


@pytest.mark.parametrize("which", ["aligner", "asr"])
def test_both_builders_write_the_same_tensors_in_both_layouts(
    mods, parity_dir: Path, tmp_path: Path, monkeypatch, which: str
) -> None:
    from safetensors.torch import load_file

    rw = mods["random_weights"]
    if which == "aligner":
        ck = mods["aligner_checkpoint"]
        built = ck.build_checkpoints(
            tmp_path, ck.TINY_SIZES, templates=ck.find_templates(parity_dir), seed=1
        )
        native_dir, original_dir, prefixes = built.native, built.original, ck._TO_ORIGINAL
    else:
        asr = mods["asr_checkpoint"]
        monkeypatch.setenv("QALIGN_SHARED", str(parity_dir.parent))
        raw = json.loads((parity_dir / "asr-tiny-hf" / "config.json").read_text(encoding="utf-8"))
        text = {k: raw["text_config"][k] for k in ("hidden_size", "num_hidden_layers", "head_dim")}
        audio = {"encoder_layers": raw["audio_config"]["encoder_layers"]}
        native_dir, original_dir = asr.build(tmp_path, audio, text, seed=1)
        prefixes = asr._TO_ORIGINAL
    native = {}
    for path in sorted(native_dir.glob("*.safetensors")):
        native.update(load_file(str(path)))
    original = load_file(str(original_dir / "model.safetensors"))
    # save_pretrained may drop a tied copy; every saved native tensor is in the original
    expected = rw.renamed(native, prefixes)
    assert expected.keys() <= original.keys()
    assert all((original[k] == v).all() for k, v in expected.items())
    for name in ("tokenizer.json", "config.json"):
        assert (native_dir / name).is_file() and (original_dir / name).is_file()
