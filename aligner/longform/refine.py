"""After the walk: drop false matches, then re-align the text next to each gap.

The walk (:mod:`qalign.aligner.longform.walk`) only goes forward, and a forced
engine places whatever text it is given. So next to a mismatch it can keep units
that are not where it put them: a probe whose text starts a few words late
takes the speech before it for its first words, an unscripted intro is taken
for the first sentence, a word is stretched over noise. Once the walk is done,
both neighbours of every gap are known, and this pass

1. **drops false matches**: a kept unit longer than any word is
   (:data:`MAX_UNIT_SECONDS` plus :data:`MAX_SECONDS_PER_WEIGHT` per unit of
   weight), and a short chain of consecutive kept units (under
   :data:`~qalign.aligner.longform.anchors.ISLAND_UNITS`) cut off from its neighbours by speech that no text
   between them explains (:func:`~qalign.aligner.longform.stitch.unexplained`):
   the text is in order, so speech between two neighbouring units means one
   side is misplaced, and the short side is the chance match; and a chain
   shorter than an anchor run with text skipped on both sides;
2. **re-aligns each gap from its right neighbour backwards**, one pause at a
   time: the audio from the nearest speech onset before the neighbour up to it,
   with the last units of the gap and the neighbour itself, the text allowed to
   start anywhere (``WindowJob.open_start``) and to end only at the neighbour.
   A probe is taken when the units it places run up to the neighbour, the
   neighbour stays where it was, they start where the probe's speech starts (or
   the first is the transcript's first unit: speech before it is an unscripted
   intro, no text of its own) and are placed confidently (median score at the engine's ``sure_score``); then
   the next pause back is tried. What remains is then
   re-aligned forward from the left neighbour the same way. Units next to a gap
   that the engine placed without confidence are re-aligned with it.

Units nothing placed stay unaligned; :mod:`~qalign.aligner.longform.stitch`
interpolates them and names the stretch.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from qalign.aligner.longform.anchors import ANCHOR_TOLERANCE, ISLAND_UNITS, MIN_RUN
from qalign.aligner.longform.engine import WindowJob
from qalign.aligner.longform.stitch import (
    Kept,
    run_ending_at,
    run_starting_at,
    unexplained,
    unkept_runs,
)

if TYPE_CHECKING:
    from qalign.aligner.longform.walk import WindowRun

logger = logging.getLogger("qalign")

#: A kept unit longer than this plus :data:`MAX_SECONDS_PER_WEIGHT` per unit of weight is dropped.
MAX_UNIT_SECONDS = 2.0
MAX_SECONDS_PER_WEIGHT = 0.5
#: Probes per gap and direction, and the most audio (s) one probe adds to the gap's edge.
MAX_PROBES = 8
MAX_PROBE_SECONDS = 12.0
#: Speech (s) a probe needs to be worth running, and the most it may leave before its units
#: (any amount before the transcript's first unit: an unscripted intro).
MIN_PROBE_SPEECH = 0.3
LEAD_SPEECH = 0.5
#: Speech must resume within this (s) after the left neighbour for the forward pass.
RESUME_SECONDS = 1.0
#: Shortest pause (s) that counts as a place where speech may resume.
ONSET_PAUSE = 0.15
#: Uncertain units next to a gap re-aligned with it, on each side.
SOFT_EDGE = 4


def refine(run: WindowRun) -> None:
    """Drop false matches from ``run.kept`` and re-align the units next to each gap, in place."""
    dropped = drop_false(run)
    for index in dropped:
        run.tentative.pop(index, None)
    for i, j in _gaps(run):
        _refill(run, i, j)


def drop_false(run: WindowRun) -> list[int]:
    """Remove kept units that cannot be where they are; their indexes."""
    kept, weights, speech = run.kept, run.script.weights, run.speech
    out = [
        i
        for i, k in kept.items()
        if k.end - k.start > MAX_UNIT_SECONDS + MAX_SECONDS_PER_WEIGHT * weights[i]
    ]
    for i in out:
        del kept[i]
    order = sorted(kept)
    if not order:
        return out
    # Chains of consecutive kept units; a cut between two chains is whether speech
    # there is more than the text between them explains.
    chains: list[list[int]] = [[order[0]]]
    cut_before = [unexplained(speech, weights, 0.0, kept[order[0]].start, 0, order[0])]
    cut_after: list[bool] = []
    for a, b in zip(order, order[1:]):
        cut = unexplained(speech, weights, kept[a].end, kept[b].start, a + 1, b)
        if cut or b > a + 1:
            cut_after.append(cut)
            cut_before.append(cut)
            chains.append([b])
        else:
            chains[-1].append(b)
    last = order[-1]
    cut_after.append(
        unexplained(speech, weights, kept[last].end, speech.duration, last + 1, len(weights))
    )
    if len(chains) == 1:
        return out
    n = len(weights)
    for chain, before, after in zip(chains, cut_before, cut_after):
        # Text skipped on both sides of a run shorter than an anchor run: a chance match.
        lonely = len(chain) < MIN_RUN and chain[0] > 0 and chain[-1] < n - 1
        lonely = lonely and chain[0] - 1 not in kept and chain[-1] + 1 not in kept
        if len(chain) < ISLAND_UNITS and (before or after) or lonely:
            logger.debug(
                "dropped units %d-%d at %.2f s: a chance match",
                chain[0],
                chain[-1],
                kept[chain[0]].start,
            )
            for i in chain:
                del kept[i]
            out.extend(chain)
    return sorted(out)


def _gaps(run: WindowRun) -> list[tuple[int, int]]:
    """Runs of units not kept, widened over uncertain kept units next to them."""
    kept, n, sure = run.kept, run.n, run.engine.sure_score
    out: list[tuple[int, int]] = []
    for i, j in unkept_runs(kept, n):
        a, b = i, j
        while a > 0 and i - a < SOFT_EDGE and _soft(kept.get(a - 1), sure):
            a -= 1
        while b < n and b - j < SOFT_EDGE and _soft(kept.get(b), sure):
            b += 1
        out.append((a, b))
    return out


def _soft(k: Kept | None, sure: float) -> bool:
    return k is not None and k.score is not None and k.score < sure


def _refill(run: WindowRun, i: int, j: int) -> None:
    """Re-align units ``i:j`` between their kept neighbours (see the module docstring)."""
    kept, speech = run.kept, run.speech
    old = {x: kept.pop(x) for x in range(i, j) if x in kept}
    tl = kept[i - 1].end if i > 0 else 0.0
    tr = kept[j].start if j < run.n else speech.duration
    if j < run.n:
        j, tr = _backward(run, i, j, tl, tr)
    if i > 0:
        _forward(run, i, j, tl, tr)
    for x, k in old.items():  # not re-placed: as the walk had them, when they still fit
        if x not in kept and tl <= k.start and k.end <= tr:
            kept[x] = k


def _span(run: WindowRun, seconds: float) -> int:
    return int(math.ceil(run.engine.text_slack * run.rate * seconds)) + 4


def _backward(run: WindowRun, i: int, j: int, tl: float, tr: float) -> tuple[int, float]:
    """Place the gap's last units pause by pause back from the right neighbour; the new ``(j, tr)``."""
    speech = run.speech
    for _ in range(MAX_PROBES):
        if j <= i or speech.speech_seconds(tl, tr) < MIN_PROBE_SPEECH:
            break
        a0 = _onset_before(run, tl, tr)
        if tr - a0 > MAX_PROBE_SECONDS:
            break  # the speech before lies beyond a long pause: not this text's
        anchor = run.kept[j]
        first = max(i, j - _span(run, speech.speech_seconds(a0, tr)))
        # The neighbour is offered too, so the text ends on it, not piled at the window's end.
        job = WindowJob(
            run.reader.read(a0, anchor.end), first, j + 1, open_end=False, start=a0, open_start=True
        )
        (got,) = run.place([(a0, job)], probe=True)
        chain = _checked(run, run_ending_at(got, j + 1), anchor)
        # Speech before the first unit placed may hold text before it, spoken there (the
        # probe then starts too early to trust): unless that unit is the transcript's
        # first. Before it no text is left: that speech is an unscripted intro.
        if not chain or (
            chain[0].index > 0 and speech.speech_seconds(a0, chain[0].start) > LEAD_SPEECH
        ):
            logger.debug("refinement back from unit %d (%.2f s) stops at %.2f s", j, tr, a0)
            break
        _take(run, chain, f"back from unit {j}")
        j, tr = chain[0].index, chain[0].start
    return j, tr


