"""Statuses, interpolated gaps, stretches and the summary line, on hand-made placements."""

import sys
from pathlib import Path

import numpy as np
import pytest

from qalign.aligner.longform.anchors import keep, trim_tail
from qalign.aligner.longform.engine import Placed, Script
from qalign.aligner.longform.speech import SpeechMap
from qalign.aligner.longform.stitch import (
    Kept,
    run_ending_at,
    run_starting_at,
    stitch,
    unkept_runs,
)
from qalign.aligner.longform.summary import clock, summary_line
from qalign.alignment import Alignment, Source

sys.path.insert(0, str(Path(__file__).resolve().parent))

from longform_fakes import FakeEngine, Unit  # noqa: E402


class _Engine(FakeEngine):
    name = "test"
    keep_score = 0.2
    sure_score = 0.6

    def align_windows(self, script, jobs):  # pragma: no cover - not used here
        raise NotImplementedError


def _script(n):
    units = tuple(Unit(f"w{i}", f"w{i}", 3 * i, 3 * i + 2) for i in range(n))
    return Script("English", units, tuple([2.0] * n))


def _speech(duration, speech_spans):
    frames = int(duration * 100)
    prob = np.zeros(frames, np.float32)
    for a, b in speech_spans:
        prob[int(a * 100) : int(b * 100)] = 1.0
    return SpeechMap(np.zeros(frames), prob, duration, 0.5, "test")


def test_gaps_are_interpolated_and_reported():
    engine = _Engine()
    kept = {i: Kept(i, i * 0.5, i * 0.5 + 0.4, 0.9) for i in range(4)}
    kept.update({i: Kept(i, 10 + i * 0.5, 10 + i * 0.5 + 0.4, 0.9) for i in range(8, 10)})
    kept[2] = Kept(2, 1.0, 1.4, 0.3)  # placed, low confidence
    speech = _speech(20.0, [(0, 2), (14, 15)])  # words 4-7 sit in silence: text not heard
    units, phones, stretches = stitch(_script(10), kept, engine, speech)
    assert [u.status for u in units] == ["aligned"] * 2 + ["uncertain", "aligned"] + [
        "unaligned"
    ] * 4 + ["aligned"] * 2
    gap = units[4:8]
    assert gap[0].start == pytest.approx(units[3].end) and gap[-1].end == pytest.approx(
        units[8].start
    )
    assert all(u.end - u.start == pytest.approx((14.0 - 1.9) / 4) for u in gap)
    assert units[8].start == 14.0  # aligned units never move
    (stretch,) = stretches
    assert (stretch.unit_start, stretch.unit_end, stretch.reason) == (4, 8, "text not heard")
    alignment = Alignment(
        tuple(units), duration=20.0, source=Source("test"), stretches=tuple(stretches)
    )
    line = summary_line(alignment)
    assert line.startswith(
        "aligned 6 of 10 words (1 uncertain); 4 unaligned in 1 stretch: 00:00:01-00:00:14"
    )
    assert "(text not heard)" in line


def test_unaligned_units_at_the_files_edges_sit_next_to_their_aligned_neighbour():
    # Units 0 and 11 unaligned; 18 s of untexted speech before unit 1, 12 s after unit 10.
    engine = _Engine()
    kept = {i: Kept(i, 18.0 + 0.5 * i, 18.4 + 0.5 * i, 0.9) for i in range(1, 11)}
    speech = _speech(35.0, [(0, 35)])
    units, _, stretches = stitch(_script(12), kept, engine, speech)
    pace = (kept[10].end - kept[1].start) / (10 * 2.0)  # seconds per unit of weight
    first, last = units[0], units[11]
    assert (first.status, last.status) == ("unaligned", "unaligned")
    assert first.end == pytest.approx(kept[1].start) and first.start == pytest.approx(
        kept[1].start - 2.0 * pace
    )
    assert last.start == pytest.approx(kept[10].end) and last.end == pytest.approx(
        kept[10].end + 2.0 * pace
    )
    untexted = [(s.start, s.end) for s in stretches if s.reason == "speech not in transcript"]
    assert untexted == [(0.0, pytest.approx(first.start)), (pytest.approx(last.end), 35.0)]
    assert [(s.unit_start, s.unit_end) for s in stretches if s.unit_end > s.unit_start] == [
        (0, 1),
        (11, 12),
    ]


