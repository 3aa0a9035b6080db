"""A second look at the units next to each gap, one unit at a time, in short windows of their own.

After the walk, a run of units no window kept (a *gap*) often has spoken units
at its edges that were never given a fair chance:

* a unit whose slot collapsed, or whose neighbour's slot came out of order and
  took its time: the window around it agreed, so nothing else redid it, and the
  neighbour's wrong boundary leaves it no room;
* the last words before text nobody speaks, and the first ones after it: the
  unspoken text offered with them crowds them out of their own audio (an engine
  gives every unit some time), and the recovery search steps over them in strides.

So each edge of a gap grows, one unit per round: the unit next to the edge is
offered with up to :data:`EDGE_ANCHORS` kept units on the edge's side, in a
short window that runs from those anchors into the gap's audio (never past the
kept units around the gap). The window's placements replace the old ones when
:func:`~qalign.aligner.longform.anchors.keep` trusts every unit offered and the
anchor farthest from the gap lands where it was (within :data:`~qalign.aligner.longform.anchors.ANCHOR_TOLERANCE`).
A unit grown backward must not sit at the very start of a window cut inside the
gap's audio (text spoken earlier piles there, as it piles at a window's end).
An edge stops at the first unit that is not trusted in :data:`ATTEMPTS` tries: text
nobody speaks stays unaligned. At most :data:`MAX_GROW` units grow from each edge; the rounds batch
every edge's window through the engine at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qalign.aligner.longform.anchors import ANCHOR_TOLERANCE, keep
from qalign.aligner.longform.engine import WindowJob
from qalign.aligner.longform.stitch import Kept, unexplained, unkept_runs
from qalign.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from qalign.aligner.longform.walk import WindowRun

logger = logging.getLogger("qalign")

#: Kept units offered with the unit being grown (fewer where the run of kept units is shorter).
EDGE_ANCHORS = 3
#: Most units grown into a gap from each of its edges.
MAX_GROW = 8
#: Audio given to the unit being grown: this many times its expected length, plus :data:`SLACK`.
ROOM = 2.0
SLACK = 1.0
#: Seconds of audio before (or after) the anchors in an edge's window.
MARGIN = 0.2
#: Tries per unit and edge; a retry's window reaches :data:`RETRY_WIDEN` seconds further
#: on the anchors' side (another cut of the audio: an engine's slip need not recur).
ATTEMPTS = 2
RETRY_WIDEN = 0.5
#: A unit grown backward that starts this close to a window start cut inside the gap's
#: audio is text from before the window piled there (engines put such text at 0).
PILE_START = 0.16


@dataclass(frozen=True)
class _Edge:
    """One edge of a gap: ``unit`` is offered with the kept ``anchors`` (index order)."""

    unit: int
    anchors: tuple[int, ...]
    forward: bool  # growing forward (anchors before the unit) or backward
    start: float
    end: float
    cut_start: bool = False  # the window starts inside the gap's audio


def grow_edges(run: WindowRun) -> int:
    """Grow every gap's edges in ``run.kept`` (changed in place); the number of units added."""
    tries: dict[tuple[int, bool], int] = {}
    added = 0
    for _ in range(MAX_GROW * ATTEMPTS):
        edges = [e for e in _edges(run, tries) if tries.get((e.unit, e.forward), 0) < ATTEMPTS]
        if not edges:
            break
        jobs = [
            WindowJob(
                run.reader.read(e.start, e.end),
                min(e.unit, e.anchors[0]),
                max(e.unit, e.anchors[-1]) + 1,
                open_end=True,
                start=e.start,
            )
            for e in edges
        ]
        placed = run.engine.align_windows(run.script, jobs)
        for edge, job, got in zip(edges, jobs, placed):
            trusted = keep(got, job.samples.size / SAMPLE_RATE, run.engine)
            wanted = list(range(job.first, job.stop))
            far = edge.anchors[0] if edge.forward else edge.anchors[-1]
            new = {p.index: p for p in trusted}
            if (
                edge.unit in run.kept  # grown from the gap's other edge this round
                or [p.index for p in trusted] != wanted
                or abs(new[far].start + edge.start - run.kept[far].start) > ANCHOR_TOLERANCE
                or (edge.cut_start and new[edge.unit].start < PILE_START)
            ):
                tries[edge.unit, edge.forward] = tries.get((edge.unit, edge.forward), 0) + 1
                continue
            for p in trusted:
                run.kept[p.index] = Kept(
                    p.index,
                    edge.start + p.start,
                    edge.start + p.end,
                    p.score,
                    tuple((lab, edge.start + a, edge.start + b) for lab, a, b in p.phones),
                    p.evidence,
                )
            added += 1
    if added:
        logger.debug("second looks at gap edges kept %d more units", added)
    return added


def _edges(run: WindowRun, tries: dict[tuple[int, bool], int]) -> list[_Edge]:
    """The edges of the gaps between kept units, with their windows (wider on the anchors' side on a retry)."""
    kept, n, duration = run.kept, run.n, run.speech.duration
    out: list[_Edge] = []
    for i, j in unkept_runs(kept, n):
        lo = kept[i - 1].end if i > 0 else 0.0  # the gap's audio
        hi = kept[j].start if j < n else duration
        if i > 0:  # grow forward from unit i - 1
            anchors = _run_of_kept(run, i - 1, -1)
            start = max(
                0.0, kept[anchors[0]].start - MARGIN - RETRY_WIDEN * tries.get((i, True), 0)
            )
            end = min(hi, lo + _room(run, anchors, i))
            if end > lo:
                out.append(_Edge(i, anchors, True, start, end))
        if j < n:  # grow backward from unit j
            anchors = _run_of_kept(run, j, 1)
            end = min(
                duration,
                kept[anchors[-1]].end + MARGIN + RETRY_WIDEN * tries.get((j - 1, False), 0),
            )
            start = max(lo, hi - _room(run, anchors, j - 1))
            if hi > start:
                out.append(_Edge(j - 1, anchors, False, start, end, start > lo))
    return out


def _run_of_kept(run: WindowRun, edge: int, step: int) -> tuple[int, ...]:
    """Up to :data:`EDGE_ANCHORS` consecutive kept indexes from ``edge`` away from the gap, in order.

    The run stops at speech no text explains between two of them
    (:func:`~qalign.aligner.longform.stitch.unexplained`): one side of it is misplaced,
    and a window over both would hold that speech.
    """
    kept, speech, weights = run.kept, run.speech, run.script.weights
    out = [edge]
    while len(out) < EDGE_ANCHORS and out[-1] + step in kept:
        a, b = sorted((out[-1], out[-1] + step))
        if unexplained(speech, weights, kept[a].end, kept[b].start, b, b):
            break
        out.append(out[-1] + step)
    return tuple(sorted(out))


def _room(run: WindowRun, anchors: tuple[int, ...], unit: int) -> float:
    """Seconds of gap audio offered to ``unit``: its expected length at the anchors' pace, doubled, plus slack."""
    kept, weights = run.kept, run.script.weights
    span = kept[anchors[-1]].end - kept[anchors[0]].start
    weight = sum(max(0.5, weights[k]) for k in anchors)
    per_weight = max(0.0, span) / weight if weight else 0.0
    return ROOM * max(0.5, weights[unit]) * per_weight + SLACK
