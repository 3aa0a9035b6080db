"""A benchmark checkpoint without its weights, to take to another machine and refill there.

The real-size random checkpoints (``aligner_checkpoint.py``, ``asr_checkpoint.py``)
take about 1.8 GB per layout and need a transformers release that knows
Qwen3-ASR to build. A machine that has neither the network nor that release
(a machine without network access, say) can still get the same checkpoint:

* :func:`strip` (here) copies a built ``native/`` + ``original/`` pair without
  its ``.safetensors`` files and writes ``weights.json``: every tensor's native
  name, original name, dtype and shape, read from the files' own headers (a
  few MB in all, the tokenizers included);
* :func:`refill` (there) draws the weights again with ``random_weights.fill_``
  and writes them under both layouts' names: the two layouts hold the same
  tensors, as the builders' do. It needs only torch and safetensors, and
  draws on the GPU when there is one. The values are not the builder's (a
  different generator): compute does not depend on them.

Run::

    python benchmarks/checkpoint_skeleton.py strip --kind aligner BUILT_ROOT SKELETON
    python benchmarks/checkpoint_skeleton.py refill SKELETON
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import struct
import sys
from pathlib import Path

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from random_weights import fill_, renamed_key  # noqa: E402

WEIGHTS = "model.safetensors"
MANIFEST = "weights.json"
_DTYPES = {"BF16": "bfloat16", "F16": "float16", "F32": "float32"}


def read_header(path: Path) -> dict[str, dict]:
    """A safetensors file's tensors: ``{name: {"dtype": "BF16", "shape": [...]}}`` (no data read)."""
    with open(path, "rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(size))
    header.pop("__metadata__", None)
    return {name: {"dtype": t["dtype"], "shape": t["shape"]} for name, t in header.items()}


def _filled(path: Path, want: dict[str, dict]) -> bool:
    """Whether ``path`` is a complete safetensors file holding exactly the tensors ``want``.

    Complete: its size is 8 + the header's length + the largest ``data_offsets``
    end. A missing, empty, cut-short or unreadable file is not filled.
    """
    try:
        with open(path, "rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(size))
        header.pop("__metadata__", None)
        end = max((int(t["data_offsets"][1]) for t in header.values()), default=0)
        have = {name: {"dtype": t["dtype"], "shape": t["shape"]} for name, t in header.items()}
        return have == want and path.stat().st_size == 8 + size + end
    except (OSError, struct.error, ValueError, KeyError, TypeError, IndexError):
        return False


def _save(state: dict, path: Path) -> None:
    """Write ``state`` to ``path`` through ``path.tmp`` and a rename (never half a file)."""
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, path)


def _prefixes(kind: str) -> tuple[tuple[str, str], ...]:
    if kind == "aligner":
        from aligner_checkpoint import _TO_ORIGINAL
    else:
        from asr_checkpoint import _TO_ORIGINAL
    return _TO_ORIGINAL


def strip(built: Path, dest: Path, kind: str) -> dict:
    """Copy ``built/{native,original}`` to ``dest`` without weights; write ``dest/weights.json``.

    Raises:
        ValueError: the two layouts do not hold the same tensors under the
            ``kind``'s renaming (the skeleton could not be refilled faithfully).
    """
    native = read_header(built / "native" / WEIGHTS)
    original = read_header(built / "original" / WEIGHTS)
    prefixes = _prefixes(kind)
    tensors = []
    for name in sorted(native):
        other = renamed_key(name, prefixes)
        if original.get(other) != native[name]:
            raise ValueError(f"{name}: original layout has {original.get(other)} under {other}")
        tensors.append({"native": name, "original": other, **native[name]})
    if len(tensors) != len(original):
        raise ValueError(f"{len(original)} original tensors for {len(tensors)} native ones")
    for layout in ("native", "original"):
        (dest / layout).mkdir(parents=True, exist_ok=True)
        for path in (built / layout).iterdir():
            if path.is_file() and path.suffix != ".safetensors":
                shutil.copyfile(path, dest / layout / path.name)
    manifest = {"kind": kind, "tensors": tensors}
    (dest / MANIFEST).write_text(json.dumps(manifest) + "\n", encoding="utf-8")
    return manifest


def refill(dest: Path, seed: int = 0, std: float = 0.02) -> int:
    """Write both layouts' ``model.safetensors`` from ``dest/weights.json``; returns the parameter count.

    Already-filled folders (both files complete and their headers as listed)
    are left alone; an empty or cut-short file is written again. Each file is
    written to ``*.tmp`` and renamed, so an interrupted refill leaves no
    file that looks filled.
    """
    import torch

    manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    tensors = manifest["tensors"]
    count = sum(math.prod(t["shape"]) for t in tensors)
    paths = (dest / "native" / WEIGHTS, dest / "original" / WEIGHTS)
    wants = [
        {t[name]: {"dtype": t["dtype"], "shape": t["shape"]} for t in tensors}
        for name in ("native", "original")
    ]
    if all(_filled(p, w) for p, w in zip(paths, wants, strict=True)):
        return count
    device = "cuda" if torch.cuda.is_available() else "cpu"
    generator = torch.Generator(device=device).manual_seed(seed)
    state = {}
    for t in tensors:
        dtype = getattr(torch, _DTYPES[t["dtype"]])
        value = torch.empty(t["shape"], device=device, dtype=torch.float32)
        state[t["native"]] = fill_(value, t["native"], std, generator).to(dtype).cpu()
    _save(state, paths[0])
    names = {t["native"]: t["original"] for t in tensors}
    _save({names[k]: v for k, v in state.items()}, paths[1])
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("strip", help="copy a built checkpoint pair without its weights")
    p.add_argument("--kind", choices=["aligner", "asr"], required=True)
    p.add_argument("built", type=Path, help="folder holding native/ and original/")
    p.add_argument("dest", type=Path)
    p = sub.add_parser("refill", help="write random weights into a skeleton")
    p.add_argument("dest", type=Path)
    p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "strip":
        manifest = strip(args.built, args.dest, args.kind)
        print(f"{args.dest}: {len(manifest['tensors'])} tensors listed")
    else:
        print(f"{args.dest}: {refill(args.dest, args.seed):,} parameters written")


if __name__ == "__main__":
    main()
