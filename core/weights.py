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

import json
import os
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qalign.errors import ModelLoadError

if TYPE_CHECKING:
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
_MADV_POPULATE_READ = 22


def map_ahead(tensors: list[torch.Tensor]) -> Any:
    """Map the pages of the file-mapped ``tensors`` into the process ahead of their first
    use, one after another in a background thread; returns the (daemon) thread, or
    None when there is nothing to map or no way to (not Linux, no libc).

    A pass that reads a mapped weight for the first time takes a page fault every
    64 kB (about 23,000 for the aligner's layers: 0.1-0.2 s of kernel time inside the
    pass, more when the file must be read from disk). ``MADV_POPULATE_READ`` does the
    same work in one call per tensor; called from a thread (the call releases the
    interpreter's lock), it runs while the process is busy with other work on one
    core (the speech map, the tokenizer) and the pass finds the pages mapped.
    Nothing changes what the tensors hold.
    """
    import sys
    import threading

    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import mmap

    ranges = []
    page = mmap.PAGESIZE
    for tensor in tensors:
        if is_file_mapped(tensor):
            start = tensor.data_ptr()
            end = start + tensor.numel() * tensor.element_size()
            first = start // page * page
            ranges.append((first, -(-end // page) * page - first))
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    if not ranges:
        return None

    def run() -> None:
        for first, length in ranges:
            if madvise(ctypes.c_void_p(first), ctypes.c_size_t(length), _MADV_POPULATE_READ):
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


__all__ = ["is_file_mapped", "load_weights", "map_ahead", "read_safetensors"]
