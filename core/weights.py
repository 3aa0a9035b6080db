"""Safetensors weights straight into a model: memory-mapped, in the target dtype, strictly checked.

transformers' ``from_pretrained`` reads every weight into fresh memory after
initialising the whole model at random. Here the module tree is built with no
initialisation at all (on the ``meta`` device), and each parameter becomes a
view of the memory-mapped file (or, when the file's dtype differs from the target, one converted copy), so
loading costs little more than parsing the headers; pages are read when first
used, and shared with the page cache.

Only the safetensors format is read (a JSON header, then raw little-endian
tensors); pickles never are. torch is imported inside the functions; nothing
here imports transformers.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qalign.errors import ModelLoadError

if TYPE_CHECKING:
    import threading

    import torch

_SAFETENSORS_DTYPES = {
    "BF16": "bfloat16", "F16": "float16", "F32": "float32", "F64": "float64",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
}  # fmt: skip

#: The files mapped by :func:`read_safetensors` that are still open: base address -> size.
_FILE_MAPPINGS: dict[int, int] = {}


def is_file_mapped(tensor: torch.Tensor) -> bool:
    """Whether ``tensor``'s memory is a checkpoint file mapped by :func:`read_safetensors`
    (its pages can be dropped from the process and read again from the file)."""
    storage = tensor.untyped_storage()
    return _FILE_MAPPINGS.get(storage.data_ptr()) == storage.nbytes()


def _weight_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if (folder / "model.safetensors").is_file():
        return [folder / "model.safetensors"]
    try:
        names = json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise ModelLoadError(
            folder, f"model.safetensors.index.json cannot be read: {exc}"
        ) from None
    files = [folder / name for name in dict.fromkeys(names)]
    for file in files:
        if file.parent != folder or not file.is_file():
            raise ModelLoadError(folder, f"the weight index names a missing file {file.name}")
    return files


#: ``madvise`` advice that maps a range's pages into the process, reading them if needed
#: (Linux 5.14+; older kernels refuse it with EINVAL, and nothing happens).
MADV_POPULATE_READ = 22
#: ``madvise`` advice that unmaps a range's pages from this process. On our copy-on-write
#: mapping a page written in place is the process's own copy and is lost: a later read
#: maps the file's page again. :func:`release_pages` checks for such pages first.
MADV_DONTNEED = 4


@functools.cache
def _madvise() -> Any:
    """The C library's ``madvise`` (looked up once: a lookup per layer cost 0.2 ms), or
    None where there is none (not Linux, no libc symbol)."""
    import ctypes

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None


def _pages(tensor: torch.Tensor, advice: int) -> tuple[int, int]:
    """(first address, length in bytes) of the pages ``advice`` applies to for ``tensor``:
    the pages wholly inside its bytes for :data:`MADV_DONTNEED` (a neighbour's data is
    never dropped), every page it touches otherwise. The length may be 0."""
    import mmap

    page = mmap.PAGESIZE
    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    if advice == MADV_DONTNEED:
        first, last = -(-start // page) * page, end // page * page
    else:
        first, last = start // page * page, -(-end // page) * page
    return first, max(last - first, 0)


def advise(tensor: torch.Tensor, advice: int) -> bool:
    """``madvise(advice)`` over ``tensor``'s pages (see :func:`_pages`), when ``tensor`` is
    file-mapped (:func:`is_file_mapped`; anything else is left alone).

    Returns whether the kernel took the advice (False: not a mapped file, no whole
    page, not Linux, or refused). Callers check what the advice may lose first:
    this does not (:func:`release_pages` does for :data:`MADV_DONTNEED`).
    """
    import ctypes

    madvise = _madvise()
    if madvise is None or not is_file_mapped(tensor):
        return False
    first, length = _pages(tensor, advice)
    if not length:
        return False
    return madvise(ctypes.c_void_p(first), ctypes.c_size_t(length), advice) == 0


#: /proc/self/pagemap bits, one 64-bit entry per page: the page is in memory; it is
#: swapped out; it is a page of a file (or shared memory), not the process's own copy.
_PRESENT, _SWAPPED, _FILE_PAGE = 1 << 63, 1 << 62, 1 << 61


def _all_file_pages(first: int, length: int) -> bool:
    """Whether no page in ``[first, first + length)`` is the process's own copy: every
    present page is a file page and none is swapped out (a swapped page is anonymous).
    False when /proc/self/pagemap cannot be read."""
    import mmap

    import numpy as np

    page = mmap.PAGESIZE
    count = length // page
    try:
        fd = os.open("/proc/self/pagemap", os.O_RDONLY)
        try:
            raw = os.pread(fd, count * 8, first // page * 8)
        finally:
            os.close(fd)
    except OSError:
        return False
    if len(raw) != count * 8:
        return False
    entries = np.frombuffer(raw, dtype="<u8")
    own = ((entries & _PRESENT) != 0) & ((entries & _FILE_PAGE) == 0)
    return not (own.any() or (entries & _SWAPPED).any())


def release_pages(tensor: torch.Tensor) -> bool:
    """Unmap the whole pages under a file-mapped ``tensor`` from this process
    (``MADV_DONTNEED``), unless one of them was written: returns whether it did.

    The kernel's page cache keeps the file: a later read maps the pages again, as
    the file holds them, and the next process that maps the checkpoint finds them
    in memory. A page written in place (``weight.mul_(2)`` after loading) is the
    process's own copy of it on our copy-on-write mapping, and the advice would
    throw the edit away, so /proc/self/pagemap is read first and nothing is
    released when any page is such a copy, or when pagemap cannot be read.
    (``MADV_PAGEOUT``, used before, also evicted the pages from the page cache:
    every later run read about 840 MB from disk again, in the middle of its first pass.)
    """
    if _madvise() is None or not is_file_mapped(tensor):
        return False
    first, length = _pages(tensor, MADV_DONTNEED)
    if not length or not _all_file_pages(first, length):
        return False
    return advise(tensor, MADV_DONTNEED)


def map_ahead(tensors: list[torch.Tensor], stop: threading.Event | None = None) -> Any:
    """Map the pages of the file-mapped ``tensors`` into the process ahead of their first
    use, one after another in a background thread; returns the (daemon) thread, or
    None when there is nothing to map or no way to (not Linux, no libc).

    A pass that reads a mapped weight for the first time takes a page fault every
    64 kB (about 23,000 for the aligner's layers: 0.1-0.2 s of kernel time inside the
    pass, more when the file must be read from disk). ``MADV_POPULATE_READ`` does the
    same work in one call per tensor; called from a thread (the call releases the
    interpreter's lock), it runs while the process is busy with other work on one
    core (the speech map, the tokenizer) and the pass finds the pages mapped.
    Nothing changes what the tensors hold. The thread stops before its next tensor
    once ``stop`` is set (the aligner sets it when its weights start being packed,
    whose originals' pages are then released and must not be mapped again).
    """
    import threading

    mapped = [t for t in tensors if is_file_mapped(t)]
    if _madvise() is None or not mapped:
        return None

    def run() -> None:
        # ``mapped`` holds the tensors, and so the file mapping, while the thread runs.
        for tensor in mapped:
            if stop is not None and stop.is_set():
                return
            if not advise(tensor, MADV_POPULATE_READ):
                return  # refused (an older kernel): the pass faults the pages in as before

    thread = threading.Thread(target=run, name="qalign-map-ahead", daemon=True)
    thread.start()
    return thread


def read_safetensors(file: Path) -> dict[str, torch.Tensor]:
    """Every tensor of one ``.safetensors`` file, memory-mapped (nothing is read until used;
    a tensor at an offset its element size does not divide, legal in the format, is copied).

    The file is mapped copy-on-write: the tensors share the page cache, and a write
    to one (there is none at inference) would copy that page, never touch the file.

    Raises:
        ModelLoadError: the header is malformed or a tensor lies outside the file.
    """
    import mmap
    import struct

    import torch

    try:
        with open(file, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            (header_len,) = struct.unpack("<Q", fh.read(8))
            if not 0 < header_len <= size - 8:
                raise ValueError(f"header length {header_len} does not fit the file")
            header = json.loads(fh.read(header_len))
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY) if size else None
    except (OSError, ValueError, struct.error) as exc:
        raise ModelLoadError(file.parent, f"{file.name} is not a safetensors file: {exc}") from None
    if not isinstance(header, dict) or mapped is None:
        raise ModelLoadError(file.parent, f"{file.name} has no tensor table")
    raw = torch.frombuffer(mapped, dtype=torch.uint8)
    _FILE_MAPPINGS[raw.data_ptr()] = raw.untyped_storage().nbytes()
    weakref.finalize(mapped, _FILE_MAPPINGS.pop, raw.data_ptr(), None)
    base = 8 + header_len
    tensors: dict[str, torch.Tensor] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = getattr(torch, _SAFETENSORS_DTYPES[info["dtype"]])
            start, end = (base + int(x) for x in info["data_offsets"])
            shape = [int(n) for n in info["shape"]]
            if not base <= start <= end <= size:
                raise ValueError("data outside the file")
            count = 1
            for n in shape:
                count *= n
            if (end - start) != count * dtype.itemsize:
                raise ValueError("size does not match its shape")
            data = raw[start:end]
            if start % dtype.itemsize:  # legal but unaligned (header not padded): a copy
                data = data.clone()
            tensors[name] = data.view(dtype).view(shape)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(file.parent, f"{file.name}: tensor {name!r}: {exc}") from None
    return tensors


def load_weights(
    model: Any,
    folder: Path,
    rename: Callable[[str], str] | None = None,
    *,
    mapped: bool = True,
    tied: Mapping[str, str] | None = None,
) -> Any:
    """Put the folder's weights into ``model``, strictly: every weight present, known and of its shape.

    ``model`` is a module tree whose parameters need not hold anything yet (built
    on the ``meta`` device, or without initialisation). Each parameter becomes the
    memory-mapped tensor from the file (:func:`read_safetensors`) when it already
    has the parameter's dtype, else a converted copy: no weight is read twice, and
    none is read at all before it is used. ``mapped=False`` copies every weight
    into the process's own memory instead (one read of the file): for decoding,
    which reads all weights at every step, pages that the kernel can neither evict
    under memory pressure nor map as small pages. ``rename`` maps the file's weight
    names to the model's (the original layout's ``thinker.*`` names). ``tied`` maps
    a weight the file may leave out to the one it shares values with.

    Raises:
        ModelLoadError: a weight is missing, unexpected or of the wrong shape, or a
            file is not valid safetensors.
    """
    state: dict[str, torch.Tensor] = {}
    for file in _weight_files(folder):
        for key, tensor in read_safetensors(file).items():
            state[rename(key) if rename else key] = tensor
    expected = model.state_dict()
    for target, source in (tied or {}).items():
        if target not in state and source in state:
            state[target] = state[source]
    problems = []
    missing = set(expected) - set(state)
    unexpected = set(state) - set(expected)
    wrong = [
        k for k in set(expected) & set(state) if tuple(expected[k].shape) != tuple(state[k].shape)
    ]
    if missing:
        problems.append(f"missing weights: {_describe_keys(missing)}")
    if unexpected:
        problems.append(f"unexpected weights: {_describe_keys(unexpected)}")
    if wrong:
        problems.append(f"weights with the wrong shape: {_describe_keys(wrong)}")
    if problems:
        raise ModelLoadError(folder, "incomplete or foreign checkpoint: " + "; ".join(problems))
    for key, tensor in state.items():
        want = expected[key].dtype
        if tensor.dtype != want:
            state[key] = tensor.to(want)
        elif not mapped:
            state[key] = tensor.clone()
    model.load_state_dict(state, strict=True, assign=True)
    return model


def _describe_keys(keys: set[str] | list[str]) -> str:
    keys = sorted(keys)
    shown = ", ".join(keys[:5])
    return f"{len(keys)} ({shown}{', ...' if len(keys) > 5 else ''})"


__all__ = [
    "MADV_DONTNEED",
    "MADV_POPULATE_READ",
    "advise",
    "is_file_mapped",
    "load_weights",
    "map_ahead",
    "read_safetensors",
    "release_pages",
]
