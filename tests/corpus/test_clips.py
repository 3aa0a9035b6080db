"""Where clips are cut: word boundaries only, never across unaligned text, within limits."""

from __future__ import annotations

import pytest

from qalign.alignment import Alignment, Segment, Stretch, Unit
from qalign.corpus.clips import plan_clips


def _words(spans, statuses=None, segments=(), stretches=(), duration=20.0) -> Alignment:
    statuses = statuses or ["aligned"] * len(spans)
    units = tuple(
        Unit(f"w{i}", f"w{i}", s, e, status=st)
        for i, ((s, e), st) in enumerate(zip(spans, statuses))
    )
    return Alignment(units, segments=segments, duration=duration, stretches=stretches)


def _ranges(plan):
    return [(c.unit_start, c.unit_end) for c in plan.clips]


def test_segments_become_clips_split_at_unaligned_words() -> None:
    spans = [(0.5, 1.0), (1.0, 1.5), (1.6, 2.0), (2.1, 2.5), (3.0, 3.5), (3.5, 4.0)]
    statuses = ["aligned", "aligned", "unaligned", "aligned", "uncertain", "aligned"]
    segments = (Segment("a", 0.5, 2.5, 0, 4), Segment("b", 3.0, 4.0, 4, 6))
    plan = plan_clips(_words(spans, statuses, segments))
    assert _ranges(plan) == [(0, 2), (3, 4), (4, 6)]  # the unaligned word w2 is in no clip
    assert [(c.start, c.end) for c in plan.clips] == [(0.5, 1.5), (2.1, 2.5), (3.0, 4.0)]


def test_padding_stops_at_neighbouring_words_and_audio_ends() -> None:
    spans = [(0.05, 1.0), (1.1, 2.0), (2.5, 3.0)]
    segments = (
        Segment("a", 0.05, 1.0, 0, 1),
        Segment("b", 1.1, 2.0, 1, 2),
        Segment("c", 2.5, 3.0, 2, 3),
    )
    plan = plan_clips(_words(spans, segments=segments, duration=3.1), pad=0.2)
    assert [(round(c.start, 6), round(c.end, 6)) for c in plan.clips] == [
        (0.0, 1.1),  # not before 0, not into w1
        (1.0, 2.2),
        (2.3, 3.1),  # not past the audio
    ]


def test_audio_only_unaligned_stretch_is_never_crossed() -> None:
    spans = [(0.0, 1.0), (5.0, 6.0)]
    stretches = (Stretch(1.5, 4.5, 1, 1, "audio not in the text"),)
    plan = plan_clips(_words(spans, stretches=stretches), "pack", max_duration=30, pad=1.0)
    assert _ranges(plan) == [(0, 1), (1, 2)]
    assert plan.clips[0].end == pytest.approx(1.5) and plan.clips[1].start == pytest.approx(4.5)


def test_words_inside_an_unaligned_stretch_are_left_out() -> None:
    spans = [(0, 1), (1, 2), (2, 3), (3, 4)]
    stretches = (Stretch(1, 3, 1, 3, "text not heard"),)
    plan = plan_clips(_words(spans, stretches=stretches), "pack", max_duration=10)
    assert _ranges(plan) == [(0, 1), (3, 4)]


def test_packing_respects_limits_and_prefers_pauses() -> None:
    # ten 1-second words; a pause after w3 and after w7
    spans, t = [], 0.0
    for i in range(10):
        spans.append((t, t + 1.0))
        t += 1.0 + (0.5 if i in (3, 7) else 0.0)
    plan = plan_clips(_words(spans), "pack", min_duration=2.0, max_duration=5.0)
    assert _ranges(plan) == [(0, 4), (4, 8), (8, 10)]
    assert all(2.0 <= c.duration <= 5.0 for c in plan.clips)
    assert plan.dropped_words == 0


def test_packing_drops_too_long_words_and_short_tails() -> None:
    spans = [(0, 1), (1, 7), (7, 8), (8, 9), (9.2, 9.5)]
    plan = plan_clips(_words(spans), "pack", min_duration=1.5, max_duration=5.0)
    # w1 (6 s) cannot be in any clip; w0 alone is too short
    assert _ranges(plan) == [(2, 5)]
    assert plan.dropped_words == 2


def test_long_segment_is_packed_to_the_maximum() -> None:
    spans = [(i * 1.0, i * 1.0 + 0.9) for i in range(12)]
    plan = plan_clips(_words(spans, segments=(Segment("s", 0, 11.9, 0, 12),)), max_duration=4.0)
    assert all(c.duration <= 4.0 for c in plan.clips) and _ranges(plan)[0][0] == 0
    assert sum(b - a for a, b in _ranges(plan)) == 12


def test_bad_limits() -> None:
    with pytest.raises(ValueError):
        plan_clips(_words([(0, 1)]), "pack", min_duration=5, max_duration=2)
    with pytest.raises(ValueError):
        plan_clips(_words([(0, 1)]), "sentences")
