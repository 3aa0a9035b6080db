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
from qalign.weights import read_safetensors, release_pages  # noqa: E402


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


def _kernel_at_least(major: int, minor: int) -> bool:
    found = re.match(r"(\d+)\.(\d+)", platform.release())
    return bool(found) and (int(found[1]), int(found[2])) >= (major, minor)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _kernel_at_least(5, 14),
    reason="MADV_POPULATE_READ is Linux's, from 5.14",
)
def test_map_ahead_maps_the_pages_without_touching_the_values(tmp_path: Path, rss_file_kb) -> None:
    from qalign.weights import is_file_mapped, map_ahead

    gen = torch.Generator().manual_seed(7)
    weights = {f"w{i}": torch.randn(1024, 2048, generator=gen).to(torch.bfloat16) for i in range(4)}
    safetensors_torch.save_file(weights, str(tmp_path / "w.safetensors"))  # 16 MB
    mapped = read_safetensors(tmp_path / "w.safetensors")
    assert all(is_file_mapped(t) for t in mapped.values())
    before = rss_file_kb()
    thread = map_ahead(list(mapped.values()))
    assert thread is not None
    thread.join(timeout=60)
    assert rss_file_kb() - before > 12 * 1024  # mapped into the process, not read by it
    assert all(torch.equal(mapped[k], weights[k]) for k in weights)
    # memory the process owns is never a file mapping: nothing to map ahead
    assert map_ahead([weights["w0"], torch.zeros(8)]) is None


def _resident_pages(tensor: torch.Tensor) -> tuple[int, int]:
    """(pages of ``tensor``'s whole pages in the page cache, whole pages) by ``mincore``."""
    import ctypes
    import mmap

    page = mmap.PAGESIZE
    start = tensor.data_ptr()
    first = -(-start // page) * page
    last = (start + tensor.numel() * tensor.element_size()) // page * page
    count = (last - first) // page
    vec = (ctypes.c_ubyte * count)()
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.mincore(ctypes.c_void_p(first), ctypes.c_size_t(last - first), vec) == 0
    return sum(v & 1 for v in vec), count


def test_releasing_a_mapped_weight_keeps_its_values_and_the_page_cache(
    tmp_path: Path, rss_file_kb
) -> None:
    """The process lets go of the pages (its file-backed memory drops) but the kernel
    keeps the file cached for the next process, and the values read back unchanged."""
    import os
    import sys

    from qalign.weights import read_safetensors, release_pages

    if not sys.platform.startswith("linux"):
        pytest.skip("madvise and /proc are Linux's")
    gen = torch.Generator().manual_seed(4)
    weight = torch.randn(4096, 2048, generator=gen).to(torch.bfloat16)  # 16 MB
    safetensors_torch.save_file({"w": weight}, str(tmp_path / "w.safetensors"))
    with open(tmp_path / "w.safetensors", "rb+") as fh:
        os.fsync(fh.fileno())  # clean pages, as a checkpoint's are (dirty ones stay anyway)
    mapped = read_safetensors(tmp_path / "w.safetensors")["w"]
    assert torch.equal(mapped, weight)  # every page read once
    before = rss_file_kb()
    assert release_pages(mapped)
    assert before - rss_file_kb() > 12 * 1024  # no longer this process's memory
    resident, pages = _resident_pages(mapped)
    assert resident == pages  # still in the page cache (MADV_PAGEOUT evicted them)
    assert torch.equal(mapped, weight)  # read back, unchanged


def test_releasing_leaves_memory_that_is_not_a_mapped_file_alone() -> None:
    weight = torch.randn(1024, 2048, generator=torch.Generator().manual_seed(5))
    copy = weight.clone()
    assert not release_pages(weight)  # anonymous memory: the advice would zero it
    assert torch.equal(weight, copy)


def _saved(tmp_path: Path, weight: torch.Tensor) -> torch.Tensor:
    import os

    safetensors_torch.save_file({"w": weight}, str(tmp_path / "w.safetensors"))
    with open(tmp_path / "w.safetensors", "rb+") as fh:
        os.fsync(fh.fileno())
    return read_safetensors(tmp_path / "w.safetensors")["w"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise and /proc are Linux's")
@pytest.mark.parametrize("rows", [slice(None), slice(1000, 1001)])
def test_a_weight_written_in_place_is_not_released(tmp_path: Path, rows: slice) -> None:
    """On the copy-on-write mapping a written page is the process's own: releasing it
    would bring back the file's values (most rows of ``mul_(2)`` used to revert)."""
    weight = torch.randn(4096, 2048, generator=torch.Generator().manual_seed(6)).to(torch.bfloat16)
    mapped = _saved(tmp_path, weight)
    mapped[rows].mul_(2)
    edited = weight.clone()
    edited[rows].mul_(2)
    assert torch.equal(mapped, edited)
    assert not release_pages(mapped)
    assert torch.equal(mapped, edited)  # the edit survived


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not _kernel_at_least(5, 14),
    reason="MADV_POPULATE_READ is Linux's, from 5.14",
)
def test_map_ahead_maps_nothing_once_told_to_stop(tmp_path: Path, rss_file_kb) -> None:
    import threading

    from qalign.weights import map_ahead

    weights = {f"w{i}": torch.ones(1024, 2048, dtype=torch.bfloat16) * i for i in range(4)}
    safetensors_torch.save_file(weights, str(tmp_path / "w.safetensors"))  # 16 MB
    mapped = read_safetensors(tmp_path / "w.safetensors")
    stop = threading.Event()
    stop.set()
    before = rss_file_kb()
    thread = map_ahead(list(mapped.values()), stop=stop)
    assert thread is not None
    thread.join(timeout=60)
    assert rss_file_kb() - before < 1024  # nothing mapped (the whole file is 16 MB)
    thread = map_ahead(list(mapped.values()), stop=threading.Event())
    thread.join(timeout=60)
    assert rss_file_kb() - before > 12 * 1024  # the same call, not stopped, maps them
