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


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("bounds", [[0, 5], [0, 104, 208, 250], [0, 104, 208, 312]])
def test_encoder_window_attention_batched_windows_equal_each_window_alone(
    bounds: list[int], dtype: str
) -> None:
    """The CPU path (bf16: the full windows as one batch; fp32: one call per window):
    each window's rows equal that window computed on its own, bit for bit, and equal
    the definition."""
    from qalign.aligner.qwen3.audio_encoder import window_attention

    gen = torch.Generator().manual_seed(len(bounds))
    q, k, v = (
        torch.randn(4, bounds[-1], 16, generator=gen).to(getattr(torch, dtype)) for _ in range(3)
    )
    batched = window_attention(q, k, v, 0.25, bounds, fused=False)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        alone = window_attention(q[:, a:b], k[:, a:b], v[:, a:b], 0.25, [0, b - a], fused=False)
        assert torch.equal(batched[:, a:b], alone)
        scores = (q[:, a:b].float() @ k[:, a:b].float().transpose(1, 2)) * 0.25
        want = torch.softmax(scores, -1) @ v[:, a:b].float()
        tol = 1e-5 if dtype == "float32" else 3e-2
        assert torch.allclose(batched[:, a:b].float(), want, atol=tol)


def test_encoder_window_attention_refuses_uneven_windows() -> None:
    from qalign.aligner.qwen3.audio_encoder import window_attention

    q = torch.zeros(2, 30, 8, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="one size"):
        window_attention(q, q, q, 0.25, [0, 10, 15, 30], fused=False)


def test_conv_group_does_not_change_a_clips_embeddings(monkeypatch) -> None:
    """Chunks are convolved in groups of CONV_GROUP: the grouping keeps every chunk's
    rows in place (fp32 kernels may round differently per batch size, hence allclose)."""
    from qalign.aligner.qwen3 import audio_encoder

    conv = torch.nn.Conv2d(1, 6, 3, 2, 1)
    weights = [torch.nn.Conv2d(6, 6, 3, 2, 1) for _ in range(2)]

    class Tower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv2d1, (self.conv2d2, self.conv2d3) = conv, weights
            self.conv_out = torch.nn.Linear(6 * 2, 8)
            self.n_window, self.n_window_infer = 50, 800
            self.positional_embedding = torch.nn.Module()
            self.positional_embedding.positional_embedding = torch.zeros(13, 8)
            self.layers = torch.nn.ModuleList()
            self.ln_post = torch.nn.Identity()

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = torch.nn.Module()
            self.model.audio_tower = Tower()
            self.model.multi_modal_projector = torch.nn.Identity()

    model = Model()
    feats = torch.randn(16, 1050, generator=torch.Generator().manual_seed(3))
    outs = []
    for group in (1, 3, 32):
        monkeypatch.setattr(audio_encoder, "CONV_GROUP", group)
        outs.append(audio_encoder.encode_audio(model, feats))
    assert outs[0].shape == (10 * 13 + 7, 8)
    assert torch.allclose(outs[0], outs[1], atol=1e-5)
    assert torch.allclose(outs[0], outs[2], atol=1e-5)
