"""The Ray executor: a corpus's buckets aligned by a pool of Ray actors across a cluster.

Each actor builds one :class:`~qalign.corpus.job.CorpusWorker` (one model load) and
aligns whole length buckets with it, writing each item's outputs itself under
``job.outdir`` (a path every node sees). This process is the driver: it reads the
buckets lazily, keeps at most :attr:`RayExecutor.in_flight` of them queued on each
actor (the actor decodes the next one while the model aligns the current one) and
calls ``on_result`` for every item from the calling thread, so progress, reports and
the summary are the runner's as with the local executor.

Faults. When an actor or its node dies, the buckets it held go back to the queue and
run on another actor; the dead actor is replaced when the cluster has room. A bucket
that fails a second time is split into single items, and an item whose call has
failed ``max_attempts`` times is reported failed (stage ``worker``), so one item that
kills its worker cannot stop the run. Outputs the dead worker wrote before dying are
written again, atomically and with the same bytes, and only results that reach the
driver are counted: every item is reported once.

Why an actor pool and not Ray Data: see the README ("Scale-out on Ray"). In short,
the pool needs only Ray core (Ray Data adds pandas and pyarrow), starts its workers
in about a second instead of three on a toy job, and gives this module the retry and
split rules above, which Ray Data's task retries do not express.

``ray`` is imported inside functions only: importing this module needs no Ray, and
the local executor never imports it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from qalign.corpus.executors.base import Executor
from qalign.corpus.items import CorpusItem, ItemResult
from qalign.corpus.job import CorpusJob
from qalign.errors import MissingDependencyError, QalignError

logger = logging.getLogger("qalign")

# Ray replaces 127.0.0.1 by the machine's outward address; other loopback addresses
# stay, so a local instance binds its node to 127.0.0.2 where that address exists.
LOCAL_NODE_IP = "127.0.0.2" if sys.platform.startswith("linux") else "127.0.0.1"


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        MissingDependencyError: Ray is not installed (exit code 3, names the extra).
    """
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", "ray", "--executor ray") from None
    return ray


class BucketWorker:
    """The body of one Ray actor: a corpus worker with its model loaded once.

    ``process`` may run twice at once (the actor has two threads): preparing a bucket
    (transcripts, audio decoding) needs no model and overlaps the other call's
    alignment; the model itself is used by one call at a time.
    """

    def __init__(self, job: CorpusJob) -> None:
        self._lock = threading.Lock()
        self.error: QalignError | None = None
        self.worker = None
        try:
            self.worker = job.make_worker()
        except QalignError as exc:  # reported by ready(), raised by the driver
            self.error = exc

    def ready(self) -> tuple[str, QalignError | None]:
        """This actor's node id, and the error that kept the engine from loading."""
        import ray

        return ray.get_runtime_context().get_node_id(), self.error

    def process(self, items: Sequence[CorpusItem]) -> list[ItemResult]:
        """Align one bucket and write its outputs; one result per item."""
        assert self.worker is not None, "process() on a worker whose engine did not load"
        prepared = self.worker.prepare(items)
        with self._lock:
            return self.worker.align(prepared)


