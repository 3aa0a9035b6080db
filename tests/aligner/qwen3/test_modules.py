"""qalign.aligner.qwen3.modules: the plain-torch aligner equals transformers' model, weight for
weight, table for table and layer for layer (both layouts, fp32 and bf16)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from qalign.aligner.qwen3.model_config import aligner_config  # noqa: E402
from qalign.aligner.qwen3.modules import ForcedAlignerNetwork, sinusoid_table  # noqa: E402
from qalign.checkpoint import load_model  # noqa: E402


@pytest.fixture(scope="module")
def reference(parity_dir: Path):
    transformers = pytest.importorskip("transformers")
    return transformers.Qwen3ASRForTokenClassification.from_pretrained(
        parity_dir / "fa-tiny-hf", dtype=torch.float32
    ).eval()


@pytest.mark.parametrize("folder", ["fa-tiny", "fa-tiny-hf"])
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_weights_and_tables_equal_transformers(parity_dir, reference, folder, dtype) -> None:
    loaded = load_model(parity_dir / folder, "aligner", device="cpu", dtype=dtype)
    model = loaded.model
    assert isinstance(model, ForcedAlignerNetwork)
    ours, theirs = model.state_dict(), reference.state_dict()
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        assert ours[key].dtype == loaded.dtype and torch.equal(ours[key], value.to(loaded.dtype))
    buffers, ref_buffers = dict(model.named_buffers()), dict(reference.named_buffers())
    assert set(buffers) == {k for k in ref_buffers if not k.endswith("original_inv_freq")}
    for key, value in buffers.items():  # position tables: float32, bit for bit
        assert value.dtype == ref_buffers[key].dtype == torch.float32
        assert torch.equal(value, ref_buffers[key]), key


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_layers_compute_what_transformers_computes(parity_dir, reference, dtype) -> None:
    name = "fp32" if dtype == torch.float32 else "bf16"
    ours = load_model(parity_dir / "fa-tiny", "aligner", device="cpu", dtype=name).model
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(37, 64, generator=gen).to(dtype)
    with torch.inference_mode():  # the reference as loaded: its rotary table stays float32
        positions = torch.arange(300)[None] * 7
        got = ours.model.language_model.rotary_emb(x, positions)
        want = reference.model.language_model.rotary_emb(x, positions)
        assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))
    ref = copy.deepcopy(reference).to(dtype)
    with torch.inference_mode():
        pairs = [
            (ours.model.multi_modal_projector, ref.model.multi_modal_projector),
            (ours.model.language_model.layers[1].mlp, ref.model.language_model.layers[1].mlp),
            (ours.model.language_model.norm, ref.model.language_model.norm),
            (ours.model.audio_tower.layers[0].fc1, ref.model.audio_tower.layers[0].fc1),
        ]
        for mine, theirs in pairs:
            assert torch.equal(mine(x), theirs(x)), type(mine).__name__
        act = ours.model.audio_tower.layers[0].activation_fn
        assert torch.equal(act(x), ref.model.audio_tower.layers[0].activation_fn(x))


def test_sinusoid_table_matches_transformers() -> None:
    modeling = pytest.importorskip("transformers.models.qwen3_asr.modeling_qwen3_asr")
    for length, channels in ((13, 64), (13, 1024), (1500, 896)):
        want = modeling.SinusoidsPositionEmbedding(length, channels).positional_embedding
        assert torch.equal(sinusoid_table(length, channels), want)


def test_missing_sizes_take_transformers_defaults() -> None:
    transformers = pytest.importorskip("transformers")
    ref = transformers.Qwen3ASRConfig(num_labels=5000)
    cfg = aligner_config({"num_labels": 5000})
    audio, text = ref.audio_config, ref.text_config
    assert (cfg.audio.d_model, cfg.audio.layers, cfg.audio.heads, cfg.audio.ffn_dim) == (
        audio.d_model, audio.encoder_layers, audio.encoder_attention_heads, audio.encoder_ffn_dim,
    )  # fmt: skip
    assert (cfg.audio.output_dim, cfg.audio.conv_channels, cfg.audio.positions) == (
        audio.output_dim, audio.downsample_hidden_size, audio.max_position_embeddings,
    )  # fmt: skip
    for field in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                  "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_act",
                  "rms_norm_eps", "attention_bias"):  # fmt: skip
        assert getattr(cfg.text, field) == getattr(text, field), field
    assert cfg.text.rope_theta == text.rope_parameters["rope_theta"]
    assert cfg.head_bias == ref.token_classification_bias


@pytest.mark.parametrize(
    "native, needle",
    [
        ({"num_labels": 2}, "timestamp classes"),
        ({"num_labels": 9, "text_config": {"use_sliding_window": True}}, "sliding-window"),
        ({"num_labels": 9, "text_config": {"hidden_act": "tanh"}}, "activation"),
        ({"num_labels": 9, "audio_config": {"d_model": 30, "encoder_attention_heads": 4}}, "heads"),
        ({"num_labels": 9, "text_config": {"rope_parameters": {"rope_type": "yarn"}}}, "rope"),
    ],
)
def test_networks_it_cannot_build_are_refused(native, needle) -> None:
    with pytest.raises(ValueError, match=needle):
        aligner_config(native)


def test_building_imports_nothing_heavy(parity_dir: Path) -> None:
    """Building the network (no random init) and loading it import neither
    transformers nor torch._dynamo (about 1 s, pulled in by some meta-device inits)."""
    import subprocess
    import sys

    probe = (
        "import sys, torch\n"
        "from qalign.checkpoint import load_model\n"
        f"load_model({str(parity_dir / 'fa-tiny')!r}, 'aligner', device='cpu', dtype='bf16')\n"
        "print(sorted(m for m in ('transformers', 'torch._dynamo') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
