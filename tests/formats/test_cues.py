"""Subtitle cue building (formats/cues.py): breaks, widths, holds, and reading cues back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import ValidationError
from qalign.formats.cues import (
    CueOptions,
    alignment_from_cues,
    build_cues,
    text_width,
    timed_cues,
)


def _words(text: str, start: float = 0.0, step: float = 0.3, length: float = 0.25) -> list[Unit]:
    """One unit per whitespace-separated word, evenly spaced, no character offsets."""
    units = []
    for k, w in enumerate(text.split()):
        units.append(Unit(w, w.lower(), start + k * step, start + k * step + length))
    return units


def _align(units: list[Unit], segments=(), tail: float = 1.0) -> Alignment:
    return Alignment(
        tuple(units), tuple(segments), duration=max((u.end for u in units), default=0) + tail
    )


def test_text_width_counts_full_width_double_and_combining_marks_zero():
    assert text_width("abc") == 3
    assert text_width("我们。") == 6
    assert text_width("ｆｕｌｌ") == 8  # full-width Latin
    assert text_width("e\u0301") == 1  # e + combining acute
    assert text_width("한국어") == 6


def test_short_text_is_one_cue_on_one_line():
    cues = build_cues(_align(_words("Hello there, my friend.")))
    assert [c.text for c in cues] == ["Hello there, my friend."]
    assert cues[0].start == 0.0


def test_break_prefers_sentence_end_over_filling_the_cue():
    text = (
        "Hello there, my friend. This is a rather long sentence that will certainly "
        "need more than a single subtitle cue to be shown completely."
    )
    cues = build_cues(_align(_words(text)))
    assert cues[0].text == "Hello there, my friend."
    assert len(cues) >= 3
    assert " ".join(c.text.replace("\n", " ") for c in cues) == text


def test_line_and_cue_limits_hold_and_lines_are_balanced():
    text = " ".join(["word"] * 40)
    cues = build_cues(_align(_words(text)), CueOptions(max_chars=20, max_lines=2))
    for cue in cues:
        assert len(cue.lines) <= 2
        assert all(len(line) <= 20 for line in cue.lines)
        if len(cue.lines) == 2:
            assert abs(len(cue.lines[0]) - len(cue.lines[1])) <= 5


def test_line_break_avoids_ending_a_line_on_a_preposition():
    # 64 characters: two lines; the most balanced break would leave "to" at a line end.
    units = _words("She finally handed the keys to the tall man standing by the door")
    cue = build_cues(_align(units), CueOptions(max_chars=42))[0]
    assert cue.lines == ["She finally handed the keys", "to the tall man standing by the door"]


def test_max_duration_splits_a_slow_sentence():
    units = _words("one two three four five six", step=2.0, length=1.5)  # 11.5 s of speech
    cues = build_cues(_align(units), CueOptions(max_duration=7.0))
    assert len(cues) >= 2
    for cue in cues:
        assert cue.units[-1].end - cue.units[0].start <= 7.0


def test_cues_never_straddle_segments():
    units = _words("Yes. No. Maybe so.")
    segments = [Segment("Yes. No.", 0.0, 0.55, 0, 2), Segment("Maybe so.", 0.6, 1.15, 2, 4)]
    cues = build_cues(_align(units, segments))
    assert [c.text for c in cues] == ["Yes. No.", "Maybe so."]


def test_cjk_joins_without_spaces_and_wraps_at_16_full_width_characters():
    text = "我们今天去公园散步天气非常好然后我们一起吃了午饭"  # 24 characters, no punctuation
    units = [Unit(ch, ch, k * 0.2, k * 0.2 + 0.15) for k, ch in enumerate(text)]
    cues = build_cues(_align(units))
    assert "".join(c.text.replace("\n", "") for c in cues) == text
    assert " " not in "".join(c.text for c in cues)
    for cue in cues:
        assert all(text_width(line) <= 32 for line in cue.lines)
    lines = [line for c in cues for line in c.lines]
    assert len(lines) >= 2 and max(len(line) for line in lines) <= 16


def test_character_offsets_decide_spaces():
    # Japanese with a Latin word: the transcript had no spaces, so none are added.
    units = [
        Unit("私", "私", 0.0, 0.2, None, 0, 1),
        Unit("は", "は", 0.2, 0.4, None, 1, 2),
        Unit("Python", "python", 0.4, 0.8, None, 2, 8),
        Unit("が", "が", 0.8, 1.0, None, 8, 9),
    ]
    assert build_cues(_align(units))[0].text == "私はPythonが"
    # Korean keeps its spaces (from the offsets, and from the script without them).
    ko = [
        Unit("안녕", "안녕", 0.0, 0.3, None, 0, 2),
        Unit("하세요", "하세요", 0.3, 0.6, None, 3, 6),
    ]
    assert build_cues(_align(ko))[0].text == "안녕 하세요"
    ko_plain = [Unit("안녕", "안녕", 0.0, 0.3), Unit("하세요", "하세요", 0.3, 0.6)]
    assert build_cues(_align(ko_plain))[0].text == "안녕 하세요"


def test_a_word_wider_than_a_line_stays_whole_on_its_own_line():
    units = _words("a supercalifragilisticexpialidocious word")
    cues = build_cues(_align(units), CueOptions(max_chars=10))
    lines = [line for c in cues for line in c.lines]
    assert "supercalifragilisticexpialidocious" in lines


def test_short_cue_is_held_for_min_duration_where_the_gap_allows():
    units = [Unit("Yes.", "yes", 1.0, 1.2), Unit("Later.", "later", 5.0, 5.4)]
    cues = build_cues(
        _align(units, [Segment("Yes.", 1.0, 1.2, 0, 1), Segment("Later.", 5.0, 5.4, 1, 2)])
    )
    assert cues[0].end == pytest.approx(1.0 + 5 / 6)
    # Not enough gap: the hold stops min_gap before the next cue, never shortening speech.
    units = [Unit("Yes.", "yes", 1.0, 1.2), Unit("No.", "no", 1.4, 1.6)]
    cues = build_cues(
        _align(units, [Segment("Yes.", 1.0, 1.2, 0, 1), Segment("No.", 1.4, 1.6, 1, 2)])
    )
    assert cues[0].end == pytest.approx(1.4 - 2 / 24)
    assert cues[1].end == pytest.approx(1.4 + 5 / 6)


def test_chaining_closes_short_gaps_and_respects_audio_end():
    # 40 columns at 20 per second want 2 s on screen; speech gives 1.2 s.
    units = [
        Unit("First sentence here.", "x", 0.0, 2.0),
        Unit("Second, a much longer line of text here.", "y", 2.3, 3.5),
    ]
    segs = [Segment("a", 0.0, 2.0, 0, 1), Segment("b", 2.3, 3.5, 1, 2)]
    cues = build_cues(Alignment(tuple(units), tuple(segs), duration=3.6))
    assert cues[0].end == pytest.approx(2.3 - 2 / 24)
    assert cues[1].end == pytest.approx(3.6)  # the hold stops at the end of the audio
    longer = build_cues(Alignment(tuple(units), tuple(segs), duration=9.0))
    assert longer[1].end == pytest.approx(3.5 + 0.5)  # held at most `linger` past speech
    off = build_cues(
        Alignment(tuple(units), tuple(segs), duration=3.6),
        CueOptions(chain_frames=0, linger_frames=0),
    )
    assert off[0].end == pytest.approx(2.0)


@pytest.mark.parametrize(("gap_frames", "closed"), [(11, True), (12, True), (13, False)])
def test_a_gap_of_12_frames_or_fewer_is_closed_to_2(gap_frames, closed):
    """Netflix: close gaps "of 12 frames or fewer" to two frames (the issue: "gaps up to
    12 frames closed to 2"); a 12-frame gap (0.5 s at 24 fps) used to stay open."""
    first_end = 1.5
    second = first_end + gap_frames / 24
    units = [Unit("Hello.", "hello", 0.0, first_end), Unit("World.", "world", second, second + 1)]
    segs = [Segment("Hello.", 0.0, first_end, 0, 1), Segment("World.", second, second + 1, 1, 2)]
    cues = build_cues(_align(units, segs))
    want = second - 2 / 24 if closed else first_end
    assert cues[0].end == pytest.approx(want)


def test_zero_length_unit_gets_a_tick_when_written():
    units = [Unit("a", "a", 1.0, 1.0)]
    [(start, end, _cue)] = timed_cues(Alignment(tuple(units), duration=1.0), 0.001)
    assert (start, end) == (999, 1000)


def test_alignment_without_units_gives_one_cue_per_segment():
    segs = (
        Segment("One\ntwo", 0.5, 2.0),
        Segment("  ", 2.0, 2.5),
        Segment("Three", 1.5 + 0.5, 3.0),
    )
    cues = build_cues(Alignment((), segs, duration=3.0))
    assert [(c.start, c.end, c.text) for c in cues] == [(0.5, 2.0, "One\ntwo"), (2.0, 3.0, "Three")]


def test_overlapping_segments_are_clipped():
    segs = (Segment("A", 0.0, 2.0), Segment("B", 1.0, 3.0))
    cues = build_cues(Alignment((), segs, duration=3.0))
    assert [(c.start, c.end) for c in cues] == [(0.0, 1.0), (1.0, 3.0)]


def test_writer_options_reach_the_cue_builder():
    a = _align(_words("alpha beta gamma delta epsilon zeta eta theta"))
    assert len(timed_cues(a, 0.001)) == 1
    narrow = timed_cues(a, 0.001, max_chars=12, max_lines=1, unrelated_option=True)
    assert len(narrow) > 1
    assert all(len(c.text) <= 12 for _s, _e, c in narrow)


@pytest.mark.parametrize(
    "options",
    [
        {"max_chars": 0},
        {"max_lines": 0},
        {"max_duration": 0},
        {"min_duration": -1},
        {"max_cps": 0},
        {"chain": float("nan")},
    ],
)
def test_bad_options_raise_validation_error(options):
    with pytest.raises(ValidationError):
        CueOptions.from_options(options)


def test_alignment_from_cues_sorts_merges_and_clips():
    a = alignment_from_cues(
        [
            (5.0, 6.0, "late"),
            (0.0, 4.0, "long"),
            (2.0, 3.0, "inside"),
            (5.0, 5.5, "same start"),
            (7, 8, " "),
        ],
        "srt",
    )
    assert [(s.start, s.end, s.text) for s in a.segments] == [
        (0.0, 2.0, "long"),
        (2.0, 3.0, "inside"),
        (5.0, 6.0, "late\nsame start"),
    ]
    assert a.units == () and a.duration == 6.0 and a.source.engine == "srt"
    with pytest.raises(ValidationError, match="before its start"):
        alignment_from_cues([(2.0, 1.0, "backwards")], "srt")


# -- properties ----------------------------------------------------------------------

_TOKENS = st.sampled_from(
    [
        "a",
        "the",
        "word",
        "longer",
        "sentence.",
        "clause,",
        "我",
        "们。",
        "supercalifragilistic",
        "x" * 50,
        "Q?",
    ]
)


@st.composite
def _alignments(draw):
    n = draw(st.integers(1, 60))
    units, t = [], 0.0
    for _ in range(n):
        t += draw(st.sampled_from([0.0, 0.0, 0.01, 0.05, 0.3, 1.5, 4.0]))
        length = draw(st.sampled_from([0.0, 0.0004, 0.02, 0.2, 0.5, 8.0]))
        units.append(Unit(draw(_TOKENS), "x", round(t, 4), round(t + length, 4)))
        t = round(t + length, 4)
    cuts = sorted(set(draw(st.lists(st.integers(1, n - 1), max_size=5)))) if n > 1 else []
    bounds = [0, *cuts, n]
    segments = [
        Segment("s", units[a].start, units[b - 1].end, a, b) for a, b in zip(bounds, bounds[1:])
    ]
    duration = t + draw(st.sampled_from([0.0, 0.001, 2.0]))
    return Alignment(tuple(units), tuple(segments), duration=duration)


@settings(max_examples=150, deadline=None)
@given(
    _alignments(),
    st.integers(8, 50),
    st.integers(1, 3),
    st.sampled_from([0.001, 0.01]),
)
def test_cues_respect_limits_and_never_overlap(alignment, max_chars, max_lines, tick):
    opts = CueOptions(max_chars=max_chars, max_lines=max_lines)
    cues = build_cues(alignment, opts)
    # Every unit appears once, in order, and no cue straddles a segment.
    assert [u for c in cues for u in c.units] == list(alignment.units)
    seg_of = {}
    for k, seg in enumerate(alignment.segments):
        for i in range(seg.unit_start, seg.unit_end):
            seg_of[id(alignment.units[i])] = k
    for cue in cues:
        assert len({seg_of[id(u)] for u in cue.units}) == 1
        assert cue.text == "".join(s + u.text for s, u in zip(cue.seps, cue.units))
        assert len(cue.lines) <= max_lines
        for line in cue.lines:
            # Only a single unit wider than a line may overflow it.
            assert text_width(line) <= max_chars or any(u.text == line for u in cue.units)
        if len(cue.units) > 1:
            assert cue.units[-1].end - cue.units[0].start <= opts.max_duration
        assert cue.start <= cue.end <= alignment.duration + 1e-9
    for prev, nxt in zip(cues, cues[1:]):
        assert prev.end <= nxt.start + 1e-9
    spans = [
        (s, e) for s, e, _c in timed_cues(alignment, tick, max_chars=max_chars, max_lines=max_lines)
    ]
    for k, (s, e) in enumerate(spans):
        assert s < e
        if k:
            assert spans[k - 1][1] <= s
