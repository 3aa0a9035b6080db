"""The FLOP count and limit helpers of benchmarks/bench_aligner_limit.py, on the tiny checkpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def limit_module():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_aligner_limit

        yield bench_aligner_limit
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def loaded(parity_dir: Path):
    from qalign.checkpoint import load_model

    return load_model(parity_dir / "fa-tiny-hf", "aligner", device="cpu", dtype="fp32")


def test_flop_count_parts(limit_module, loaded) -> None:
    model, cfg = loaded.model, loaded.config
    lm = model.model.language_model
    a = limit_module.pass_flops(model, cfg, 300, 39, 100, 10)
    b = limit_module.pass_flops(model, cfg, 300, 39, 200, 20)
    # linear layers and the head grow with rows, causal attention with n (n + 1) / 2
    assert b["llm_linear"] == 2 * a["llm_linear"]
    assert b["head"] == 2 * a["head"]
    assert b["llm_attention"] * (100 * 101) == a["llm_attention"] * (200 * 201)
    per_token = sum(
        2 * m.in_features * m.out_features
        for m in lm.layers.modules()
        if isinstance(m, torch.nn.Linear)
    )
    assert a["llm_linear"] == 100 * per_token
    # encoder attention stays inside 8 s windows (104 positions): 2 windows cost 2x one
    one = limit_module.pass_flops(model, cfg, 800, 104, 100, 10)["encoder_attention"]
    two = limit_module.pass_flops(model, cfg, 1600, 208, 100, 10)["encoder_attention"]
    assert two == 2 * one
    assert a["total"] == sum(v for k, v in a.items() if k != "total")


def test_limit_and_bandwidth_are_positive(limit_module, loaded) -> None:
    shapes = limit_module.limit_shapes(loaded.model, 39, 100)
    assert {m for m, _, _ in shapes} == {39, 100}  # encoder rows and language-model rows
    assert limit_module.measure_limit(shapes[:2], repeat=1) > 0
    assert limit_module.measure_bandwidth(megabytes=4, repeat=1) > 0


def test_limit_is_measured_with_and_without_packed_weights(limit_module, loaded) -> None:
    from qalign.aligner.qwen3.packed_linear import can_pack

    shapes = limit_module.limit_shapes(loaded.model, 39, 100)[:2]
    limits = limit_module.measure_limits(shapes, repeat=1)
    want = {"linear", "packed"} if can_pack(torch.bfloat16, torch.device("cpu")) else {"linear"}
    assert set(limits) == want
    assert all(value > 0 for value in limits.values())


def test_flops_count_packed_layers(limit_module, loaded, parity_dir: Path) -> None:
    """A bf16 aligner's packed layers are counted as the linear layers they replace."""
    from qalign.aligner.qwen3.model import Qwen3AlignerModel
    from qalign.checkpoint import load_model

    runner = Qwen3AlignerModel(load_model(parity_dir / "fa-tiny-hf", "aligner", dtype="bf16"))
    packed = limit_module.pass_flops(runner.model, runner.config, 300, 39, 100, 10)
    assert packed == limit_module.pass_flops(loaded.model, loaded.config, 300, 39, 100, 10)
