"""qalign.aligner.qwen3.shapes: the row tiles a pass is cut into, on the CPU only."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_rows_off_the_cpu_go_through_in_one_call():
    """Tiles bound oneDNN's kernel cache; on another device they would only add launches."""
    from qalign.aligner.qwen3 import shapes

    calls = []

    def fn(x):
        calls.append(x.shape[0])
        return x

    rows = 3 * shapes.ROW_TILE + 7
    shapes.by_rows(fn, torch.empty(rows, 4, device="meta"))
    assert calls == [rows]
    calls.clear()
    shapes.by_rows(fn, torch.zeros(rows, 4))
    assert len(calls) == 4 and max(calls) == shapes.ROW_TILE


def test_the_caller_chooses_step_and_tile():
    """The encoder's sizes (windows of 104 rows, five per call): whole windows, no pad row
    for a whole number of windows, the real rows as in one call."""
    from qalign.aligner.qwen3 import shapes

    calls = []

    def fn(x):
        calls.append(x.shape[0])
        return x * 2

    x = torch.arange(11 * 104 + 30, dtype=torch.float32)[:, None]
    got = shapes.by_rows(fn, x, step=104, tile=520)
    assert calls == [520, 520, 208]
    assert torch.equal(got, x * 2)
    calls.clear()
    shapes.by_rows(fn, x[: 3 * 104], step=104, tile=520)
    assert calls == [312]
    calls.clear()
    shapes.by_rows(fn, x[:30])  # the text stack's defaults
    assert calls == [shapes.padded_rows(30, shapes.ROW_STEP)] == [32]