class RayExecutor(Executor):
    """Runs buckets on a pool of Ray actors, one model per actor.

    Args:
        address: the cluster to join (``HOST:PORT``, ``ray://...`` or ``auto``); ``None``
            starts a Ray instance on this machine (node address on loopback) and stops it
            at the end.
        workers: number of actors (model copies); ``None`` fills the cluster: its CPUs
            divided by ``cpus_per_worker`` (its GPUs by ``gpus_per_worker`` when that is set).
        cpus_per_worker: CPUs each actor reserves (its torch threads), > 0.
        gpus_per_worker: GPUs each actor reserves; a fraction (0.5) shares one GPU.
        max_attempts: calls an item may take part in before it is reported failed.
        in_flight: buckets queued on one actor at once (2: one aligns, one is decoded).
        start_timeout: seconds to wait, with no worker alive, for one to start.

    Raises:
        MissingDependencyError: Ray is not installed.
        QalignError: bad option values, or nothing listens at a ``HOST:PORT`` address.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_worker: float = 1.0,
        gpus_per_worker: float = 0.0,
        max_attempts: int = 3,
        in_flight: int = 2,
        start_timeout: float = 300.0,
    ) -> None:
        import_ray()
        if workers is not None and workers < 1:
            raise QalignError(f"--workers must be at least 1, not {workers}")
        if cpus_per_worker <= 0 or gpus_per_worker < 0:
            raise QalignError("--cpus-per-worker must be > 0 and --gpus-per-worker >= 0")
        self.address = address
        self.workers = workers
        self.cpus_per_worker = float(cpus_per_worker)
        self.gpus_per_worker = float(gpus_per_worker)
        self.max_attempts = max(1, max_attempts)
        self.in_flight = max(1, in_flight)
        self.start_timeout = start_timeout
        if address:
            _check_reachable(address)

    # -- connecting ---------------------------------------------------------------------

    def _connect(self, ray: Any) -> bool:
        """Join the cluster (or start a local instance); True when this call did it."""
        if ray.is_initialized():
            return False
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        common = {"logging_level": logging.WARNING, "log_to_driver": False}
        with _signal_handlers_kept():
            self._init(ray, common)
        return True

    def _init(self, ray: Any, common: dict[str, Any]) -> None:
        try:
            if self.address:
                ray.init(address=self.address, **common)
            else:
                cpus = None
                if self.workers is not None:
                    cpus = max(1, math.ceil(self.workers * self.cpus_per_worker))
                ray.init(
                    num_cpus=cpus,
                    include_dashboard=False,
                    _node_ip_address=LOCAL_NODE_IP,
                    **common,
                )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            raise QalignError(f"cannot start or reach {where}: {_one_line(exc)}") from None

    def _pool_size(self, ray: Any) -> int:
        resources = ray.cluster_resources()
        cpus, gpus = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
        if cpus < self.cpus_per_worker or gpus < self.gpus_per_worker:
            raise QalignError(
                f"the Ray cluster has {cpus:g} CPU and {gpus:g} GPU; one worker asks for "
                f"{self.cpus_per_worker:g} CPU and {self.gpus_per_worker:g} GPU"
            )
        if self.workers is not None:
            return self.workers
        fit = int(cpus // self.cpus_per_worker)
        if self.gpus_per_worker:
            fit = min(fit, int(gpus // self.gpus_per_worker))
        return max(1, fit)

    # -- running ------------------------------------------------------------------------

    def run(
        self,
        job: CorpusJob,
        batches: Iterable[Sequence[CorpusItem]],
        on_result: Callable[[ItemResult], None],
    ) -> None:
        ray = import_ray()
        started = self._connect(ray)
        try:
            _Pool(self, ray, job, batches, on_result).run(self._pool_size(ray))
        finally:
            if started:
                ray.shutdown()


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """Put back the termination handlers ``ray.init`` replaces in the driver (its own
    exit with the signal's number), so that SIGTERM and SIGHUP still end a run the way
    the CLI handles them (cleanup, reports, exit code 128 + signal)."""
    saved = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None:
                saved[signum] = signal.getsignal(signum)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:
                signal.signal(signum, handler)


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast when a ``HOST:PORT`` address has no listener (Ray itself retries for
    minutes); other forms (``auto``, ``ray://...``) are left to Ray.

    Raises:
        QalignError: nothing accepts connections at ``address``.
    """
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in host or not host:
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise QalignError(f"cannot reach the Ray cluster at {address}: {reason}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return " ".join(text[0].split()) if text else type(exc).__name__


class _Pool:
    """One run's driver loop: the actors, the queue of buckets and the calls in flight."""

    def __init__(
        self,
        options: RayExecutor,
        ray: Any,
        job: CorpusJob,
        batches: Iterable[Sequence[CorpusItem]],
        on_result: Callable[[ItemResult], None],
    ) -> None:
        self.o = options
        self.ray = ray
        self.job = job
        self.source = iter(batches)
        self.on_result = on_result
        self.queue: deque[tuple[list[CorpusItem], int]] = deque()  # (bucket, failed calls)
        self.starting: dict[Any, Any] = {}  # ready() ref -> actor
        self.live: dict[Any, int] = {}  # actor -> calls in flight
        self.calls: dict[Any, tuple[Any, list[CorpusItem], int]] = {}  # ref -> (actor, bucket, n)
        self.nodes: set[str] = set()
        self.replacements = 0
        self.announced = False
        self.actor_class = ray.remote(BucketWorker).options(
            num_cpus=options.cpus_per_worker,
            num_gpus=options.gpus_per_worker,
            max_concurrency=2,
            max_restarts=0,
            max_task_retries=0,
        )

    def run(self, size: int) -> None:
        self.size = size
        for _ in range(size):
            self._start_actor()
        logger.info("ray: starting %d worker(s)", size)
        idle_since = time.monotonic()
        try:
            while True:
                if self.live or self.calls:
                    idle_since = time.monotonic()  # the start timeout counts from here
                self._fill()
                if not self.calls and not self._has_work():
                    return
                refs = [*self.starting, *self.calls]
                if not refs:
                    raise QalignError("every Ray worker died and none can be replaced")
                ready, _ = self.ray.wait(refs, num_returns=1, timeout=5.0)
                if not ready:
                    if not self.live and time.monotonic() - idle_since > self.o.start_timeout:
                        raise QalignError(
                            f"no Ray worker started within {self.o.start_timeout:g} s "
                            f"(each asks for {self.o.cpus_per_worker:g} CPU and "
                            f"{self.o.gpus_per_worker:g} GPU)"
                        )
                    continue
                ref = ready[0]
                if ref in self.starting:
                    self._started(ref)
                else:
                    self._finished(ref)
        finally:
            for actor in [*self.live, *self.starting.values()]:
                self.ray.kill(actor, no_restart=True)
            if self.calls:  # interrupted: wait (briefly) until no killed worker still writes
                self.ray.wait(list(self.calls), num_returns=len(self.calls), timeout=10.0)

    def _has_work(self) -> bool:
        if self.queue:
            return True
        bucket = next(self.source, None)
        if bucket is None:
            return False
        self.queue.append((list(bucket), 0))
        return True

    def _start_actor(self) -> None:
        actor = self.actor_class.remote(self.job)
        self.starting[actor.ready.remote()] = actor

    def _started(self, ref: Any) -> None:
        actor = self.starting.pop(ref)
        try:
            node, error = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            logger.warning("ray: a worker failed to start: %s", _one_line(exc))
            self._replace(actor)
            return
        if error is not None:  # the engine cannot load: the same on every worker
            self.ray.kill(actor, no_restart=True)
            raise error
        self.live[actor] = 0
        self.nodes.add(node)
        if len(self.live) == self.size and not self.announced:
            self.announced = True
            logger.info("ray: %d worker(s) ready on %d node(s)", len(self.live), len(self.nodes))

    def _fill(self) -> None:
        """Give every live actor work up to ``in_flight`` calls, least loaded first."""
        for actor in sorted(self.live, key=self.live.get):
            while self.live.get(actor, self.o.in_flight) < self.o.in_flight and self._has_work():
                bucket, failures = self.queue.popleft()
                self.calls[actor.process.remote(bucket)] = (actor, bucket, failures)
                self.live[actor] += 1

    def _finished(self, ref: Any) -> None:
        actor, bucket, failures = self.calls.pop(ref)
        if actor in self.live:
            self.live[actor] -= 1
        try:
            results = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            self._failed_call(actor, bucket, failures + 1, exc)
            return
        for result in results:
            self.on_result(result)

    def _failed_call(
        self, actor: Any, bucket: list[CorpusItem], failures: int, exc: Exception
    ) -> None:
        if isinstance(exc, self.ray.exceptions.RayActorError) and actor in self.live:
            logger.warning(
                "ray: a worker died (%s); its buckets go to other workers", _one_line(exc)
            )
            del self.live[actor]
            self._replace(actor)
        if failures >= self.o.max_attempts and len(bucket) == 1:
            item = bucket[0]
            error = f"its worker failed {failures} times; last: {_one_line(exc)}"
            self.on_result(ItemResult(item.key, "failed", "worker", error, None, item.size_hint))
            return
        if failures >= 2 and len(bucket) > 1:  # failed twice: find the item to blame
            self.queue.extend(([item], failures) for item in bucket)
        else:
            self.queue.appendleft((bucket, failures))
        logger.info("ray: %d item(s) go back to the queue", len(bucket))

    def _replace(self, actor: Any) -> None:
        self.ray.kill(actor, no_restart=True)
        if self.replacements < self.size * self.o.max_attempts:
            self.replacements += 1
            self._start_actor()
