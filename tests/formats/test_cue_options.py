"""Cue rules (formats/cue_options.py): presets, overrides, frames, and their effect on cues."""

from __future__ import annotations

import pytest

from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import ValidationError
from qalign.formats.cue_options import PRESETS, CueOptions
from qalign.formats.cues import build_cues


def _words(text: str, step: float = 0.3) -> list[Unit]:
    return [Unit(w, w, k * step, k * step + 0.25) for k, w in enumerate(text.split())]


def test_presets_set_their_values_and_explicit_options_override_them():
    netflix = CueOptions.from_options({"preset": "netflix"})
    assert (netflix.max_chars, netflix.max_lines, netflix.max_cps) == (None, 2, 17.0)
    assert netflix.min_gap == pytest.approx(2 / 24)
    assert netflix.chain == pytest.approx(12 / 24) and netflix.linger == pytest.approx(0.5)
    assert netflix.min_duration == pytest.approx(5 / 6) and netflix.max_duration == 7.0
    bbc = CueOptions.from_options({"preset": "bbc"})
    assert bbc.max_chars == 37 and bbc.max_wpm == 180 and bbc.sentence_cues
    assert bbc.min_gap == pytest.approx(2 / 25)
    cjk = CueOptions.from_options({"preset": "cjk"})
    assert cjk.max_chars == 32 and cjk.max_cps == 9
    karaoke = CueOptions.from_options({"preset": "karaoke"})
    assert karaoke.cues == "lines" and karaoke.min_duration == 0
    mine = CueOptions.from_options(
        {"preset": "cjk", "max_chars": 20, "fps": 25, "min_gap_frames": 3}
    )
    assert mine.max_chars == 20 and mine.max_cps == 9 and mine.min_gap == pytest.approx(3 / 25)
    assert set(PRESETS) == {"netflix", "bbc", "cjk", "karaoke"}


@pytest.mark.parametrize(
    "options",
    [{"preset": "imax"}, {"cues": "words"}, {"fps": 0}, {"min_gap_frames": -1}, {"max_cps": 0}],
)
def test_bad_values_raise(options):
    with pytest.raises(ValidationError):
        CueOptions.from_options(options)


def test_seconds_options_become_frames():
    opts = CueOptions.from_options({"chain": 0.25, "min_gap": 0.0, "fps": 24})
    assert opts.chain_frames == 6 and opts.min_gap_frames == 0


def test_reading_speed_counts_characters_and_words():
    opts = CueOptions(max_cps=10, max_wpm=120)
    assert opts.reading_time(20, 1) == pytest.approx(2.0)
    assert opts.reading_time(5, 6) == pytest.approx(3.0)  # 6 words at 2 words per second
    assert CueOptions(max_cps=None).reading_time(100, 1) == 0.0


def test_bbc_keeps_one_sentence_per_cue_where_netflix_joins_them():
    text = "Yes. No. Maybe so. Come here."
    a = Alignment(tuple(_words(text)), duration=3.0)
    assert len(build_cues(a, CueOptions())) == 1
    bbc = build_cues(a, CueOptions.from_options({"preset": "bbc"}))
    assert [c.text for c in bbc] == ["Yes.", "No.", "Maybe so.", "Come here."]


def test_min_gap_is_kept_even_when_speech_runs_on():
    units = [Unit("One.", "one", 0.0, 1.0), Unit("Two.", "two", 1.0, 2.0)]
    segs = [Segment("One.", 0.0, 1.0, 0, 1), Segment("Two.", 1.0, 2.0, 1, 2)]
    cues = build_cues(Alignment(tuple(units), tuple(segs), duration=2.5))
    assert cues[0].end == pytest.approx(1.0 - 2 / 24)
    cues = build_cues(Alignment(tuple(units), tuple(segs), duration=2.5), CueOptions(fps=25))
    assert cues[0].end == pytest.approx(1.0 - 2 / 25)


def test_unaligned_units_never_share_a_cue_with_placed_ones():
    units = _words("we heard this part clearly")
    units[2:4] = [Unit(u.text, u.norm, u.start, u.end, status="unaligned") for u in units[2:4]]
    cues = build_cues(Alignment(tuple(units), duration=3.0))
    statuses = [{u.status == "unaligned" for u in c.units} for c in cues]
    assert all(len(s) == 1 for s in statuses)
    assert [u for c in cues for u in c.units] == units
