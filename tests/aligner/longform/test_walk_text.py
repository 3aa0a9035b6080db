"""The text a window is offered (aligner/longform/walk.py), on the simulated Qwen3 engine.

After a window that agreed, a slot engine is offered only the text its speech should
hold plus a few units (``SlotWindows.agreed_slack``, ``agreed_pad``): excess text costs
tokens and crowds the window's last words. With tight text, a paragraph nobody speaks
takes the place of the spoken text after it, so a window fails right after units that
agreed; the walk keeps that leading run and searches from its end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

import simulated_qwen3 as sim  # noqa: E402

from qalign.aligner.longform import walk  # noqa: E402
from qalign.aligner.longform.engine import WindowEngine  # noqa: E402
from qalign.aligner.longform.slots import SlotWindows  # noqa: E402


def _windows(monkeypatch, rec):
    """Per walk window, in order: ``(first unit offered, one past the last, units spoken in it)``."""
    seen = []
    place = walk.WindowRun.place

    def spy(self, jobs, probe=False):
        if not probe:
            for t0, job in jobs:
                end = t0 + job.samples.size / sim.SR
                spoken = sum(1 for span in rec.truth if span and t0 <= span[0] < end)
                seen.append((job.first, job.stop, spoken))
        return place(self, jobs, probe)

    monkeypatch.setattr(walk.WindowRun, "place", spy)
    return seen


def test_text_shrinks_after_agreement_for_slot_engines_only(monkeypatch):
    assert WindowEngine.agreed_slack is None  # other engines (sphinx) keep generous text
    assert SlotWindows.agreed_slack is not None
    rec = sim.build(4.0, None)
    seen = _windows(monkeypatch, rec)
    sim.run(rec)
    first, *rest = seen[:-1]  # the last window gets all the text left
    # The first window is generous; later ones hold at most a few units beyond their speech.
    assert first[1] - first[0] >= 1.4 * first[2]
    pad = SlotWindows.agreed_pad
    assert rest and all(b - a <= 1.15 * spoken + pad + 2 for a, b, spoken in rest)
    assert all(b - a >= spoken for a, b, spoken in rest)  # (and not less than it)


@pytest.mark.slow
def test_a_window_failing_after_agreed_units_searches_from_them():
    # 20 minutes: here a window offered tight text starts 12 spoken units before the
    # unspoken paragraph, keeps 9 of them and fails. Searched from the window's start,
    # every probe also held those units and none agreed: 1,288 matched units were lost.
    rec = sim.build(20.0, "unspoken_middle")
    _, row = sim.run(rec)
    assert row["matched_unaligned"] == 0
    assert row["inserted_flagged"] == 1.0
