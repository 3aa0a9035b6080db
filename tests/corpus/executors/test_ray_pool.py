"""The Ray executor's driver loop against an in-process stand-in for Ray: retries, the
split of a bucket that keeps killing workers, one result per item, load failures.

The real cluster is exercised in test_ray.py; here a worker "dies" on demand, which a
real cluster cannot do reliably."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from qalign.corpus.executors import ray as ray_executor
from qalign.corpus.items import CorpusItem
from qalign.corpus.job import CorpusJob
from qalign.errors import QalignError


class _RayError(Exception):
    pass


class _ActorDied(_RayError):
    pass


class _Ref:
    def __init__(self, value=None, error: Exception | None = None, pending=False) -> None:
        self.value, self.error, self.pending = value, error, pending


class _Actor:
    def __init__(self, fake: FakeRay, job: CorpusJob) -> None:
        self.fake = fake
        self.body = ray_executor.BucketWorker(job)
        self.dead = False
        self.ready = _Method(lambda: ("node-1", self.body.error))
        if fake.no_room:  # the cluster never has room: the actor never starts
            self.ready.remote = lambda: _Ref(pending=True)
        self.process = _Method(self._process)

    def _process(self, bucket):
        self.fake.calls.append([i.key for i in bucket])
        if self.dead or any(i.key in self.fake.poison for i in bucket):
            self.dead = True  # the worker process is gone, with whatever it held
            raise _ActorDied("worker died")
        return self.body.process(bucket)


class _Method:
    def __init__(self, fn) -> None:
        self.fn = fn

    def remote(self, *args):
        try:
            return _Ref(self.fn(*args))
        except _RayError as exc:
            return _Ref(error=exc)


class FakeRay:
    """What the executor uses of ``ray``, run synchronously in this process."""

    class exceptions:
        RayError = _RayError
        RayActorError = _ActorDied

    def __init__(self, poison: set[str] = frozenset(), no_room: bool = False) -> None:
        self.poison = set(poison)
        self.no_room = no_room
        self.calls: list[list[str]] = []
        self.actors: list[_Actor] = []
        self.killed = 0

    def is_initialized(self) -> bool:
        return True

    def cluster_resources(self) -> dict:
        return {"CPU": 2.0}

    def remote(self, cls):
        fake = self

        class _Class:
            def options(self, **_kw):
                return self

            def remote(self, job):
                fake.actors.append(_Actor(fake, job))
                return fake.actors[-1]

        return _Class()

    def wait(self, refs, num_returns=1, timeout=None):
        done = [r for r in refs if not r.pending][:num_returns]
        return done, [r for r in refs if r not in done]

    def get(self, ref):
        if ref.error is not None:
            raise ref.error
        return ref.value

    def kill(self, actor, no_restart=True):
        actor.dead = True
        self.killed += 1


def _items(tmp_path: Path, make_wav, count: int) -> list[CorpusItem]:
    return [
        CorpusItem(f"k{i}", str(make_wav(tmp_path / f"{i}.wav", 0.5)), "a b c", size_hint=0.5)
        for i in range(count)
    ]


def _run(fake, monkeypatch, job, buckets, **options):
    monkeypatch.setattr(ray_executor, "import_ray", lambda: fake)
    seen = []
    ray_executor.RayExecutor(**options).run(job, buckets, seen.append)
    return seen


def test_a_bucket_that_kills_workers_is_split_and_only_its_culprit_fails(
    tmp_path: Path, make_wav, even_engine, monkeypatch
) -> None:
    items = _items(tmp_path, make_wav, 9)
    job = CorpusJob(outdir=str(tmp_path / "out"), formats=("json",))
    fake = FakeRay(poison={"k4"})
    buckets = [items[0:3], items[3:6], items[6:9]]
    seen = _run(fake, monkeypatch, job, buckets, workers=2, max_attempts=3)

    assert Counter(r.key for r in seen) == Counter(i.key for i in items)  # each once
    status = {r.key: (r.status, r.stage) for r in seen}
    assert status.pop("k4") == ("failed", "worker")
    assert set(status.values()) == {("done", None)}
    # The whole bucket twice, then its items one by one; the culprit until max_attempts.
    assert fake.calls.count(["k3", "k4", "k5"]) == 2
    assert fake.calls.count(["k4"]) == 1 and ["k3"] in fake.calls and ["k5"] in fake.calls
    assert len(fake.actors) > 2  # dead workers were replaced
    for i in items:
        assert (tmp_path / "out" / f"{i.key}.json").is_file() == (i.key != "k4")


def test_one_attempt_means_no_retry(tmp_path: Path, make_wav, even_engine, monkeypatch) -> None:
    items = _items(tmp_path, make_wav, 2)
    job = CorpusJob(outdir=str(tmp_path / "out"), formats=("json",))
    fake = FakeRay(poison={"k0"})
    seen = _run(
        fake, monkeypatch, job, [items[:1], items[1:]], workers=1, max_attempts=1, in_flight=1
    )
    assert sorted((r.key, r.status) for r in seen) == [("k0", "failed"), ("k1", "done")]
    assert fake.calls.count(["k0"]) == 1


def test_an_engine_that_cannot_load_stops_the_run_with_its_error(
    tmp_path: Path, make_wav, monkeypatch
) -> None:
    def no_engine(*_a, **_k):
        raise QalignError("no weights here")

    monkeypatch.setattr("qalign.aligner.engines.create_aligner", no_engine)
    job = CorpusJob(outdir=str(tmp_path / "out"), formats=("json",))
    fake = FakeRay()
    with pytest.raises(QalignError, match="no weights here"):
        _run(fake, monkeypatch, job, [_items(tmp_path, make_wav, 1)], workers=2)
    assert fake.calls == [] and all(a.dead for a in fake.actors)


def test_workers_that_never_start_end_the_run_after_the_start_timeout(
    tmp_path: Path, make_wav, even_engine, monkeypatch
) -> None:
    job = CorpusJob(outdir=str(tmp_path / "out"), formats=("json",))
    fake = FakeRay(no_room=True)
    with pytest.raises(QalignError, match="no Ray worker started within 0.05 s"):
        _run(fake, monkeypatch, job, [_items(tmp_path, make_wav, 1)], workers=1, start_timeout=0.05)
    assert fake.calls == [] and all(a.dead for a in fake.actors)


def test_workers_default_to_what_the_cluster_holds(monkeypatch) -> None:
    fake = FakeRay()
    monkeypatch.setattr(ray_executor, "import_ray", lambda: fake)
    assert ray_executor.RayExecutor()._pool_size(fake) == 2
    assert ray_executor.RayExecutor(cpus_per_worker=0.5)._pool_size(fake) == 4
    with pytest.raises(
        QalignError, match="has 2 CPU and 0 GPU; one worker asks for 1 CPU and 1 GPU"
    ):
        ray_executor.RayExecutor(gpus_per_worker=1)._pool_size(fake)
