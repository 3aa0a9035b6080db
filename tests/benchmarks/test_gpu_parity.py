"""benchmarks/gpu_parity.py stays runnable and counts right: the CPU against itself.

With ``device="cpu"`` both sides of each comparison are our CPU path, which the
parity tests hold to the official outputs: every raw-id case and every
monotonic item must come out equal, and the counts must cover every case of
``fa_cases.jsonl`` (less the two left out by design).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def gpu_parity():
    pytest.importorskip("torch")
    sys.path.insert(0, str(BENCH))
    try:
        import gpu_parity

        yield gpu_parity
    finally:
        sys.path.remove(str(BENCH))


def test_calls_keep_batches_together_in_reference_order(gpu_parity) -> None:
    cases = [
        {"case_id": "a", "batch_id": None, "batch_index": None},
        {"case_id": "b1", "batch_id": "x", "batch_index": 1},
        {"case_id": "c", "batch_id": None, "batch_index": None},
        {"case_id": "b0", "batch_id": "x", "batch_index": 0},
    ]
    calls = gpu_parity._calls(cases)
    assert [[c["case_id"] for c in call] for call in calls] == [["a"], ["b0", "b1"], ["c"]]


def test_check_layout_counts_the_cases_it_compared(gpu_parity, tmp_path: Path, monkeypatch) -> None:
    """A fake engine, and a case file holding only one of the left-out ids."""
    import torch

    import qalign.audio
    from qalign.aligner import qwen3

    skipped = sorted(gpu_parity.SKIP_IDS)[0]
    cases = [
        {"case_id": "same", "raw": [1, 2, 3], "out": [1, 2, 3]},
        {"case_id": skipped, "raw": [0, 0], "out": [5, 5]},
        {"case_id": "one_off", "raw": [4, 0], "out": [4, 7]},
    ]
    common = {"batch_id": None, "batch_index": None, "audio": "a.wav", "language": "English"}
    lines = [
        json.dumps(
            {
                **common,
                "case_id": c["case_id"],
                "word_list": [c["case_id"]],
                "text": c["case_id"],
                "windowed": {"raw_class_ids": c["raw"]},
            }
        )
        for c in cases
    ]
    (tmp_path / "fa_cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = {c["case_id"]: c["out"] for c in cases}

    def slot_logits(prepared):
        return [torch.nn.functional.one_hot(torch.tensor(out[p]), 8).float() for p in prepared]

    engine = SimpleNamespace(
        runner=SimpleNamespace(prepare=lambda audio, words: words[0], slot_logits=slot_logits),
        align_batch=lambda requests: [ValueError("x") for _ in requests],
    )
    monkeypatch.setattr(qalign.audio, "load_audio", lambda path: None)
    monkeypatch.setattr(qwen3.Qwen3Aligner, "from_pretrained", lambda *a, **kw: engine)
    result = gpu_parity.check_layout(tmp_path, "fa-tiny", "cpu")
    assert result["raw_ids_cases"] == 2
    assert result["raw_ids_cases_equal"] == 1
    assert result["slots"] == 5 and result["slots_differ"] == 1
    assert result["monotonic_items"] == result["monotonic_times_equal_to_cpu"] == 3


@pytest.mark.slow
def test_check_layout_on_the_cpu_finds_every_case_equal(gpu_parity, parity_dir: Path) -> None:
    lines = (parity_dir / "fa_cases.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    ids = {c["case_id"] for c in cases}
    assert gpu_parity.SKIP_IDS <= ids
    kept = [c for c in cases if c["case_id"] not in gpu_parity.SKIP_IDS]
    slots = sum(len(gpu_parity._reference(c)["raw_class_ids"]) for c in kept)

    result = gpu_parity.check_layout(parity_dir, "fa-tiny-hf", "cpu")
    assert result["layout"] == "fa-tiny-hf" and result["device"] == "cpu"
    assert result["raw_ids_cases"] == len(kept)
    assert result["raw_ids_cases_equal"] == len(kept)
    assert result["slots"] == slots > 0
    assert result["slots_differ"] == 0
    assert result["slots_differ_at_near_ties"] == 0
    assert result["monotonic_items"] == len(cases)
    assert result["monotonic_times_equal_to_cpu"] == len(cases)
