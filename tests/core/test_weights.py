"""Memory-mapped safetensors reading and strict, zero-copy model building."""

from __future__ import annotations

import json
import platform
import re
import struct
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

from qalign.errors import ModelLoadError  # noqa: E402
from qalign.weights import read_safetensors  # noqa: E402


def test_tensors_are_views_of_one_mapping(tmp_path: Path) -> None:
    want = {
        "a": torch.arange(12, dtype=torch.float32).reshape(3, 4),
        "b": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
        "c": torch.tensor([[7]], dtype=torch.int64),
    }
    file = tmp_path / "w.safetensors"
    safetensors_torch.save_file(want, str(file))
    got = read_safetensors(file)
    assert set(got) == set(want)
    for name, tensor in want.items():
        assert got[name].dtype == tensor.dtype and torch.equal(got[name], tensor)
    # one storage (the mapped file) behind every tensor: nothing was copied
    assert got["a"].untyped_storage().data_ptr() == got["b"].untyped_storage().data_ptr()
    got["a"][0, 0] = 99.0  # copy-on-write: the file itself never changes
    assert torch.equal(read_safetensors(file)["a"], want["a"])


def _raw(tmp_path: Path, header: dict, data: bytes = b"\0" * 8) -> Path:
    body = json.dumps(header).encode()
    file = tmp_path / "bad.safetensors"
    file.write_bytes(struct.pack("<Q", len(body)) + body + data)
    return file


@pytest.mark.parametrize(
    "header",
    [
        {"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},  # past the end
        {"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},  # size != shape
        {"x": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}},  # unknown dtype
        {"x": {"shape": [1]}},
    ],
)
def test_malformed_tables_are_refused(tmp_path: Path, header: dict) -> None:
    with pytest.raises(ModelLoadError, match="bad.safetensors"):
        read_safetensors(_raw(tmp_path, header))


def test_unaligned_data_loads_as_the_reference_reader_loads_it(tmp_path: Path) -> None:
    """The format does not require the header to be padded to 8 bytes: a writer that
    does not pad leaves float data at odd offsets, which safetensors itself reads (our
    mapped view used to fail with torch's "storage_offset() must be divisible by 4")."""
    values = torch.arange(6, dtype=torch.float32)
    header = {"x": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}
    body = json.dumps(header).encode() + b" "  # an odd header length
    assert len(body) % 4
    file = tmp_path / "odd.safetensors"
    file.write_bytes(struct.pack("<Q", len(body)) + body + values.numpy().tobytes())
    want = safetensors_torch.load_file(str(file))["x"]
    got = read_safetensors(file)["x"]
    assert got.dtype == torch.float32 and torch.equal(got, want)
    assert torch.equal(got.flatten(), values)


def test_not_safetensors_at_all(tmp_path: Path) -> None:
    file = tmp_path / "bad.safetensors"
    file.write_bytes(b"\xff" * 64)
    with pytest.raises(ModelLoadError, match="not a safetensors file"):
        read_safetensors(file)


def test_loaded_model_uses_the_file_in_place(parity_dir: Path) -> None:
    from qalign.checkpoint import load_model

    folder = parity_dir / "fa-tiny-hf"
    on_disk = read_safetensors(folder / "model.safetensors")
    same_dtype = next(t.dtype for t in on_disk.values() if t.is_floating_point())
    name = {torch.float32: "fp32", torch.bfloat16: "bf16"}[same_dtype]
    other = "bf16" if name == "fp32" else "fp32"
    kept = load_model(folder, "aligner", device="cpu", dtype=name).model
    storages = {p.untyped_storage().data_ptr() for p in kept.parameters()}
    assert len(storages) == 1  # every weight is a view of the one mapped file
    converted = load_model(folder, "aligner", device="cpu", dtype=other).model
    assert len({p.untyped_storage().data_ptr() for p in converted.parameters()}) > 1
    for (key, a), (_, b) in zip(
        kept.state_dict().items(), converted.state_dict().items(), strict=True
    ):
        assert torch.equal(a.to(b.dtype), b), key


def test_copied_weights_own_their_memory(parity_dir: Path) -> None:
    from qalign.checkpoint import load_model

    folder = parity_dir / "fa-tiny-hf"
    mapped = load_model(folder, "aligner", device="cpu", dtype="fp32", mapped=True).model
    copied = load_model(folder, "aligner", device="cpu", dtype="fp32", mapped=False).model
    assert len({p.untyped_storage().data_ptr() for p in copied.parameters()}) > 1
    for (key, a), (_, b) in zip(
        mapped.state_dict().items(), copied.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), key


def _rss_file_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    pytest.skip("no RssFile in /proc/self/status")


def _kernel_at_least(major: int, minor: int) -> bool:
    found = re.match(r"(\d+)\.(\d+)", platform.release())
    return bool(found) and (int(found[1]), int(found[2])) >= (major, minor)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _kernel_at_least(5, 14),
    reason="MADV_POPULATE_READ is Linux's, from 5.14",
)
def test_map_ahead_maps_the_pages_without_touching_the_values(tmp_path: Path) -> None:
    from qalign.weights import is_file_mapped, map_ahead

    gen = torch.Generator().manual_seed(7)
    weights = {f"w{i}": torch.randn(1024, 2048, generator=gen).to(torch.bfloat16) for i in range(4)}
    safetensors_torch.save_file(weights, str(tmp_path / "w.safetensors"))  # 16 MB
    mapped = read_safetensors(tmp_path / "w.safetensors")
    assert all(is_file_mapped(t) for t in mapped.values())
    before = _rss_file_kb()
    thread = map_ahead(list(mapped.values()))
    assert thread is not None
    thread.join(timeout=60)
    assert _rss_file_kb() - before > 12 * 1024  # mapped into the process, not read by it
    assert all(torch.equal(mapped[k], weights[k]) for k in weights)
    # memory the process owns is never a file mapping: nothing to map ahead
    assert map_ahead([weights["w0"], torch.zeros(8)]) is None
