"""Smoke tests of benchmarks/bench_aligner.py's building blocks on the tiny parity sizes.

They keep the benchmark from rotting: the random checkpoint must load in both
layouts (through qalign's strict loader, with identical weights), the inputs
must have the token counts they claim, each engine's worker must align every
word, and the report must compute ratios and target checks from the rows.

The official qwen-asr baseline runs only when ``QALIGN_OFFICIAL_PYTHON`` names
the python of a virtual env where qwen-asr is installed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    """The benchmark's helper modules, imported from the benchmarks folder."""
    sys.path.insert(0, str(BENCH))
    try:
        yield {
            name: importlib.import_module(name)
            for name in (
                "aligner_checkpoint",
                "aligner_inputs",
                "aligner_report",
                "aligner_worker",
                "bench_aligner",
            )
        }
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def tiny(bench, parity_dir, tmp_path_factory):
    """Tiny random checkpoints (both layouts) and inputs for a 3 s clip and the 5 s warm-up clip."""
    ck = bench["aligner_checkpoint"]
    inp = bench["aligner_inputs"]
    work = tmp_path_factory.mktemp("bench")
    templates = ck.find_templates(parity_dir)
    checkpoints = ck.build_checkpoints(work / "models", ck.TINY_SIZES, templates=templates)
    clips = inp.write_inputs(work / "inputs", [3.0, 5.0], inp.tokenizer_counter(checkpoints.native))
    return checkpoints, work / "inputs", clips


def test_real_sizes_config_has_the_documented_shape(bench, parity_dir):
    ck = bench["aligner_checkpoint"]
    native_tpl, original_tpl = ck.find_templates(parity_dir)
    native = ck.native_config(json.loads((native_tpl / "config.json").read_text()), ck.REAL_SIZES)
    assert native["audio_config"]["d_model"] == 1024
    assert native["audio_config"]["encoder_layers"] == 24
    assert native["text_config"]["num_hidden_layers"] == 28
    assert len(native["text_config"]["layer_types"]) == 28
    assert native["text_config"]["vocab_size"] == 152064
    assert native["num_labels"] == 5000
    original = ck.original_config(
        json.loads((original_tpl / "config.json").read_text()), ck.REAL_SIZES
    )
    thinker = original["thinker_config"]
    assert thinker["audio_config"]["downsample_hidden_size"] == 480
    assert thinker["text_config"]["num_key_value_heads"] == 8
    assert thinker["text_config"]["rope_scaling"]["mrope_section"] == [24, 20, 20]
    # Token ids stay the tiny tokenizer's.
    assert (
        thinker["audio_token_id"]
        == json.loads((original_tpl / "config.json").read_text())["thinker_config"][
            "audio_token_id"
        ]
    )


def test_sizes_reject_inconsistent_mrope(bench):
    ck = bench["aligner_checkpoint"]
    fields = {**ck.TINY_SIZES.__dict__, "mrope_section": (4, 4, 4)}
    with pytest.raises(ValueError, match="mrope_section"):
        ck.AlignerSizes(**fields)


def test_original_key_inverts_the_loader_renames(bench):
    from qalign.checkpoint import rename_original_key

    ck = bench["aligner_checkpoint"]
    for key in (
        "model.audio_tower.layers.0.fc1.weight",
        "model.multi_modal_projector.linear_1.bias",
        "model.multi_modal_projector.linear_2.weight",
        "model.language_model.embed_tokens.weight",
        "score.weight",
    ):
        assert rename_original_key(ck.original_key(key), "aligner") == key
    with pytest.raises(ValueError):
        ck.original_key("lm_head.weight")


def test_both_layouts_load_strictly_with_the_same_weights(bench, tiny):
    import torch

    from qalign.checkpoint import load_model

    checkpoints, _, _ = tiny
    native = load_model(str(checkpoints.native), "aligner", device="cpu", dtype="bf16")
    original = load_model(str(checkpoints.original), "aligner", device="cpu", dtype="bf16")
    assert native.config.layout == "native" and original.config.layout == "original"
    a, b = native.model.state_dict(), original.model.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    n_params = sum(p.numel() for p in native.model.parameters())
    assert n_params == checkpoints.num_parameters
    # Random, not constant: matrices vary, norm scales are one.
    emb = a["model.language_model.embed_tokens.weight"].float()
    assert 0.01 < emb.std().item() < 0.03
    assert torch.all(a["model.language_model.norm.weight"] == 1)


def test_build_is_cached(bench, tiny, parity_dir):
    ck = bench["aligner_checkpoint"]
    checkpoints, _, _ = tiny
    weights = checkpoints.native / "model.safetensors"
    before = weights.stat().st_mtime_ns
    again = ck.build_checkpoints(
        checkpoints.native.parents[1], ck.TINY_SIZES, templates=ck.find_templates(parity_dir)
    )
    assert again == checkpoints
    assert weights.stat().st_mtime_ns == before


def test_inputs_have_the_claimed_lengths(bench, tiny):
    from qalign.aligner.qwen3.features import num_audio_tokens, num_feature_frames

    inp = bench["aligner_inputs"]
    checkpoints, folder, clips = tiny
    clip = clips[3.0]
    audio = np.load(clip.audio_path)
    assert audio.dtype == np.float32 and audio.shape == (48000,)
    assert 0 < np.abs(audio).max() < 1
    words = clip.transcript_path.read_text(encoding="utf-8").replace(".", "").split()
    assert len(words) == clip.words == 9  # ceil(3 s x 2.7 words/s)
    count = inp.tokenizer_counter(checkpoints.native)
    assert clip.text_tokens == sum(count(w) for w in words)
    n_audio = num_audio_tokens(num_feature_frames(audio.shape[0]))
    assert clip.sequence_tokens == n_audio + 2 + clip.text_tokens + 2 * clip.words
    for seconds in (0.3, 1.0, 2.5, 30.0, 299.99):
        n = int(round(seconds * 16000))
        assert inp.audio_tokens(seconds) == num_audio_tokens(num_feature_frames(n))


