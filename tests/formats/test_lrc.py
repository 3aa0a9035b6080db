"""LRC writers, line-level and enhanced (formats/lrc.py). Golden input: see test_srt.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.formats.timing import to_ticks

GOLDEN = Path(__file__).parent / "golden"
_LINE = re.compile(r"^\[(\d{2,}):(\d\d)\.(\d\d)\](.*)$")
_WORD = re.compile(r"<(\d{2,}):(\d\d)\.(\d\d)>")


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "srt_sample_input.json")


def _cs(m: str, s: str, c: str) -> int:
    return (int(m) * 60 + int(s)) * 100 + int(c)


def _lines(text: str) -> list[tuple[int, str]]:
    out = []
    for line in text.rstrip("\n").split("\n"):
        m = _LINE.match(line)
        assert m, line
        out.append((_cs(*m.groups()[:3]), m.group(4)))
    return out


def test_matches_golden(sample):
    assert formats.dumps(sample, "lrc") == (GOLDEN / "lrc_sample.lrc").read_text("utf-8")
    enhanced = (GOLDEN / "lrc_sample_enhanced.lrc").read_text("utf-8")
    assert formats.dumps(sample, "lrc-enhanced") == enhanced
    assert formats.dumps(sample, "lrc", enhanced=True) == enhanced


def test_lines_are_timed_in_order_and_cleared_after_pauses(sample):
    lines = _lines(formats.dumps(sample, "lrc"))
    times = [t for t, _ in lines]
    assert times == sorted(times)
    shown = [text for _t, text in lines if text]
    assert (
        " ".join(shown).replace("。 ", "。").startswith("Hello, world! Is 3 < 4 & {x} a C:\\path?")
    )
    assert shown[-1] == "我们今天去公园散步，天气非常好。"
    assert lines[-1][1] == ""  # the display is cleared after the last line
    # A clear line precedes the Chinese sentence (1 s pause), none precedes "Is" (0.68 s).
    i = next(k for k, (_t, text) in enumerate(lines) if text.startswith("我"))
    assert lines[i - 1][1] == ""
    j = next(k for k, (_t, text) in enumerate(lines) if text.startswith("Is"))
    assert lines[j - 1][1] != ""
    # One line per cue by default.
    assert all(len(text) <= 42 for _t, text in lines)


def test_enhanced_words_carry_their_starts(sample):
    lines = _lines(formats.dumps(sample, "lrc-enhanced"))
    words = []
    for line_time, text in lines:
        if not text:
            continue
        pieces = _WORD.split(text)  # "", m, s, c, word, m, s, c, word, ..., m, s, c, ""
        assert pieces[0] == "" and pieces[-1] == ""  # the last word's end closes the line
        stamps = [_cs(*pieces[k : k + 3]) for k in range(1, len(pieces), 4)]
        assert stamps[0] == line_time and stamps == sorted(stamps)
        words += [(t, pieces[k + 3].strip()) for t, k in zip(stamps, range(1, len(pieces) - 4, 4))]
    assert [w for _t, w in words] == [u.text for u in sample.units]
    # Units that were not widened by rounding keep their own start exactly.
    assert [t for t, _w in words] == [to_ticks(u.start, 0.01) for u in sample.units]


def test_minutes_grow_past_99_and_clear_gap_option():
    units = (Unit("late", "late", 6000.0, 6000.5), Unit("later.", "later", 6010.0, 6010.5))
    a = Alignment(units, duration=6011.0)
    assert formats.dumps(a, "lrc", max_chars=5) == (
        "[100:00.00]late\n[100:00.83]\n[100:10.00]later.\n[100:10.83]\n"
    )
    assert formats.dumps(a, "lrc", max_chars=5, clear_gap=60) == (
        "[100:00.00]late\n[100:10.00]later.\n[100:10.83]\n"
    )


def test_segments_without_units_become_plain_lines():
    a = Alignment((), (Segment("two\nlines", 1.0, 2.0),), duration=2.0)
    assert formats.dumps(a, "lrc-enhanced") == "[00:01.00]two lines\n[00:02.00]\n"


def test_multi_line_cues_become_separate_lyric_lines():
    units = tuple(
        Unit(w, w, k * 0.5, k * 0.5 + 0.4) for k, w in enumerate("one two three four".split())
    )
    text = formats.dumps(Alignment(units, duration=3.0), "lrc", max_chars=8, max_lines=2)
    assert [(t, line) for t, line in _lines(text) if line] == [
        (0, "one two"),
        (100, "three"),
        (150, "four"),
    ]


def test_lrc_reader_reads_tags_offsets_and_repeated_lines():
    text = (
        "[ar:Someone]\n[ti:Song]\n[offset:+500]\n"
        "[00:12.00][01:30.50]Chorus line\n"
        "[00:05.1]First line\n"
        "[00:08:25]\n"
        "[00:09]Second line\n"
    )
    a = formats.loads(text, "lrc")
    assert [(s.start, s.end, s.text) for s in a.segments] == [
        (pytest.approx(4.6), pytest.approx(7.75), "First line"),
        (pytest.approx(8.5), pytest.approx(11.5), "Second line"),
        (pytest.approx(11.5), pytest.approx(90.0), "Chorus line"),
        (pytest.approx(90.0), pytest.approx(95.0), "Chorus line"),
    ]


def test_enhanced_lrc_round_trips_word_starts(sample):
    text = formats.dumps(sample, "lrc-enhanced")
    back = formats.loads(text, "lrc")
    assert [u.text for u in back.units] == [u.text for u in sample.units]
    assert [round(u.start, 2) for u in back.units] == [
        round(u.start + 1e-9, 2) for u in sample.units
    ]
    assert formats.dumps(back, "lrc-enhanced") == text


def test_lrc_line_without_a_tag_is_refused():
    with pytest.raises(ValueError, match="line 2"):
        formats.loads("[00:01.00]ok\njust text\n", "lrc")


def test_time_tags_inside_lyrics_stay_text(sample):
    from qalign.alignment import Alignment, Segment, Unit

    units = (
        Unit("[00:05.00]", "x", 1.0, 1.5),
        Unit("<00:02.00>hi", "x", 1.6, 2.0),
        Unit("[ar:x]", "x", 2.1, 2.4),
    )
    a = Alignment(units, (Segment("s", 1.0, 2.4, 0, 3),), duration=4.0)
    for fmt in ("lrc", "lrc-enhanced"):
        back = formats.loads(formats.dumps(a, fmt), "lrc")
        assert [s.text for s in back.segments] == ["[00:05.00] <00:02.00>hi [ar:x]"]
        assert back.segments[0].start == 1.0


def test_offset_applies_to_word_tags_too():
    a = formats.loads("[offset:1000]\n[00:05.00]<00:05.00>one <00:05.50>two<00:06.00>\n", "lrc")
    assert [(u.text, u.start, u.end) for u in a.units] == [("one", 4.0, 4.5), ("two", 4.5, 5.0)]


@pytest.mark.parametrize("fmt", ["lrc", "lrc-enhanced"])
@pytest.mark.parametrize("brk", ["\n", "\r", "\u2028"])
def test_line_breaks_inside_a_word_stay_on_its_line(fmt, brk):
    units = (Unit(f"one{brk}two", "onetwo", 1.0, 1.5), Unit("three", "three", 1.6, 2.0))
    a = Alignment(units, (Segment("s", 1.0, 2.0, 0, 2),), duration=4.0)
    text = formats.dumps(a, fmt)
    back = formats.loads(text, "lrc")
    assert [s.text for s in back.segments] == ["one two three"]
    assert back.segments[0].start == 1.0