def test_speech_in_a_gap_is_not_matched_and_skipped_audio_is_a_stretch():
    engine = _Engine()
    kept = {0: Kept(0, 0.0, 0.5, 0.9), 3: Kept(3, 30.0, 30.5, 0.9)}
    speech = _speech(40.0, [(0, 31)])
    units, _, stretches = stitch(_script(4), kept, engine, speech, skipped_audio=[(5.0, 25.0)])
    reasons = [(s.reason, s.unit_start, s.unit_end) for s in stretches]
    # An audio stretch sits before the first unit starting after its start.
    assert reasons == [("not matched", 1, 3), ("speech not in transcript", 2, 2)]
    alignment = Alignment(
        tuple(units), duration=40.0, source=Source("t"), stretches=tuple(stretches)
    )
    assert "and 1 of audio with no text" in summary_line(alignment)


def test_everything_aligned_has_a_short_summary():
    engine = _Engine()
    kept = {i: Kept(i, i, i + 0.5, None) for i in range(3)}
    units, _, stretches = stitch(_script(3), kept, engine, _speech(5.0, [(0, 3)]))
    assert stretches == [] and all(u.status == "aligned" for u in units)
    assert summary_line(Alignment(tuple(units), duration=5.0)) == "aligned 3 of 3 words"
    assert clock(3723.9) == "01:02:03"


def test_keep_drops_piles_collapsed_low_and_lonely_units():
    engine = _Engine()
    good = [Placed(i, i * 0.5, i * 0.5 + 0.3, 0.9) for i in range(6)]
    piled = [Placed(6 + k, 9.85 + 0.02 * k, 9.87 + 0.02 * k, 0.9) for k in range(4)]
    assert keep(good + piled, 10.0, engine) == good
    collapsed = [*good[:3], Placed(3, 1.5, 1.5, 0.9), *good[4:]]
    assert [p.index for p in keep(collapsed, 10.0, engine)] == [0, 1, 2]  # 4-5 are a run of two
    low = [*good[:3], Placed(3, 1.5, 1.8, 0.05), *good[4:]]
    assert [p.index for p in keep(low, 10.0, engine)] == [0, 1, 2]
    # The last word of a window ending right after it is kept (not a pile).
    tail = [*good, Placed(6, 3.6, 3.98, 0.9)]
    assert keep(tail, 4.0, engine) == tail


def test_trim_tail_drops_the_guard_and_backs_off():
    placed = [Placed(i, i, i + 0.5, 0.9) for i in range(10)]
    assert [p.index for p in trim_tail(placed, 10.0, 3.0)] == [0, 1, 2, 3, 4]


def test_unkept_runs_lists_every_hole_in_order():
    kept = {i: Kept(i, i, i + 0.5, 0.9) for i in (0, 1, 4, 7)}
    assert list(unkept_runs(kept, 10)) == [(2, 4), (5, 7), (8, 10)]
    assert list(unkept_runs({}, 3)) == [(0, 3)]
    assert list(unkept_runs(kept, 2)) == []


def test_run_ending_at_stops_at_the_first_hole():
    got = [Kept(i, i, i + 0.5, 0.9) for i in (1, 2, 4, 5, 6)]
    assert [k.index for k in run_ending_at(got, 7)] == [4, 5, 6]
    assert run_ending_at(got, 8) == []  # unit 7 was not kept: no run ends there
    assert [k.index for k in run_ending_at(got[:2], 3)] == [1, 2]


def test_run_starting_at_stops_at_the_first_hole():
    got = [Kept(i, i, i + 0.5, 0.9) for i in (1, 2, 4, 5, 6)]
    assert [k.index for k in run_starting_at(got, 1)] == [1, 2]
    assert run_starting_at(got, 0) == []  # unit 0 was not kept: no run starts there
    assert [k.index for k in run_starting_at(got[2:], 4)] == [4, 5, 6]