def test_word_choice_reaches_the_target_tokens_per_word(bench):
    inp = bench["aligner_inputs"]
    words = inp.choose_words(500, len, tokens_per_word=5.0, seed=3)
    assert len(words) == 500
    assert abs(sum(map(len, words)) / 500 - 5.0) < 0.05
    assert inp.choose_words(20, len, 5.0, seed=3) == inp.choose_words(20, len, 5.0, seed=3)
    with pytest.raises(ValueError):
        inp.choose_words(10, lambda w: 2, tokens_per_word=5.0)


@pytest.mark.parametrize("engine", ["ours", "transformers"])
def test_worker_aligns_every_word(bench, tiny, engine):
    checkpoints, folder, clips = tiny
    row = bench["bench_aligner"].run_worker(
        sys.executable,
        engine,
        "bf16",
        checkpoints.native,
        folder,
        3.0,
        2,
        threads=1,
        timeout=300,
    )
    assert "error" not in row, row.get("error")
    assert row["dtype"] == "bfloat16"
    assert row["words_out"] == [clips[3.0].words] * 2
    assert row["audio_s_per_s"] == pytest.approx(2 * 3.0 / row["best_s"], rel=0.01)
    assert row["peak_rss_gb"] >= row["rss_after_load_gb"] > 0
    if engine == "transformers":
        assert row["tokens_seen"] == [clips[3.0].sequence_tokens] * 2


def test_worker_failure_becomes_an_error_row(bench, tiny, tmp_path):
    _, folder, _ = tiny
    row = bench["bench_aligner"].run_worker(
        sys.executable, "transformers", "bf16", tmp_path, folder, 3.0, 1, threads=1, timeout=300
    )
    assert row["engine"] == "transformers" and row["clip_s"] == 3.0
    assert row["error"].startswith("exit ")


def test_official_worker(bench, tiny):
    python = os.environ.get("QALIGN_OFFICIAL_PYTHON")
    if not python:
        pytest.skip("set QALIGN_OFFICIAL_PYTHON to a python with qwen-asr installed")
    checkpoints, folder, clips = tiny
    row = bench["bench_aligner"].run_worker(
        python, "official", "default", checkpoints.original, folder, 3.0, 1, threads=1, timeout=600
    )
    assert "error" not in row, row.get("error")
    assert row["words_out"] == [clips[3.0].words]


def test_report_ratios_and_targets(bench):
    rep = bench["aligner_report"]

    def row(engine, dtype, clip, batch, speed, peak=1.0):
        return {
            "engine": engine,
            "dtype_requested": dtype,
            "dtype": dtype,
            "clip_s": clip,
            "batch": batch,
            "audio_s_per_s": speed,
            "best_s": clip * batch / speed,
            "load_s": 1.0,
            "import_s": 1.0,
            "peak_rss_gb": peak,
            "run_peak_rss_gb": peak,
            "words_out": [81] * batch,
        }

    rows = [
        row("ours", "bf16", 300, 1, 12.0, peak=2.2),
        row("transformers", "default", 300, 1, 6.0),
        row("official", "default", 300, 1, 4.0),
        row("ours", "bf16", 30, 1, 9.0),
        {
            "engine": "official",
            "dtype_requested": "default",
            "clip_s": 30,
            "batch": 1,
            "error": "exit 1: boom",
        },
        row("transformers", "default", 30, 1, 7.5),
    ]
    found = {(r.baseline, r.clip_s): r.ratio for r in rep.ratios(rows)}
    assert found[("transformers/default", 300)] == pytest.approx(2.0)
    assert found[("official/default", 300)] == pytest.approx(3.0)
    assert found[("transformers/default", 30)] == pytest.approx(1.2)
    assert found[("official/default", 30)] is None
    checks = {name: (met, detail) for name, met, detail in rep.target_checks(rows)}
    speed = next(v for k, v in checks.items() if "audio per second" in k)
    assert speed[0] is False and "9.00 at 30 s" in speed[1]
    memory = next(v for k, v in checks.items() if "RSS" in k)
    assert memory[0] is True
    assert checks["≥ 2× official/default"][0] is True
    assert checks["≥ 1.5× transformers/default"][0] is False
    table = rep.results_table(rows)
    assert table.count("\n") == len(rows) + 1
    assert "failed: exit 1: boom" in table
    assert "× official/default" in rep.ratios_table(rep.ratios(rows))


def test_cli_refuses_a_workdir_inside_the_repository(bench):
    with pytest.raises(SystemExit):
        bench["bench_aligner"].parse_args(["--workdir", str(BENCH / "cache")])
    args = bench["bench_aligner"].parse_args(["--clips", "30,120", "--baselines", "transformers"])
    variants, notes = bench["bench_aligner"].plan(args)
    assert ("ours", "bf16") in variants and ("transformers", "default") in variants
    assert not any(engine == "official" for engine, _ in variants) and not notes
    args = bench["bench_aligner"].parse_args([])
    assert any("official" in n for n in bench["bench_aligner"].plan(args)[1])