def _forward(run: WindowRun, i: int, j: int, tl: float, tr: float) -> None:
    """Place the gap's first units pause by pause on from the left neighbour."""
    speech = run.speech
    for _ in range(MAX_PROBES):
        if j <= i or speech.speech_seconds(tl, tr) < MIN_PROBE_SPEECH:
            break
        resume = speech.next_speech(tl)
        if resume is None or resume - tl > RESUME_SECONDS:
            break  # the audio after the left neighbour starts with a long pause
        a1 = min(_pause_after(run, tl, tr), tl + MAX_PROBE_SECONDS)
        anchor = run.kept[i - 1]
        stop = min(j, i + _span(run, speech.speech_seconds(tl, a1)))
        job = WindowJob(run.reader.read(anchor.start, a1), i - 1, stop, start=anchor.start)
        (got,) = run.place([(anchor.start, job)], probe=True)
        chain = _checked(run, run_starting_at(got, i - 1), anchor)
        if not chain or speech.speech_seconds(chain[-1].end, a1) > LEAD_SPEECH:
            logger.debug("refinement on from unit %d (%.2f s) stops at %.2f s", i - 1, tl, a1)
            break
        _take(run, chain, f"on from unit {i - 1}")
        i, tl = chain[-1].index + 1, chain[-1].end


