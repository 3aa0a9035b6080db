"""Which placed units a window keeps, and how well a window's text and audio agree.

An engine told to place a run of units in a window places all of them, right
or wrong (sphinx may also skip some). The layer trusts a unit as an *anchor*
only when nothing about it looks forced:

* it has a plausible length (at least the engine's ``min_unit_seconds``);
* its score is at least the engine's ``keep_score``;
* it is not part of a pile at the window's end (two or more units starting
  in the last :data:`PILE_SECONDS`, or a short unit in the last 160 ms): where
  the window holds less speech than text, engines put the rest there;
* it belongs to a run of at least :data:`MIN_RUN` consecutive kept units
  (a lone unit surrounded by rejected ones is a chance match).

The next window starts after the last kept unit, backing off
:data:`BACK_OFF` units and dropping units that end in the window's last
seconds (the guard), so a cut in the wrong place is redone with more audio.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from qalign.aligner.longform.engine import Placed, WindowEngine
from qalign.aligner.longform.stitch import SHORT_GAP, run_starting_at

if TYPE_CHECKING:
    from qalign.aligner.longform.stitch import Kept

#: Fewest consecutive kept units that count as agreement.
MIN_RUN = 3
#: Units given back at the end of a non-final window (redone by the next one).
BACK_OFF = 2
#: Seconds at a window's end where two or more units starting there are a pile.
PILE_SECONDS = 0.3
#: Fewest consecutive kept units that stand on their own next to speech no text explains
#: (:func:`~qalign.aligner.longform.stitch.unexplained`): a shorter chain there is a chance
#: match (the walk does not go on from it; the refinement drops it).
ISLAND_UNITS = 8
#: Seconds a kept unit may move when its text is aligned again (a second look, a
#: refinement probe) for the new placement to be accepted: more means it was not an anchor.
ANCHOR_TOLERANCE = 0.2


def keep(placed: Sequence[Placed], length: float, engine: WindowEngine) -> list[Placed]:
    """The placed units trusted as anchors, in index order (``length``: the window's seconds)."""
    ok = [
        p
        for p in placed
        if p.end - p.start >= engine.min_unit_seconds
        and (p.score is None or p.score >= engine.keep_score)
        and not (p.start >= length - 0.16 and p.end - p.start < 0.1)
    ]
    piled = [p for p in ok if p.start >= length - PILE_SECONDS]
    if len(piled) >= 2:
        ok = [p for p in ok if p.start < length - PILE_SECONDS]
    return [p for run in runs(ok) if len(run) >= min(MIN_RUN, len(placed)) for p in run]


def runs(placed: Sequence[Placed], max_pause: float = 3.0) -> list[list[Placed]]:
    """Split units into runs of consecutive indexes with pauses under ``max_pause`` seconds."""
    out: list[list[Placed]] = []
    for p in placed:
        if out and p.index == out[-1][-1].index + 1 and p.start - out[-1][-1].end < max_pause:
            out[-1].append(p)
        else:
            out.append([p])
    return out


def trim_tail(kept: list[Placed], length: float, guard: float) -> list[Placed]:
    """Drop units ending in the last ``guard`` seconds, then back off :data:`BACK_OFF` more."""
    inside = [p for p in kept if p.end <= length - guard]
    if len(inside) > BACK_OFF + MIN_RUN:
        inside = inside[:-BACK_OFF]
    return inside


def agreement(kept: Sequence[Placed], expected_units: float) -> tuple[float, list[Placed]]:
    """How well a probe agreed: its longest kept run over the units its speech should hold."""
    best: list[Placed] = max(runs(kept), key=len, default=[])
    return len(best) / max(1.0, expected_units), best


def leading_run(got: Sequence[Kept], first: int) -> list[Kept]:
    """The kept units of a failed window that run on from its first unit, less the last
    :data:`BACK_OFF` (redone with the search's back-fill); empty when fewer than
    :data:`MIN_RUN` would be left."""
    lead = run_starting_at(got, first)[:-BACK_OFF]
    return lead if len(lead) >= MIN_RUN else []


def long_holes(got: Sequence[Kept], first: int) -> Iterator[int]:
    """Positions in ``got`` (a window's kept units, index order, its text from unit
    ``first``) of each unit after a hole in the text of more than
    :data:`~qalign.aligner.longform.stitch.SHORT_GAP` units (a short hole is a slipped slot)."""
    previous = first - 1
    for n, k in enumerate(got):
        if k.index - previous - 1 > SHORT_GAP:
            yield n
        previous = k.index


def agreed(got: Sequence[Kept], first: int) -> bool:
    """Whether a window's kept units run from its first unit with no long hole
    (:func:`long_holes`)."""
    return next(long_holes(got, first), None) is None
