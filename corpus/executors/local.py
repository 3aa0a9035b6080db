"""The default executor: one worker in this process, with the next bucket's audio
decoded and transcripts read on a background thread while the model aligns the
current one (decoding releases the GIL, so both cores stay busy)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from qalign.corpus.executors.base import Executor
from qalign.corpus.items import CorpusItem, ItemResult
from qalign.corpus.job import CorpusJob, Prepared


class LocalExecutor(Executor):
    """One model load; buckets in order; one bucket prepared ahead."""

    name = "local"

    def __init__(self, prefetch: bool = True) -> None:
        self.prefetch = prefetch

    def run(
        self,
        job: CorpusJob,
        batches: Iterable[Sequence[CorpusItem]],
        on_result: Callable[[ItemResult], None],
    ) -> None:
        worker = job.make_worker()
        buckets = iter(batches)
        if not self.prefetch:
            for bucket in buckets:
                for result in worker.process(bucket):
                    on_result(result)
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qalign-prefetch") as pool:
            pending: Future[list[Prepared]] | None = None
            first = next(buckets, None)
            if first is not None:
                pending = pool.submit(worker.prepare, first)
            while pending is not None:
                prepared = pending.result()
                following = next(buckets, None)
                pending = pool.submit(worker.prepare, following) if following is not None else None
                for result in worker.align(prepared):
                    on_result(result)
