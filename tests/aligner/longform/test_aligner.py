"""The layer's final scoring step (aligner/longform/aligner.py, ``_rescored``): which units
the engine's ``rescore`` sees, and what comes back into the stitched units."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

from qalign.aligner.longform.aligner import _rescored
from qalign.aligner.longform.engine import Script, WindowEngine
from qalign.aligner.longform.stitch import Kept

sys.path.insert(0, str(Path(__file__).resolve().parent))

from longform_fakes import FakeEngine  # noqa: E402


class _Engine(FakeEngine):
    """Scores each placed unit by how many of its two neighbours are placed (0, 1 or 2)."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[bool], dict[int, float]]] = []

    def align_windows(self, script, jobs):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def rescore(self, script, units, pairs):  # type: ignore[no-untyped-def]
        placed = [k is not None for k in units]
        self.calls.append((placed, dict(pairs)))
        n = len(units)
        return [
            None if k is None else float(sum(0 <= j < n and placed[j] for j in (i - 1, i + 1)))
            for i, k in enumerate(units)
        ]


def _kept(i: int, score: float = 0.9) -> Kept:
    return Kept(i, i * 0.5, i * 0.5 + 0.4, score)


def test_kept_units_are_scored_among_kept_ones_and_a_placed_gap_among_all():
    script = Script("English", tuple(SimpleNamespace() for _ in range(5)), (1.0,) * 5)
    run = SimpleNamespace(
        kept={0: _kept(0), 1: _kept(1), 3: _kept(3), 4: _kept(4)},
        tentative={2: _kept(2, 0.2), 3: _kept(3, 0.8)},
        pairs={3: 0.05},
    )
    engine = _Engine()
    kept, tentative = _rescored(engine, script, run)  # type: ignore[arg-type]
    # First call: the kept units only (unit 2, which no window kept, counts as not placed).
    assert engine.calls[0] == ([True, True, False, True, True], {3: 0.05})
    assert {i: k.score for i, k in kept.items()} == {0: 1.0, 1: 1.0, 3: 1.0, 4: 1.0}
    # Second call: the unit only a window placed, among the kept ones.
    assert engine.calls[1][0] == [True] * 5
    assert tentative[2].score == 2.0
    assert kept[3].start == run.kept[3].start and kept[3].end == run.kept[3].end


def test_nothing_tentative_beyond_the_kept_units_needs_one_call():
    script = Script("English", tuple(SimpleNamespace() for _ in range(3)), (1.0,) * 3)
    run = SimpleNamespace(kept={0: _kept(0), 1: _kept(1)}, tentative={1: _kept(1)}, pairs={})
    engine = _Engine()
    kept, tentative = _rescored(engine, script, run)  # type: ignore[arg-type]
    assert len(engine.calls) == 1
    assert kept[0].score == 1.0 and tentative == run.tentative


def test_the_default_keeps_each_window_score():
    class Plain(_Engine):
        rescore = WindowEngine.rescore

    script = Script("English", tuple(SimpleNamespace() for _ in range(2)), (1.0,) * 2)
    run = SimpleNamespace(kept={0: _kept(0, 0.42)}, tentative={1: _kept(1, 0.1)}, pairs={})
    kept, tentative = _rescored(Plain(), script, run)  # type: ignore[arg-type]
    assert kept[0].score == 0.42 and tentative[1].score == 0.1
