"""The executor registry and the local executor's contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from qalign.corpus.executors import get_executor
from qalign.corpus.executors.local import LocalExecutor
from qalign.corpus.items import CorpusItem
from qalign.corpus.job import CorpusJob
from qalign.errors import QalignError


def test_unknown_executor_is_a_qalign_error() -> None:
    with pytest.raises(QalignError, match="unknown executor 'nope'"):
        get_executor("nope")


def test_local_is_the_default() -> None:
    assert isinstance(get_executor(), LocalExecutor)


@pytest.mark.parametrize("prefetch", [True, False])
def test_one_result_per_item_from_the_calling_thread(
    tmp_path: Path, even_engine, make_wav, prefetch: bool
) -> None:
    import threading

    items = []
    for i in range(5):
        wav = make_wav(tmp_path / f"{i}.wav", 0.5 + i * 0.1)
        items.append(CorpusItem(f"k{i}", str(wav), "a b c" if i != 3 else "", size_hint=0.5))
    job = CorpusJob(outdir=str(tmp_path / "out"), formats=("json",))
    seen: list[tuple[str, str]] = []
    caller = threading.get_ident()

    def on_result(result) -> None:
        assert threading.get_ident() == caller
        seen.append((result.key, result.status))

    LocalExecutor(prefetch=prefetch).run(job, [items[:2], items[2:4], items[4:]], on_result)
    assert sorted(seen) == [
        ("k0", "done"),
        ("k1", "done"),
        ("k2", "done"),
        ("k3", "failed"),
        ("k4", "done"),
    ]
    assert even_engine.loads == 1
    assert (tmp_path / "out" / "k4.json").is_file() and not (tmp_path / "out" / "k3.json").exists()


def test_next_bucket_is_prepared_while_the_model_works(
    tmp_path: Path, even_engine, make_wav, monkeypatch
) -> None:
    import threading

    from qalign.corpus.job import CorpusWorker

    items = [
        CorpusItem(f"k{i}", str(make_wav(tmp_path / f"{i}.wav", 0.5)), "a b", size_hint=0.5)
        for i in range(2)
    ]
    second_prepared = threading.Event()
    overlapped = []
    real_prepare, real_align = CorpusWorker.prepare, CorpusWorker.align

    def prepare(self, bucket):
        out = real_prepare(self, bucket)
        if bucket[0].key == "k1":
            second_prepared.set()
        return out

    def align(self, prepared):
        if prepared[0].item.key == "k0":  # the model "works" until the next bucket is ready
            overlapped.append(second_prepared.wait(timeout=10))
        return real_align(self, prepared)

    monkeypatch.setattr(CorpusWorker, "prepare", prepare)
    monkeypatch.setattr(CorpusWorker, "align", align)
    job = CorpusJob(outdir=str(tmp_path / "out"), formats=("json",))
    LocalExecutor().run(job, [items[:1], items[1:]], lambda r: None)
    assert overlapped == [True]
