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
