"""Row-wise layers run on a bounded set of row counts, so the CPU's kernel caches stay bounded.

On the CPU, oneDNN compiles and caches a kernel for every new shape of a bf16 matrix
product: 0.6 to 0.8 MB of memory per shape, never given back (measured with torch 2.13;
float32 products grow about 40 times less). A pass over a window has as many rows as
the window has tokens, and long audio offers thousands of different windows and runs of
text, so memory grew with the audio (about 9.5 MB per new text length with the tiny
checkpoint, every projection of both stacks counting). :func:`by_rows` runs a row-wise
function on tiles of :data:`ROW_TILE` rows, the last tile padded with zero rows to a
multiple of :data:`ROW_STEP`: every product then has one of ``ROW_TILE // ROW_STEP``
row counts, whatever the length. Each output row depends on its own input row alone
(norms, projections, MLP), so the real rows come out bit for bit as in one call over
all rows (checked in the tests); the pad rows are dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: Rows per call of a row-wise function (the last call may have fewer, see ROW_STEP).
ROW_TILE = 512
#: The last tile is padded with zero rows to a multiple of this many rows.
ROW_STEP = 64


def padded_rows(rows: int) -> int:
    """``rows`` rounded up to a multiple of :data:`ROW_STEP`."""
    return round_up(rows, ROW_STEP)


def round_up(n: int, step: int) -> int:
    """``n`` rounded up to a multiple of ``step``."""
    return -(-n // step) * step


def pad_to(t: torch.Tensor, size: int, axis: int = 0) -> torch.Tensor:
    """``t`` with zeros appended along ``axis`` up to ``size`` (``t`` itself when already there)."""
    if t.shape[axis] == size:
        return t
    shape = list(t.shape)
    shape[axis] = size - t.shape[axis]
    return torch.cat([t, t.new_zeros(shape)], dim=axis)


def by_rows(fn: Callable[..., torch.Tensor | tuple[torch.Tensor, ...]], *tensors: torch.Tensor):
    """``fn(*tensors)`` for a row-wise ``fn``, computed tile by tile (see the module doc).

    All ``tensors`` have the same number of rows (first axis); ``fn`` returns a tensor,
    or a tuple of tensors, with one row per input row. Returns the same as one call.
    """
    n = tensors[0].shape[0]
    if n <= ROW_TILE and n == padded_rows(n):
        return fn(*tensors)
    pieces: list[torch.Tensor | tuple[torch.Tensor, ...]] = []
    for start in range(0, n, ROW_TILE):
        stop = min(n, start + ROW_TILE)
        rows = padded_rows(stop - start)
        out = fn(*(pad_to(t[start:stop], rows) for t in tensors))
        if isinstance(out, tuple):
            pieces.append(tuple(o[: stop - start] for o in out))
        else:
            pieces.append(out[: stop - start])
    if len(pieces) == 1:
        return pieces[0]
    if isinstance(pieces[0], tuple):
        return tuple(torch.cat(parts) for parts in zip(*pieces, strict=True))
    return torch.cat(pieces)  # type: ignore[arg-type]


__all__ = ["ROW_STEP", "ROW_TILE", "by_rows", "pad_to", "padded_rows", "round_up"]
