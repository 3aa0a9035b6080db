"""qalign.checkpoint: strict loading of aligner / ASR checkpoints in both layouts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from safetensors.torch import load_file, save_file  # noqa: E402

from qalign import checkpoint, devices  # noqa: E402
from qalign.checkpoint import (  # noqa: E402
    load_model,
    rename_original_key,
    resolve_device,
    resolve_dtype,
)
from qalign.errors import ModelLoadError, ModelNotFoundError, QalignError  # noqa: E402

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def random_hf(parity_dir: Path, tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    """A tiny aligner with fresh random weights, saved by transformers in the native layout."""
    from transformers import Qwen3ASRConfig, Qwen3ASRForTokenClassification

    config = Qwen3ASRConfig.from_pretrained(parity_dir / "fa-tiny-hf")
    torch.manual_seed(1234)
    model = Qwen3ASRForTokenClassification(config)
    folder = tmp_path_factory.mktemp("ckpt") / "random-hf"
    model.save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copy(parity_dir / "fa-tiny-hf" / name, folder / name)
    return folder, _state(model)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_native_round_trip(random_hf) -> None:
    folder, expected = random_hf
    loaded = load_model(folder, "aligner", device="cpu", dtype="fp32")
    got = _state(loaded.model)
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    assert not loaded.model.training
    assert loaded.config.layout == "native" and loaded.config.kind == "aligner"
    tok = loaded.tokenizer
    assert loaded.config.timestamp_token_id == tok.convert_tokens_to_ids("<timestamp>")
    assert loaded.config.audio_start_token_id == tok.convert_tokens_to_ids("<|audio_start|>")
    assert loaded.config.audio_end_token_id == tok.convert_tokens_to_ids("<|audio_end|>")
    assert loaded.config.audio_pad_token_id == tok.convert_tokens_to_ids("<|audio_pad|>")
    assert loaded.config.num_labels == loaded.model.score.out_features
    assert loaded.config.max_duration == pytest.approx(
        loaded.config.num_labels * loaded.config.timestamp_segment_time / 1000
    )


def _original_from(folder: Path, parity_dir: Path, dst: Path) -> Path:
    """Rewrite a native aligner folder in the original (thinker) layout."""
    dst.mkdir()
    native = load_file(folder / "model.safetensors")
    reverse = {}
    for key, value in native.items():
        if key.startswith("model.language_model."):
            new = "thinker.model." + key[len("model.language_model.") :]
        elif key.startswith("score."):
            new = "thinker.lm_head." + key[len("score.") :]
        elif key.startswith("model.multi_modal_projector.linear_1."):
            new = "thinker.audio_tower.proj1." + key.split("linear_1.", 1)[1]
        elif key.startswith("model.multi_modal_projector.linear_2."):
            new = "thinker.audio_tower.proj2." + key.split("linear_2.", 1)[1]
        else:
            new = "thinker." + key[len("model.") :]
        assert rename_original_key(new, "aligner") == key
        reverse[new] = value.contiguous()
    save_file(reverse, dst / "model.safetensors")
    shutil.copy(parity_dir / "fa-tiny" / "config.json", dst / "config.json")
    for name in TOKENIZER_FILES:
        shutil.copy(parity_dir / "fa-tiny" / name, dst / name)
    return dst


def test_original_layout_is_converted(random_hf, parity_dir: Path, tmp_path: Path) -> None:
    folder, expected = random_hf
    original = _original_from(folder, parity_dir, tmp_path / "orig")
    loaded = load_model(original, "aligner", device="cpu", dtype="fp32")
    got = _state(loaded.model)
    assert loaded.config.layout == "original"
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    # Plain transformers would build a default-size model here and random-init it.
    assert loaded.model.config.text.hidden_size == 64


def test_parity_layouts_hold_the_same_weights(parity_dir: Path) -> None:
    for kind, original, native in (
        ("aligner", "fa-tiny", "fa-tiny-hf"),
        ("asr", "asr-tiny", "asr-tiny-hf"),
    ):
        a = load_model(parity_dir / original, kind, device="cpu", dtype="fp32")
        b = load_model(parity_dir / native, kind, device="cpu", dtype="fp32")
        sa, sb = _state(a.model), _state(b.model)
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), kind
        assert a.config.audio_pad_token_id == b.config.audio_pad_token_id
        assert a.config.eos_token_ids and set(a.config.eos_token_ids) <= set(b.config.eos_token_ids)
        if kind == "aligner":
            assert a.config.timestamp_token_id == b.config.timestamp_token_id
            assert a.config.num_labels == b.config.num_labels
            assert a.config.timestamp_segment_time == b.config.timestamp_segment_time
            assert a.config.support_languages and "English" in a.config.support_languages
        else:
            assert a.config.timestamp_token_id is None and a.config.num_labels is None
            assert type(a.model).__name__ == "Qwen3ASRForConditionalGeneration"


def test_missing_weight_is_refused(random_hf, tmp_path: Path) -> None:
    folder = _copy(random_hf[0], tmp_path / "missing")
    weights = load_file(folder / "model.safetensors")
    dropped = next(k for k in weights if "layers.1.mlp" in k)
    del weights[dropped]
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(ModelLoadError, match="missing") as info:
        load_model(folder, "aligner", device="cpu", dtype="fp32")
    assert str(folder) in str(info.value)
    assert dropped in str(info.value)


def test_missing_weight_in_original_layout_is_refused(
    random_hf, parity_dir: Path, tmp_path: Path
) -> None:
    original = _original_from(random_hf[0], parity_dir, tmp_path / "orig")
    weights = load_file(original / "model.safetensors")
    del weights["thinker.lm_head.weight"]
    save_file(weights, original / "model.safetensors")
    with pytest.raises(ModelLoadError, match="missing.*score.weight"):
        load_model(original, "aligner", device="cpu", dtype="fp32")


def test_unexpected_weight_is_refused(random_hf, tmp_path: Path) -> None:
    folder = _copy(random_hf[0], tmp_path / "extra")
    weights = load_file(folder / "model.safetensors")
    weights["model.language_model.layers.0.extra_gate.weight"] = torch.zeros(4, 4)
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(ModelLoadError, match="unexpected.*extra_gate") as info:
        load_model(folder, "aligner", device="cpu", dtype="fp32")
    assert str(folder) in str(info.value)


def test_wrong_shape_is_refused(random_hf, tmp_path: Path) -> None:
    folder = _copy(random_hf[0], tmp_path / "shape")
    weights = load_file(folder / "model.safetensors")
    weights["score.weight"] = torch.zeros(7, weights["score.weight"].shape[1])
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(ModelLoadError, match=str(folder)):
        load_model(folder, "aligner", device="cpu", dtype="fp32")


def test_pickle_only_weights_are_refused(random_hf, tmp_path: Path) -> None:
    folder = _copy(random_hf[0], tmp_path / "pickle")
    torch.save(load_file(folder / "model.safetensors"), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="safetensors") as info:
        load_model(folder, "aligner", device="cpu", dtype="fp32")
    assert "pytorch_model.bin" in str(info.value) and str(folder) in str(info.value)


def test_no_weights_at_all(random_hf, tmp_path: Path) -> None:
    folder = _copy(random_hf[0], tmp_path / "empty")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match="no model weights"):
        load_model(folder, "aligner", device="cpu", dtype="fp32")


def test_wrong_kind_is_refused(parity_dir: Path) -> None:
    for folder, kind in (
        ("asr-tiny-hf", "aligner"),
        ("asr-tiny", "aligner"),
        ("fa-tiny", "asr"),
        ("fa-tiny-hf", "asr"),
    ):
        with pytest.raises(ModelLoadError, match="checkpoint, but") as info:
            load_model(parity_dir / folder, kind, device="cpu", dtype="fp32")
        assert folder in str(info.value)


def test_foreign_model_type_is_refused(random_hf, tmp_path: Path) -> None:
    folder = _copy(random_hf[0], tmp_path / "bert")
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "bert"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="'bert' is not a Qwen3"):
        load_model(folder, "aligner", device="cpu", dtype="fp32")


def test_missing_or_broken_config(random_hf, tmp_path: Path) -> None:
    folder = _copy(random_hf[0], tmp_path / "noconfig")
    (folder / "config.json").unlink()
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(folder, "aligner", device="cpu", dtype="fp32")
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="cannot be read"):
        load_model(folder, "aligner", device="cpu", dtype="fp32")


def test_nonexistent_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model"
    with pytest.raises(ModelLoadError, match="does not exist") as info:
        load_model(missing, "aligner", device="cpu")
    assert str(missing) in str(info.value)
    assert not isinstance(info.value, ModelNotFoundError)


def test_unreachable_hub_id_fails_fast_with_a_hint(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError) as info:
        load_model("qalign-tests/no-such-aligner", "aligner", device="cpu")
    message = str(info.value)
    assert "qalign-tests/no-such-aligner" in message
    assert "--model /path/to/folder" in message and "QALIGN_ALIGNER_MODEL" in message
    assert "\n" not in message
    with pytest.raises(ModelNotFoundError, match="QALIGN_ASR_MODEL"):
        load_model("qalign-tests/no-such-asr", "asr", device="cpu")


def test_environment_variable_names_the_default_model(monkeypatch, parity_dir: Path) -> None:
    monkeypatch.setenv("QALIGN_ALIGNER_MODEL", str(parity_dir / "fa-tiny-hf"))
    loaded = load_model(None, "aligner", device="cpu", dtype="fp32")
    assert loaded.source == str(parity_dir / "fa-tiny-hf")
    monkeypatch.delenv("QALIGN_ALIGNER_MODEL")
    assert checkpoint.resolve_model_name(None, "aligner") == "Qwen/Qwen3-ForcedAligner-0.6B"


def test_bf16_load_keeps_position_tables_in_fp32(parity_dir: Path) -> None:
    loaded = load_model(parity_dir / "fa-tiny", "aligner", device="cpu", dtype="bf16")
    assert loaded.dtype == torch.bfloat16
    assert {p.dtype for p in loaded.model.parameters()} == {torch.bfloat16}
    buffers = dict(loaded.model.named_buffers())
    assert buffers["model.language_model.rotary_emb.inv_freq"].dtype == torch.float32


def test_resolve_device(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("CPU") == "cpu"
    with pytest.raises(QalignError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(QalignError, match="MPS is not available"):
        resolve_device("mps")
    with pytest.raises(QalignError, match="unknown device"):
        resolve_device("gpu0")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"


def test_resolve_dtype(monkeypatch) -> None:
    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: True)
    assert resolve_dtype("auto", "cpu") == torch.bfloat16
    monkeypatch.setattr(devices, "cpu_has_fast_bf16", lambda: False)
    assert resolve_dtype("auto", "cpu") == torch.float32
    assert resolve_dtype("auto", "mps") == torch.float32
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_dtype("auto", "cuda") == torch.bfloat16
    assert resolve_dtype("fp32", "cuda") == torch.float32
    assert resolve_dtype("bfloat16", "cpu") == torch.bfloat16
    assert resolve_dtype("float16", "cpu") == torch.float16
    with pytest.raises(QalignError, match="unknown dtype"):
        resolve_dtype("int8", "cpu")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    for flags, fast in (
        ("fpu sse avx512f avx512_bf16", True),
        ("fpu sse amx_bf16 amx_tile", True),
        ("fpu sse avx2 avx512f", False),
    ):
        info.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
        assert checkpoint.cpu_has_fast_bf16(info) is fast
    assert checkpoint.cpu_has_fast_bf16(tmp_path / "absent") is False
