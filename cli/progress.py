"""A progress bar on stderr (tqdm) for long alignments, hidden when nobody is watching."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(
    total_seconds: float, *, hidden: bool = False
) -> Iterator[Callable[[float, float], None] | None]:
    """Yield ``progress(done, total)`` that moves a bar of audio seconds, with ETA.

    Yields ``None`` (no bar) with ``hidden`` (``--quiet``), when stderr is not a
    terminal, or for audio under a minute.
    """
    if hidden or total_seconds < 60 or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(
        total=round(total_seconds),
        unit="s",
        unit_scale=False,
        desc="aligning",
        leave=False,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    state = {"done": 0}

    def progress(done: float, total: float) -> None:
        step = round(done) - state["done"]
        if step > 0:
            bar.update(step)
            state["done"] += step

    try:
        yield progress
    finally:
        bar.close()
