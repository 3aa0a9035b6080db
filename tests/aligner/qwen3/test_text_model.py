"""The hand-run Qwen3 text stack: block-wise and fused attention, packing, the static cache."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from qalign.aligner.qwen3 import text_model  # noqa: E402
from qalign.aligner.qwen3.text_model import TextModel, causal_attention  # noqa: E402


def _naive(query, key, value, scale):
    """Full-matrix causal attention in float64, head by head (the definition)."""
    length, heads, _ = query.shape
    groups = heads // key.shape[1]
    out = torch.empty(query.shape, dtype=torch.float64)
    future = torch.ones(length, length, dtype=torch.bool).triu(1)
    for h in range(heads):
        q, k, v = (t.double() for t in (query[:, h], key[:, h // groups], value[:, h // groups]))
        scores = (q * scale) @ k.T
        out[:, h] = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v
    return out


@pytest.mark.parametrize("length", [1, 7, 128, 129, 300])
@pytest.mark.parametrize("groups", [1, 2])
def test_block_and_fused_attention_match_the_definition(length: int, groups: int) -> None:
    gen = torch.Generator().manual_seed(length * groups)
    kv_heads, dim = 3, 16
    query = torch.randn(length, kv_heads * groups, dim, generator=gen)
    key = torch.randn(length, kv_heads, dim, generator=gen)
    value = torch.randn(length, kv_heads, dim, generator=gen)
    want = _naive(query, key, value, 0.25)
    block = causal_attention(query, key, value, 0.25, fused=False)
    fused = causal_attention(query, key, value, 0.25, fused=True)  # the CUDA path's call
    assert torch.allclose(block.double(), want, atol=1e-5)
    assert torch.allclose(fused.double(), want, atol=1e-5)


def test_block_attention_reads_strided_views_and_writes_into_out() -> None:
    gen = torch.Generator().manual_seed(0)
    packed = torch.randn(
        200, 8 * 16, generator=gen
    )  # (length, q heads + k + v) like a fused projection
    query = packed[:, :64].view(200, 4, 16)
    key = packed[:, 64:96].view(200, 2, 16)
    value = packed[:, 96:].view(200, 2, 16)
    out = torch.full((200, 4, 16), float("nan"))
    causal_attention(query, key, value, 0.25, out, fused=False)
    want = causal_attention(query.contiguous(), key.contiguous(), value.contiguous(), 0.25)
    assert torch.equal(out, want)


@pytest.fixture(scope="module")
def text(parity_dir: Path) -> TextModel:
    from qalign.checkpoint import load_model

    loaded = load_model(parity_dir / "asr-tiny-hf", "asr", device="cpu", dtype="fp32")
    return TextModel(loaded.model.model.language_model)


def _embeds(text: TextModel, length: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(length, text.lm.config.hidden_size, generator=gen) * 0.5


@torch.inference_mode()
def test_packed_rows_do_not_depend_on_their_neighbours(text: TextModel) -> None:
    a, b = _embeds(text, 45, 1), _embeds(text, 70, 2)
    alone = text.packed(b, torch.arange(70), [0, 70])
    both = text.packed(
        torch.cat([a, b]), torch.cat([torch.arange(45), torch.arange(70)]), [0, 45, 115]
    )
    assert torch.equal(both[45:], alone)


@torch.inference_mode()
def test_packed_matches_transformers_forward(text: TextModel) -> None:
    x = _embeds(text, 150, 3)
    ours = text.packed(x, torch.arange(150), [0, 150])
    ref = text.lm(inputs_embeds=x[None], position_ids=torch.arange(150)[None], use_cache=False)
    assert torch.allclose(ours, ref.last_hidden_state[0], atol=1e-5)


@torch.inference_mode()
def test_cached_steps_equal_a_full_pass(text: TextModel) -> None:
    """Prefill two prompts of different lengths, then 3 steps: each step's hidden state
    is the one a full pass over prompt + fed tokens gives at that position."""
    prompts = [_embeds(text, 20, 4), _embeds(text, 33, 5)]
    fed = [_embeds(text, 3, 6), _embeds(text, 3, 7)]
    cache = text.new_cache(2, 34, prompts[0])  # one row too short for 3 steps: grows
    keys_before = cache.keys.data_ptr()
    last = text.prefill(prompts, cache)
    for row in range(2):
        full = text.packed(prompts[row], torch.arange(len(prompts[row])), [0, len(prompts[row])])
        assert torch.allclose(last[row], full[-1], atol=1e-5)
    for step in range(3):
        if int(cache.lengths.max()) >= cache.capacity:
            text.grow(cache, cache.capacity + 4)
        elif step:
            assert cache.keys.data_ptr() == keys_before  # written in place, not reallocated
        keys_before = cache.keys.data_ptr()
        hidden = text.step(torch.stack([fed[0][step], fed[1][step]]), cache)
        for row in range(2):
            seq = torch.cat([prompts[row], fed[row][: step + 1]])
            full = text.packed(seq, torch.arange(len(seq)), [0, len(seq)])
            assert torch.allclose(hidden[row], full[-1], atol=1e-5), (step, row)
    assert cache.lengths.tolist() == [23, 36]


def test_future_bias_is_cached_per_shape() -> None:
    first = text_model._future_bias(4, 2, torch.device("cpu"), torch.bfloat16)
    assert first.shape == (8, 4)
    inf = float("-inf")
    assert first[:2].tolist() == [[0.0, inf, inf, inf]] * 2  # position 0 sees only itself
    assert first[6:].tolist() == [[0.0] * 4] * 2  # the last position sees the whole block
    assert text_model._future_bias(4, 2, torch.device("cpu"), torch.bfloat16) is first
    wide = text_model._future_bias(4, 2, torch.device("cpu"), torch.float32)
    assert wide.dtype == torch.float32 and first.dtype == torch.bfloat16
    assert wide is not first and wide.tolist() == first.tolist()


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("shape", [(7, 64), (33, 4, 16), (1, 1024)])
def test_rms_norm_equals_the_models_module_bit_for_bit(shape: tuple, dtype: str) -> None:
    from transformers.models.qwen3.modeling_qwen3 import Qwen3RMSNorm

    gen = torch.Generator().manual_seed(len(shape))
    norm = Qwen3RMSNorm(shape[-1], eps=1e-6).to(getattr(torch, dtype))
    with torch.no_grad():
        norm.weight.copy_(torch.rand(shape[-1], generator=gen) + 0.5)
    x = (torch.randn(*shape, generator=gen) * 3).to(getattr(torch, dtype))
    with torch.inference_mode():
        assert torch.equal(text_model.rms_norm(norm, x), norm(x))


def test_block_attention_bits_do_not_depend_on_the_input_layout() -> None:
    """bf16 queries given as a strided view or a contiguous copy: the same bits."""
    gen = torch.Generator().manual_seed(10)
    packed = torch.randn(300, 8 * 16, generator=gen).to(torch.bfloat16)
    query, key, value = packed[:, :64].view(300, 4, 16), packed[:, 64:96], packed[:, 96:]
    key, value = key.reshape(300, 2, 16), value.reshape(300, 2, 16)
    strided = causal_attention(query, key, value, 0.25, fused=False)
    plain = causal_attention(query.contiguous(), key, value, 0.25, fused=False)
    assert torch.equal(strided, plain)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("scratch", [False, True])
def test_rotary_positions_equal_transformers_form_bit_for_bit(dtype: str, scratch: bool) -> None:
    from transformers.models.qwen3.modeling_qwen3 import rotate_half

    gen = torch.Generator().manual_seed(4)
    kind = getattr(torch, dtype)
    x = (torch.randn(37, 4, 128, generator=gen) * 3).to(kind)
    angles = torch.rand(37, 1, 64, generator=gen) * 40
    cos, sin = (torch.cat((f, f), dim=-1).to(kind) for f in (angles.cos(), angles.sin()))
    want = x * cos + rotate_half(x) * sin
    # The decoding steps' scratch: a strided view of a wider buffer, as for the key heads.
    buffer = torch.full((37, 8, 128), float("nan"), dtype=kind)[:, :4] if scratch else None
    got = text_model.rotate(x.clone(), cos, text_model.signed_sin(sin), buffer)
    assert torch.equal(got, want)


def _block_reference(query, key, value, scale, whole_blocks):
    """Block-wise causal attention written plainly: the layout and blocks of
    :func:`causal_attention`, with ``masked_fill`` and ``torch.softmax`` per block."""
    from qalign.aligner.qwen3.shapes import round_up

    length, heads, dim = query.shape
    kv_heads = key.shape[1]
    groups = heads // kv_heads
    block = text_model.ATTENTION_BLOCK
    padded = round_up(length, block) if whole_blocks else length

    def pad(t):
        return torch.cat([t, t.new_zeros((padded - length, *t.shape[1:]))])

    # (kv_heads, padded * groups, dim): row p * groups + g is query head kv * groups + g at p.
    q = pad(query * scale).view(padded, kv_heads, groups, dim).transpose(0, 1)
    q = q.reshape(kv_heads, padded * groups, dim)
    k_t = pad(key).permute(1, 2, 0).contiguous()  # (kv_heads, dim, padded)
    v = pad(value).transpose(0, 1).contiguous()  # (kv_heads, padded, dim)
    position = torch.arange(padded).repeat_interleave(groups)  # of each stacked row
    out = torch.empty_like(q)
    for start in range(0, padded, block):
        end = min(padded, start + block)
        rows = slice(start * groups, end * groups)
        scores = torch.bmm(q[:, rows], k_t[:, :, :end])
        future = torch.arange(end)[None, :] > position[rows, None]
        probs = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        out[:, rows] = torch.bmm(probs, v[:, :end])
    out = out.view(kv_heads, padded, groups, dim)[:, :length].transpose(0, 1)
    return out.reshape(length, heads, dim)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("length", [1, 129, 300])
@pytest.mark.parametrize("groups", [1, 2])
def test_block_attention_equals_a_plain_block_reference_bit_for_bit(
    dtype: str, length: int, groups: int
) -> None:
    """The cached additive mask, the in-place softmax and the shared scores buffer
    give exactly what ``masked_fill`` and ``torch.softmax`` on fresh tensors give."""
    gen = torch.Generator().manual_seed(11 * length + groups)
    kind = getattr(torch, dtype)
    kv_heads, dim = 2, 16
    query, key, value = (
        torch.randn(length, h, dim, generator=gen).to(kind)
        for h in (kv_heads * groups, kv_heads, kv_heads)
    )
    got = causal_attention(query, key, value, 0.25, fused=False)
    whole_blocks = kind != torch.float32  # causal_attention's default
    want = _block_reference(query, key, value, 0.25, whole_blocks)
    assert got.dtype == kind
    assert torch.equal(got, want)


@pytest.fixture(scope="module")
def bf16_layer(parity_dir: Path):
    from qalign.checkpoint import load_model

    loaded = load_model(parity_dir / "fa-tiny-hf", "aligner", device="cpu", dtype="bf16")
    lm = loaded.model.model.language_model
    assert lm.layers[0].mlp.gate_proj.weight.dtype == torch.bfloat16
    return lm


@torch.inference_mode()
def test_layer_finish_equals_the_models_residual_and_mlp(bf16_layer) -> None:
    layer = bf16_layer.layers[0]
    cfg = bf16_layer.config
    gen = torch.Generator().manual_seed(12)
    x = torch.randn(37, cfg.hidden_size, generator=gen).bfloat16()
    attended = torch.randn(37, cfg.num_attention_heads, cfg.head_dim, generator=gen).bfloat16()
    got = TextModel._finish(layer, x, attended)
    mid = x + layer.self_attn.o_proj(attended.reshape(37, -1))
    want = mid + layer.mlp(layer.post_attention_layernorm(mid))
    assert torch.equal(got, want)
