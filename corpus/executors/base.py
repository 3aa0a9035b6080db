"""The executor interface: how buckets of corpus items reach workers.

An executor receives the job, an iterable of buckets (lists of items of similar
length) and a callback. It must call ``on_result`` exactly once per item, in any
order, from the thread that called :meth:`Executor.run`. Skipping finished items,
writing outputs atomically and the reports are not its business (the runner and
:class:`qalign.corpus.job.CorpusWorker` do them), so adding an executor touches
nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from qalign.corpus.items import CorpusItem, ItemResult
from qalign.corpus.job import CorpusJob


class Executor(ABC):
    """Runs :class:`~qalign.corpus.job.CorpusWorker` over buckets."""

    name: ClassVar[str] = ""

    @abstractmethod
    def run(
        self,
        job: CorpusJob,
        batches: Iterable[Sequence[CorpusItem]],
        on_result: Callable[[ItemResult], None],
    ) -> None:
        """Process every bucket; call ``on_result`` once per item from the calling thread.

        Raises:
            QalignError: the workers cannot start (the engine cannot load). Item
                failures are results, never exceptions.
        """