def _checked(run: WindowRun, chain: list[Kept], anchor: Kept) -> list[Kept]:
    """A probe's run less its anchor, when the anchor stayed put (within :data:`~qalign.aligner.longform.anchors.ANCHOR_TOLERANCE`),
    the units are placed confidently (lower median score at the engine's ``sure_score``) and
    no speech between them is unexplained; else empty."""
    ends = [k for k in chain if k.index == anchor.index]
    if not ends or abs(ends[0].start - anchor.start) > ANCHOR_TOLERANCE:
        return []
    chain = [k for k in chain if k.index != anchor.index]
    if not chain:
        return []
    scores = sorted(1.0 if k.score is None else k.score for k in chain)
    if scores[(len(scores) - 1) // 2] < run.engine.sure_score:
        return []
    weights = run.script.weights
    if any(
        unexplained(run.speech, weights, p.end, q.start, q.index, q.index)
        for p, q in zip(chain, chain[1:])
    ):
        return []
    return chain


def _take(run: WindowRun, chain: list[Kept], how: str) -> None:
    logger.debug(
        "refined units %d-%d at %.2f-%.2f s (%s)",
        chain[0].index,
        chain[-1].index,
        chain[0].start,
        chain[-1].end,
        how,
    )
    for k in chain:
        run.kept[k.index] = k


def _onset_before(run: WindowRun, tl: float, tr: float) -> float:
    """The latest place in ``[tl, tr)`` where speech resumes after a pause and holds some speech."""
    speech = run.speech
    for _a, b in reversed(speech.pauses(tl, tr, ONSET_PAUSE)):
        start = max(tl, b - 0.1)
        if speech.speech_seconds(start, tr) >= MIN_PROBE_SPEECH:
            return start
    return tl


def _pause_after(run: WindowRun, tl: float, tr: float) -> float:
    """The earliest pause in ``(tl, tr]`` after some speech (its start), else ``tr``."""
    speech = run.speech
    for a, _b in speech.pauses(tl, tr, ONSET_PAUSE):
        end = min(tr, a + 0.1)
        if speech.speech_seconds(tl, end) >= MIN_PROBE_SPEECH:
            return end
    return tr
