"""The recovery search of the window walk (:mod:`qalign.aligner.longform.walk`).

When a window's text and audio disagree, :func:`recover` probes short stretches of
audio further on against text further on, nearest first, until one agrees: the walk
goes on from there, and :func:`back_fill` places the units just before where it
agreed. :func:`fill_gaps` does the same after a window that agreed but left long holes
in its text. The probes' cost is bounded by :func:`search_budget`.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from qalign.aligner.longform.anchors import BACK_OFF, agreement, long_holes
from qalign.aligner.longform.engine import WindowJob
from qalign.aligner.longform.stitch import Kept, as_placed, run_ending_at
from qalign.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from qalign.aligner.longform.walk import WindowRun

logger = logging.getLogger("qalign")

#: Probe length for the recovery search, seconds of audio.
PROBE_SECONDS = 12.0
#: How far the recovery search looks ahead: seconds of audio, and units of text.
SEARCH_AUDIO_SECONDS = 180.0
SEARCH_TEXT_UNITS = 800
#: The recovery search's budget, in seconds of probe audio: the first search is always
#: complete (120 to 260 probes of 12 s); after it the search may spend the floor plus
#: this many times the audio walked so far. A search that passes it stops where it is
#: (probes go nearest first), so however badly text and audio disagree (a wrong
#: transcript, random weights) the probes cost about one full search plus one more pass
#: over the audio, and the walk still tries a window at each step.
SEARCH_BUDGET_FLOOR = 1500.0
SEARCH_BUDGET_RATIO = 1.0


def fill_gaps(run: WindowRun, t: float, u: int, got: list[Kept]) -> None:
    """Back-fill before each kept unit that follows units the window did not keep.

    When a window's text holds units nobody speaks, the engine still places
    them in order and so crowds out the spoken units right after them.
    """
    step = _stride(run)
    for n in long_holes(got, u):
        before = got[n - 1] if n else None
        start, first = (before.end, before.index + 1) if before is not None else (t, u)
        back_fill(run, start, first, got[n], step)


def back_fill(run: WindowRun, t: float, u: int, anchor: Kept, step: int) -> int:
    """Place the units just before a recovery anchor, spoken just before it; the first placed.

    The search steps through the text in strides, so the agreement it finds may
    start a few units after where speech resumes; those units are aligned in the
    audio just before the anchor and kept when they run up to it. Earlier runs the
    probe trusts (:func:`~qalign.aligner.longform.anchors.keep`) are kept too: they
    lie between ``t`` and the anchor, in order, so a short clip whose only window
    disagreed in one unit keeps the words spoken before that unit.
    """
    lo = max(u, anchor.index - 2 * step)
    span = sum(run.script.weights[lo : anchor.index]) * 0.1 + 2.0
    a0 = max(t, anchor.start - span)
    if anchor.start - a0 < 0.3:
        return anchor.index
    job = WindowJob(run.reader.read(a0, anchor.start), lo, anchor.index, start=a0)
    (got,) = run.place([(a0, job)], probe=True)
    chain = run_ending_at(got, anchor.index)
    for k in got:
        if k.end <= anchor.start:
            run.kept[k.index] = k
    return chain[0].index if chain else anchor.index


def search_budget(run: WindowRun, t: float) -> float:
    """Probe seconds the search may still spend at ``t`` (see :data:`SEARCH_BUDGET_RATIO`)."""
    if not run.probe_seconds:
        return math.inf
    return SEARCH_BUDGET_FLOOR + SEARCH_BUDGET_RATIO * t - run.probe_seconds


def recover(run: WindowRun, t: float, u: int, budget: float = math.inf) -> tuple[float, int] | None:
    """Search forward in text and audio for where they agree again; ``None`` when nowhere.

    The search stops after ``budget`` seconds of probe audio (nearest candidates first).
    """
    speech, duration = run.speech, run.speech.duration
    onset = speech.next_speech(t)
    if onset is None:
        return None
    m = run.span(PROBE_SECONDS)
    step = _stride(run)
    candidates: list[tuple[float, float, int]] = []  # (cost in seconds, audio start, first unit)
    for d in range(0, min(run.n - u, SEARCH_TEXT_UNITS), step):
        candidates.append((d / run.rate, onset, u + d))
    a = onset
    while True:
        nxt = speech.next_speech(a + 3.0)
        if nxt is None or nxt - onset > SEARCH_AUDIO_SECONDS:
            break
        a = nxt
        candidates.append((a - onset, a, u))
    candidates.sort(key=lambda c: c[0])
    # The probes searching the text all hear the same audio: it is read once and the
    # same array is offered each time (an engine may reuse what it computed from it).
    at_onset = run.reader.read(onset, min(duration, onset + PROBE_SECONDS))
    batch = 8
    for k in range(0, len(candidates), batch):
        if budget <= 0:
            logger.debug("recovery search at %.2f s stopped: its budget is spent", t)
            break
        group = candidates[k : k + batch]
        jobs = []
        for _, a0, first in group:
            end = min(duration, a0 + PROBE_SECONDS)
            samples = at_onset if a0 == onset else run.reader.read(a0, end)
            job = WindowJob(samples, first, min(run.n, first + m), start=a0)
            jobs.append((a0, job))
            spent = job.samples.size / SAMPLE_RATE
            run.probe_seconds += spent
            budget -= spent
        results = run.place(jobs, probe=True)
        for (_cost, a0, first), got, (_, job) in zip(group, results, jobs):
            # A probe cannot agree on more units than it was offered: near the end of
            # the text (a short clip) the audio may hold more speech than text is left.
            expected = min(
                run.rate * speech.speech_seconds(a0, min(duration, a0 + PROBE_SECONDS)),
                job.stop - job.first,
            )
            share, best = agreement([as_placed(x, 0.0) for x in got], expected)
            if share >= 0.5:
                anchor = best[0]
                logger.debug(
                    "recovered at %.2f s, unit %d (probe %.2f s, unit %d, agreement %.2f)",
                    anchor.start,
                    anchor.index,
                    a0,
                    first,
                    share,
                )
                if anchor.index > u:
                    resumed = back_fill(run, t, u, anchor, step)
                    if resumed > u:
                        run.skipped_text.append((u, resumed))
                # The audio skipped ends where the first unit kept before the anchor starts.
                before = [k.start for i, k in run.kept.items() if u <= i < anchor.index]
                resume = min([anchor.start, *before])
                # It starts no earlier than the unit kept before the text searched.
                left = run.kept[u - 1].end if u - 1 in run.kept else t
                if resume - max(t, left) > 2.0:
                    run.skipped_audio.append((max(t, left), resume))
                # The agreeing run is kept (less its last units, redone by the next
                # window), so the windows go on after it: always forward.
                agreeing = best[:-BACK_OFF] if len(best) > BACK_OFF + 1 else best
                for k in agreeing:
                    run.kept[k.index] = k
                return agreeing[-1].end, agreeing[-1].index + 1
    return None


def _stride(run: WindowRun) -> int:
    """Units of text between two probes of the search (about a third of a probe's)."""
    return max(4, int(run.rate * PROBE_SECONDS / 3))
