"""Short items of a bucket through the long-form layer together, so the model batches them.

The long-form layer (:class:`qalign.aligner.longform.LongFormAligner`) aligns the
requests of one ``align_batch`` call one after another, each window in its own
forward pass, so length bucketing would never reach the model. Here the short
items of a bucket (those the layer aligns in a single window) each run the
layer's own code in a thread, and their window calls meet at a barrier: when
every unfinished item waits for the model, all their windows go to the engine in
one call, which the engine runs as batched forward passes. The layer's decisions
(anchors, recovery, statuses, stretches) are unchanged, only when the model runs.

Long items keep going one by one (they hold more memory, and their windows
depend on each other anyway). Only slot engines (:class:`SlotWindows`, Qwen3)
batch windows of different transcripts; other engines (sphinx) are left as they
are.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from qalign.errors import QalignError

if TYPE_CHECKING:
    from qalign.aligner.base import Aligner, AlignRequest
    from qalign.aligner.longform.engine import Placed, Script, WindowJob

logger = logging.getLogger("qalign")

SAMPLE_RATE = 16000
#: Most requests aligned side by side (each one a thread until its last window).
SIDE_BY_SIDE = 16


def align_bucket(aligner: Aligner, requests: Sequence[AlignRequest]) -> list[Any]:
    """``aligner.align_batch(requests)``, with the short items' model passes batched together.

    Returns one :class:`~qalign.alignment.Alignment` or :class:`QalignError` per
    request, in order, equal to what ``aligner.align_batch`` returns.
    """
    from qalign.aligner.longform import LongFormAligner
    from qalign.aligner.longform.slots import SlotWindows

    engine = getattr(aligner, "engine", None)
    if not isinstance(aligner, LongFormAligner) or not isinstance(engine, SlotWindows):
        return aligner.align_batch(requests)
    one_window = min(1.5 * engine.window_seconds, engine.max_window_seconds)
    short = [
        i
        for i, r in enumerate(requests)
        if isinstance(r.audio, np.ndarray) and r.audio.size / SAMPLE_RATE <= one_window
    ]
    results: list[Any] = [None] * len(requests)
    together: set[int] = set()
    # An utterance TextGrid may make one bucket thousands of requests: at most
    # SIDE_BY_SIDE run at once (threads, speech maps and window features in memory).
    for k in range(0, len(short), SIDE_BY_SIDE):
        group = short[k : k + SIDE_BY_SIDE]
        if len(group) < 2:
            continue
        _side_by_side(aligner, engine, [requests[i] for i in group], group, results)
        together.update(group)
    rest = [i for i in range(len(requests)) if i not in together]
    if rest:
        for i, outcome in zip(rest, aligner.align_batch([requests[i] for i in rest]), strict=True):
            results[i] = outcome
    return results


def _side_by_side(
    aligner: Any, engine: Any, requests: list[AlignRequest], where: list[int], results: list
) -> None:
    """Align ``requests`` in threads through one gate; outcome ``k`` goes to ``results[where[k]]``."""
    from qalign.aligner.longform import LongFormAligner

    gate = _Gate(engine, len(requests))
    layer = LongFormAligner(gate, progress=aligner.progress, vad=aligner.vad)  # type: ignore[arg-type]
    with ThreadPoolExecutor(len(requests), thread_name_prefix="qalign-item") as pool:
        try:
            # Submitting is inside the try: once the interpreter is shutting down (an
            # interrupt in the main thread) a submit raises, and the parties already
            # started would otherwise wait at the gate for ones that never start.
            futures = [
                pool.submit(gate.run_party, party, layer, request)
                for party, request in enumerate(requests)
            ]
            for i, future in zip(where, futures, strict=True):
                results[i] = future.result()
        except BaseException:  # interrupted: the items stop at their next window
            gate.cancel()
            raise


@dataclasses.dataclass
class _Call:
    party: int
    script: Script
    jobs: list[WindowJob]
    done: bool = False
    result: list[list[Placed]] | None = None
    error: BaseException | None = None


class _Gate:
    """A window engine shared by item threads: their calls run together once all are waiting.

    Every attribute but :meth:`align_windows` is the wrapped engine's.
    """

    def __init__(self, engine: Any, parties: int) -> None:
        self._engine = engine
        self._cond = threading.Condition()
        self._active = parties
        self._waiting: list[_Call] = []
        self._local = threading.local()
        self.calls = 0  # engine calls made (for logs and tests)
        self._cancelled = False

    def cancel(self) -> None:
        """Make every waiting and later window call raise, so the item threads end soon."""
        with self._cond:
            self._cancelled = True
            for call in self._waiting:
                call.error, call.done = QalignError("interrupted"), True
            self._waiting = []
            self._cond.notify_all()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def run_party(self, party: int, layer: Aligner, request: AlignRequest) -> Any:
        """Align ``request`` through ``layer`` in this thread; the outcome, never raises."""
        self._local.party = party
        try:
            (outcome,) = layer.align_batch([request])
            return outcome
        except Exception as exc:  # noqa: BLE001 - becomes this item's failure
            logger.debug("%s: %r", request.label, exc)
            return (
                exc
                if isinstance(exc, QalignError)
                else QalignError(f"{request.label}: {type(exc).__name__}: {exc}")
            )
        finally:
            with self._cond:
                self._active -= 1
                self._dispatch_if_all_wait()

    def align_windows(self, script: Script, jobs: Sequence[WindowJob]) -> list[list[Placed]]:
        call = _Call(self._local.party, script, list(jobs))
        with self._cond:
            if self._cancelled:
                raise QalignError("interrupted")
            self._waiting.append(call)
            self._dispatch_if_all_wait()
            while not call.done:
                self._cond.wait()
        if call.error is not None:
            raise call.error
        assert call.result is not None
        return call.result

    def _dispatch_if_all_wait(self) -> None:
        """Run the waiting calls as one engine call when no party is still working (lock held)."""
        if not self._waiting or len(self._waiting) < self._active:
            return
        calls = sorted(self._waiting, key=lambda c: c.party)  # the same batch every run
        self._waiting = []
        self.calls += 1
        try:
            placed = _together(self._engine, calls)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting item
            for call in calls:
                call.error, call.done = exc, True
        else:
            for call, result in zip(calls, placed, strict=True):
                call.result, call.done = result, True
        self._cond.notify_all()


def _together(engine: Any, calls: list[_Call]) -> list[list[list[Placed]]]:
    """One ``align_windows`` call for windows of several scripts (units laid end to end)."""
    from qalign.aligner.longform.engine import Script

    units: list[Any] = []
    weights: list[float] = []
    jobs: list[WindowJob] = []
    offsets = []
    for call in calls:
        offset = len(units)
        offsets.append(offset)
        units.extend(call.script.units)
        weights.extend(call.script.weights)
        jobs.extend(
            dataclasses.replace(j, first=j.first + offset, stop=j.stop + offset) for j in call.jobs
        )
    merged = Script(calls[0].script.language, tuple(units), tuple(weights))
    placed = iter(engine.align_windows(merged, jobs))
    out = []
    for call, offset in zip(calls, offsets, strict=True):
        out.append(
            [
                [dataclasses.replace(p, index=p.index - offset) for p in next(placed)]
                for _ in call.jobs
            ]
        )
    return out
