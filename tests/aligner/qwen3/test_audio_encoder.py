"""The audio encoder's windowed attention: the CUDA path's one masked call against per-window calls."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("bounds", [[0, 5], [0, 104, 208, 250], [0, 104, 105]])
def test_encoder_window_attention_fused_equals_per_window(bounds: list[int]) -> None:
    """The CUDA path (one masked call) keeps every position inside its 8 s window."""
    from qalign.aligner.qwen3.audio_encoder import window_attention

    gen = torch.Generator().manual_seed(len(bounds))
    q, k, v = (torch.randn(4, bounds[-1], 16, generator=gen) for _ in range(3))
    per_window = window_attention(q, k, v, 0.25, bounds, fused=False)
    fused = window_attention(q, k, v, 0.25, bounds, fused=True)
    assert torch.allclose(per_window, fused, atol=1e-5)
    # a window's output does not change when another window's keys do
    k2 = k.clone()
    k2[:, bounds[1] :] += 1.0
    again = window_attention(q, k2, v, 0.25, bounds, fused=True)
    assert torch.equal(again[:, : bounds[1]], fused[:, : bounds[1]])
