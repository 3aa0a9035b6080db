"""benchmarks/checkpoint_skeleton.py: a checkpoint pair stripped of its weights and refilled.

Built on the tiny sizes (as ``bench_gpu.py --tiny`` builds them): the skeleton
holds no weights but lists every tensor under both names; refilled, both
layouts have the builders' headers, the same tensors, the documented 1-d
values, and load through qalign to the same slot logits. Every test uses the
module's built pair (about 13 s to build), hence slow.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
WEIGHTS = "model.safetensors"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mods():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("safetensors")
    sys.path.insert(0, str(BENCH))
    try:
        yield {n: importlib.import_module(n) for n in ("checkpoint_skeleton", "bench_gpu")}
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def built(mods, parity_dir: Path, tmp_path_factory) -> dict[str, Path]:
    """``{"aligner": folder, "asr": folder}`` of tiny random pairs, built as ``--tiny`` does."""
    workdir = tmp_path_factory.mktemp("built")
    args = argparse.Namespace(skeleton=None, workdir=str(workdir), tiny=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QALIGN_SHARED", str(parity_dir.parent))
        folders = mods["bench_gpu"].checkpoints(args)
    return {"aligner": folders["align"], "asr": folders["asr"]}


@pytest.fixture(scope="module")
def skeleton(mods, built, tmp_path_factory) -> dict[str, Path]:
    """Stripped copies of both pairs (not yet refilled)."""
    root = tmp_path_factory.mktemp("skeleton")
    out = {}
    for kind, folder in built.items():
        mods["checkpoint_skeleton"].strip(folder, root / kind, kind)
        out[kind] = root / kind
    return out


@pytest.fixture(scope="module")
def refilled(mods, skeleton, tmp_path_factory) -> dict[str, Path]:
    """The skeletons copied and refilled (the stripped ones stay as they are)."""
    root = tmp_path_factory.mktemp("refilled")
    out = {}
    for kind, folder in skeleton.items():
        shutil.copytree(folder, root / kind)
        mods["checkpoint_skeleton"].refill(root / kind, seed=5)
        out[kind] = root / kind
    return out


@pytest.mark.parametrize("kind", ["aligner", "asr"])
def test_skeleton_lists_every_tensor_and_holds_no_weights(mods, built, skeleton, kind) -> None:
    sk = mods["checkpoint_skeleton"]
    folder = skeleton[kind]
    assert not list(folder.rglob("*.safetensors"))
    for layout in ("native", "original"):
        assert (folder / layout / "config.json").is_file()
        assert (folder / layout / "tokenizer.json").is_file()
    manifest = json.loads((folder / "weights.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == kind
    native = sk.read_header(built[kind] / "native" / WEIGHTS)
    original = sk.read_header(built[kind] / "original" / WEIGHTS)
    tensors = manifest["tensors"]
    assert {t["native"] for t in tensors} == set(native)
    assert {t["original"] for t in tensors} == set(original)
    assert len(tensors) == len(native) == len(original)
    for t in tensors:
        assert {"dtype": t["dtype"], "shape": t["shape"]} == native[t["native"]]
        assert {"dtype": t["dtype"], "shape": t["shape"]} == original[t["original"]]
    # the renaming is not the identity: both names are really listed
    assert any(t["native"] != t["original"] for t in tensors)


@pytest.mark.parametrize("kind", ["aligner", "asr"])
def test_refilled_layouts_match_the_built_headers_and_each_other(
    mods, built, refilled, kind
) -> None:
    import torch
    from safetensors.torch import load_file

    sk = mods["checkpoint_skeleton"]
    for layout in ("native", "original"):
        assert sk.read_header(refilled[kind] / layout / WEIGHTS) == sk.read_header(
            built[kind] / layout / WEIGHTS
        )
    manifest = json.loads((refilled[kind] / "weights.json").read_text(encoding="utf-8"))
    native = load_file(str(refilled[kind] / "native" / WEIGHTS))
    original = load_file(str(refilled[kind] / "original" / WEIGHTS))
    matrices = []
    for t in manifest["tensors"]:
        a, b = native[t["native"]], original[t["original"]]
        assert a.dtype == b.dtype and torch.equal(a, b), t["native"]
        if a.ndim == 1:
            want = 0.0 if t["native"].endswith("bias") else 1.0
            assert torch.all(a == want), t["native"]
        else:
            matrices.append(a.float().flatten())
    pooled = torch.cat(matrices)
    assert pooled.std().item() == pytest.approx(0.02, rel=0.05)
    assert abs(pooled.mean().item()) < 1e-3


def test_refilled_layouts_load_through_qalign_to_the_same_slot_logits(refilled) -> None:
    import numpy as np
    import torch

    from qalign.aligner.qwen3 import Qwen3Aligner

    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(2 * 16000) * 0.1).astype(np.float32)
    words = ["the", "quick", "brown", "fox"]
    logits = []
    for layout in ("native", "original"):
        aligner = Qwen3Aligner.from_pretrained(
            refilled["aligner"] / layout, device="cpu", dtype="fp32"
        )
        (out,) = aligner.runner.slot_logits([aligner.runner.prepare(audio, words)])
        logits.append(out)
    assert logits[0].shape[0] == 2 * len(words)  # a start and an end slot per word
    assert torch.isfinite(logits[0]).all()
    assert torch.equal(logits[0], logits[1])


def test_refill_leaves_a_filled_skeleton_alone(mods, refilled) -> None:
    sk = mods["checkpoint_skeleton"]
    folder = refilled["aligner"]
    paths = [folder / layout / WEIGHTS for layout in ("native", "original")]
    before = [p.stat().st_mtime_ns for p in paths]
    manifest = json.loads((folder / "weights.json").read_text(encoding="utf-8"))
    count = sum(math.prod(t["shape"]) for t in manifest["tensors"])
    assert sk.refill(folder, seed=9) == count
    assert [p.stat().st_mtime_ns for p in paths] == before


def test_refill_rewrites_a_layout_whose_file_is_missing_or_wrong(mods, skeleton, tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    sk = mods["checkpoint_skeleton"]
    folder = tmp_path / "aligner"
    shutil.copytree(skeleton["aligner"], folder)
    sk.refill(folder)
    native, original = (folder / layout / WEIGHTS for layout in ("native", "original"))
    want = sk.read_header(original)
    original.unlink()
    sk.refill(folder)
    assert sk.read_header(original) == want
    # an original file that lost a tensor is not "already filled"
    state = load_file(str(original))
    state.pop(sorted(state)[0])
    save_file(state, str(original))
    sk.refill(folder)
    assert sk.read_header(original) == want
    assert sk.read_header(native) == {
        t["native"]: {"dtype": t["dtype"], "shape": t["shape"]}
        for t in json.loads((folder / "weights.json").read_text(encoding="utf-8"))["tensors"]
    }


@pytest.mark.parametrize("damage", ["empty", "cut_in_data", "cut_in_header"])
def test_refill_rewrites_an_empty_or_cut_short_file(mods, skeleton, tmp_path, damage) -> None:
    """An interrupted write (empty, or short of its last data bytes) is not "already filled"."""
    from safetensors.torch import load_file

    sk = mods["checkpoint_skeleton"]
    folder = tmp_path / "aligner"
    shutil.copytree(skeleton["aligner"], folder)
    sk.refill(folder, seed=2)
    native = folder / "native" / WEIGHTS
    whole = native.read_bytes()
    cut = {"empty": 0, "cut_in_data": len(whole) - 16, "cut_in_header": 20}[damage]
    native.write_bytes(whole[:cut])
    if damage == "cut_in_data":  # the header alone still reads as the wanted one
        manifest = json.loads((folder / "weights.json").read_text(encoding="utf-8"))
        assert sk.read_header(native) == {
            t["native"]: {"dtype": t["dtype"], "shape": t["shape"]} for t in manifest["tensors"]
        }
    sk.refill(folder, seed=2)
    assert native.read_bytes() == whole
    assert len(load_file(str(native))) == len(load_file(str(folder / "original" / WEIGHTS)))
    assert not list(folder.rglob("*.tmp"))


@pytest.mark.parametrize("change", ["shape", "extra", "missing"])
def test_strip_refuses_layouts_that_disagree(mods, built, tmp_path, change) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    sk = mods["checkpoint_skeleton"]
    pair = tmp_path / "pair"
    shutil.copytree(built["aligner"], pair)
    path = pair / "original" / WEIGHTS
    state = load_file(str(path))
    name = sorted(k for k, v in state.items() if v.ndim == 2)[0]
    if change == "shape":
        state[name] = state[name][:, :-1].contiguous()
    elif change == "extra":
        state["thinker.extra.weight"] = torch.zeros(3, 3, dtype=torch.bfloat16)
    else:
        del state[name]
    save_file(state, str(path), metadata={"format": "pt"})
    with pytest.raises(ValueError):
        sk.strip(pair, tmp_path / "skeleton", "aligner")
    assert not (tmp_path / "skeleton" / "weights.json").exists()


def test_command_line_strip_then_bench_gpu_refills_the_skeleton(mods, built, tmp_path) -> None:
    """``strip`` from the command line, then ``bench_gpu --skeleton``'s checkpoint step."""
    sk = mods["checkpoint_skeleton"]
    root = tmp_path / "skeleton"
    for kind in ("aligner", "asr"):
        sk.main(["strip", "--kind", kind, str(built[kind]), str(root / kind)])
        assert not list((root / kind).rglob("*.safetensors"))
    args = argparse.Namespace(skeleton=str(root), workdir=str(tmp_path / "unused"), tiny=False)
    folders = mods["bench_gpu"].checkpoints(args)
    assert folders == {"align": root / "aligner", "asr": root / "asr"}
    assert not (tmp_path / "unused").exists()  # nothing built
    for kind in ("aligner", "asr"):
        for layout in ("native", "original"):
            assert sk.read_header(root / kind / layout / WEIGHTS) == sk.read_header(
                built[kind] / layout / WEIGHTS
            )
