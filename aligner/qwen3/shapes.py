"""Row-wise layers run on a bounded set of row counts, so the CPU's kernel caches stay bounded.

On the CPU, oneDNN compiles and caches a kernel for every new shape of a bf16 matrix
product, and that memory is never given back (torch 2.13; float32 products grow about
40 times less). A pass over a window has as many rows as
the window has tokens, and long audio offers thousands of different windows and runs of
text, so memory grew with the audio (about 9.5 MB per new text length with the tiny
checkpoint, every projection of both stacks counting). :func:`by_rows` runs a row-wise
function on tiles of :data:`ROW_TILE` rows, the last tile padded with zero rows to a
multiple of :data:`ROW_STEP`: every product then has one of ``ROW_TILE // ROW_STEP``
row counts, whatever the length. Each output row depends on its own input row alone
(norms, projections, MLP), so the real rows come out bit for bit as in one call over
all rows (checked in the tests); the pad rows are dropped.

The audio encoder's rows come 13 per second of audio and its attention windows hold
104 of them (8 s), so its layers pass their own sizes to :func:`by_rows`: a step of
one window (:func:`qalign.aligner.qwen3.audio_encoder.window_rows`) and tiles of five.
Whole clips of 8 s multiples need no pad row and a 120 s clip (1,560 rows) is three
full tiles, where steps of 64 padded a 30 s clip's 390 rows to
448 (15 % more work in every encoder projection). The pad rows cost in proportion:
a step is a trade between them and the number of distinct shapes. The text stack
takes steps of 16 rows (32 row counts): a 30 s pass of 711 tokens is padded to 720,
where steps of 64 padded it to 768 (the real-size pass 1.43 against 1.50 s, same
sitting). Its kernel cache grows with the number of row counts: when the step was
chosen, the five projection shapes of the text stack at the 0.6B model's sizes held
about 100 MB once every one of the 32 row counts had been seen, against 15 MB with
the 8 row counts of steps of 64 (totals measured with torch 2.13; the cost of one
shape varies with its size, so no figure per shape is given).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: Rows per call of a row-wise function (the last call may have fewer, see ROW_STEP).
ROW_TILE = 512
#: The last tile is padded with zero rows to a multiple of this many rows.
ROW_STEP = 16


def padded_rows(rows: int, step: int) -> int:
    """``rows`` rounded up to a multiple of ``step``."""
    return round_up(rows, step)


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


def by_rows(
    fn: Callable[..., torch.Tensor | tuple[torch.Tensor, ...]],
    *tensors: torch.Tensor,
    step: int | None = None,
    tile: int | None = None,
):
    """``fn(*tensors)`` for a row-wise ``fn``, computed tile by tile (see the module doc).

    All ``tensors`` have the same number of rows (first axis); ``fn`` returns a tensor,
    or a tuple of tensors, with one row per input row. Returns the same as one call.
    ``step``, ``tile``: the row step and the rows per call (default :data:`ROW_STEP`
    and :data:`ROW_TILE`, the text stack's; ``tile`` a multiple of ``step``).
    Tensors on any device but the CPU go through in one call.
    """
    if tensors[0].device.type != "cpu":
        # The kernel cache this bounds is oneDNN's; elsewhere tiles only add launches
        # (on CUDA they made an aligner pass several times slower than one call).
        return fn(*tensors)
    step = ROW_STEP if step is None else step
    tile = ROW_TILE if tile is None else tile
    n = tensors[0].shape[0]
    if n <= tile and n == padded_rows(n, step):
        return fn(*tensors)
    outs: tuple[torch.Tensor, ...] | None = None
    single = False
    for start in range(0, n, tile):
        stop = min(n, start + tile)
        rows = padded_rows(stop - start, step)
        got = fn(*(pad_to(t[start:stop], rows) for t in tensors))
        single = not isinstance(got, tuple)
        pieces = (got,) if single else got
        if stop - start == n:  # one padded call: its real rows are the answer
            outs = tuple(p[:n] for p in pieces)
            break
        if outs is None:  # written in place, tile by tile (no copy of the pieces at the end)
            outs = tuple(p.new_empty((n, *p.shape[1:])) for p in pieces)
        for whole, piece in zip(outs, pieces, strict=True):
            whole[start:stop] = piece[: stop - start]
    assert outs is not None
    return outs[0] if single else outs


__all__ = [
    "ROW_STEP",
    "ROW_TILE",
    "by_rows",
    "pad_to",
    "padded_rows",
    "round_up",
]
