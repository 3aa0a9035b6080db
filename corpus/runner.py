"""A corpus run: discover items, skip finished ones, bucket by length, align, report.

:func:`run_corpus` is the whole of ``qalign batch`` without the command line. The
executor (:mod:`qalign.corpus.executors`) decides where buckets run; everything else
(what is finished, atomic writes, the reports) happens in one place whatever the
executor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from qalign.corpus.executors.base import Executor
from qalign.corpus.items import CorpusItem, ItemResult
from qalign.corpus.job import CorpusJob
from qalign.corpus.progress import Progress

logger = logging.getLogger("qalign")


@dataclass(frozen=True)
class BatchSummary:
    """The outcome of a run.

    Attributes:
        done: items aligned and written in this run.
        skipped: items already finished by an earlier run.
        failed: items that failed (listed in ``failures.csv``).
        words_unaligned: words with status ``unaligned`` over done and skipped items.
        audio_seconds: seconds of audio aligned in this run.
        elapsed: wall-clock seconds of the run.
        results: every item's result.
        interrupted: items left unfinished by an interruption (Ctrl-C, SIGTERM): a
            rerun aligns them.
    """

    done: int
    skipped: int
    failed: int
    words_unaligned: int
    audio_seconds: float
    elapsed: float
    results: tuple[ItemResult, ...]
    interrupted: int = 0

    def line(self) -> str:
        """The one-line summary ``qalign batch`` prints on stderr (``N interrupted``
        only after an interruption)."""
        stopped = f"{self.interrupted} interrupted, " if self.interrupted else ""
        return (
            f"{self.done} done, {self.skipped} skipped, {self.failed} failed, {stopped}"
            f"{self.words_unaligned} words unaligned "
            f"({self.audio_seconds / 3600:.2f} h audio in {self.elapsed:.1f} s)"
        )


class BatchInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or a termination signal, after its reports were written.

    Attributes:
        summary: what was done before the interruption (``interrupted`` counts the
            items left unfinished).
        cause: the interruption itself (a ``KeyboardInterrupt``, or a subclass telling
            which signal), re-raised by the command line for its exit code.
    """

    def __init__(self, summary: BatchSummary, cause: KeyboardInterrupt) -> None:
        super().__init__(summary.line())
        self.summary = summary
        self.cause = cause


def buckets(
    items: Sequence[CorpusItem], max_seconds: float, max_items: int
) -> list[list[CorpusItem]]:
    """Items grouped by similar length, shortest first: each group holds at most
    ``max_items`` items and ``max_seconds`` of audio (a longer item is a group alone)."""
    groups: list[list[CorpusItem]] = []
    current: list[CorpusItem] = []
    seconds = 0.0
    for item in sorted(items, key=lambda i: (i.size_hint, i.key)):
        if current and (len(current) >= max_items or seconds + item.size_hint > max_seconds):
            groups.append(current)
            current, seconds = [], 0.0
        current.append(item)
        seconds += item.size_hint
    if current:
        groups.append(current)
    return groups


def run_corpus(
    corpus: str | Path,
    job: CorpusJob,
    executor: Executor | None = None,
    *,
    progress: Progress | None = None,
    show_progress: bool | None = None,
) -> BatchSummary:
    """Align every item of ``corpus`` into ``job.outdir`` (a folder, or an fsspec URL:
    :mod:`qalign.corpus.outputs`); see the module docstring.

    Raises:
        QalignError: the corpus cannot be read, OUTDIR cannot be created, or the engine
            cannot start. Failures of single items are in the summary, never raised.
        BatchInterrupted: Ctrl-C or a termination signal stopped the run; the reports
            of what was done are written and the exception holds its summary.
    """
    from qalign.corpus import outputs, reports
    from qalign.corpus.executors import get_executor
    from qalign.corpus.layouts import discover
    from qalign.errors import QalignError

    started = time.monotonic()
    # A local folder (or a file:// URL) is skipped when discovering; other URLs hold no items.
    outdir: str | Path = job.outdir if outputs.is_url(job.outdir) else Path(job.outdir)
    items, results = discover(corpus, exclude=outputs.local_folder(outdir))
    results = list(results)
    if not items and not results:  # before the output folder is made: nothing is left behind
        raise QalignError(
            f"{corpus}: holds no items (audio with a .txt or .lab transcript of the same name, "
            "TextGrids of utterances, or manifest lines)"
        )
    outputs.make_outdir(outdir)
    outputs.clean_stale_temps(outdir)
    todo: list[CorpusItem] = []
    for item in items:
        report = None if job.overwrite else outputs.finished_report(outdir, item.key, job.formats)
        if report is None:
            outputs.forget(outdir, item.key)
            todo.append(item)
        else:
            results.append(ItemResult(item.key, "skipped", None, None, report, item.size_hint))
    if progress is None:
        progress = Progress(len(todo), sum(i.size_hint for i in todo), enabled=show_progress)
    done_seconds = 0.0

    def on_result(result: ItemResult) -> None:
        nonlocal done_seconds
        results.append(result)
        if result.status == "failed":
            logger.warning("%s: failed at %s: %s", result.key, result.stage, result.error)
        else:
            done_seconds += result.audio_seconds
        progress.update(result.audio_seconds, failed=result.status == "failed")

    handed: list[CorpusItem] = []  # items of the buckets the executor has taken

    def handed_out() -> Iterator[list[CorpusItem]]:
        for bucket in buckets(todo, job.bucket_seconds, job.bucket_items):
            handed.extend(bucket)
            yield bucket

    stopped: KeyboardInterrupt | None = None
    try:
        if todo:
            (executor or get_executor("local")).run(job, handed_out(), on_result)
    except KeyboardInterrupt as exc:  # the reports and the summary of what was done follow
        stopped = exc
        # An item written before its result reached us (the rest of its bucket was
        # still running) is finished all the same: count and report it as done.
        reported = {r.key for r in results}
        for item in handed:
            if item.key not in reported:
                report = outputs.finished_report(outdir, item.key, job.formats)
                if report is not None:
                    results.append(ItemResult(item.key, "done", None, None, report, item.size_hint))
                    done_seconds += item.size_hint
    finally:
        # Every writer has stopped, even when interrupted (the Ray executor waits for the
        # workers it kills); a worker killed mid-write (a lost Ray node, or the end of an
        # interrupted run) may have left a temporary file.
        outputs.clean_stale_temps(outdir)
        progress.close()
        reports.write_reports(outdir, results)
        if "html" in job.formats:
            from qalign.corpus.review_index import write_index

            write_index(outputs.local_folder(outdir) or outdir, results)
    counts = {s: sum(1 for r in results if r.status == s) for s in ("done", "skipped", "failed")}
    unaligned = sum(
        int((r.report or {}).get("unaligned_words") or 0) for r in results if r.status != "failed"
    )
    finished = {r.key for r in results}
    summary = BatchSummary(
        counts["done"],
        counts["skipped"],
        counts["failed"],
        unaligned,
        done_seconds,
        time.monotonic() - started,
        tuple(results),
        sum(1 for item in todo if item.key not in finished) if stopped is not None else 0,
    )
    if stopped is not None:
        raise BatchInterrupted(summary, stopped) from stopped
    return summary
