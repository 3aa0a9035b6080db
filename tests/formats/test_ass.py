"""ASS writers, plain and karaoke (formats/ass.py). Golden input: see test_srt.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.formats.cues import timed_cues
from qalign.formats.timing import to_ticks

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "srt_sample_input.json")


def _dialogues(text: str) -> list[tuple[str, str, str]]:
    """(start, end, text) of each Dialogue line, split on the first nine commas."""
    out = []
    for line in text.split("\n"):
        if line.startswith("Dialogue: "):
            fields = line[len("Dialogue: ") :].split(",", 9)
            assert len(fields) == 10
            out.append((fields[1], fields[2], fields[9]))
    return out


def _cs(stamp: str) -> int:
    h, m, s = stamp.split(":")
    sec, cs = s.split(".")
    assert len(m) == 2 and len(sec) == 2 and len(cs) == 2
    return ((int(h) * 60 + int(m)) * 60 + int(sec)) * 100 + int(cs)


def _libass_plain(text: str) -> str:
    """Text as libass shows it (WrapStyle 0): override blocks hidden, \\N a line break,
    \\{ \\} literal braces, \\h a no-break space, U+2060 invisible."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            close = text.find("}", i)
            if close >= 0:
                i = close + 1
                continue
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "Nnh{}":
            out.append({"N": "\n", "n": " ", "h": "\xa0"}.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out).replace("\u2060", "")


def test_matches_golden(sample):
    assert formats.dumps(sample, "ass") == (GOLDEN / "ass_sample.ass").read_text("utf-8")
    karaoke = (GOLDEN / "ass_sample_karaoke.ass").read_text("utf-8")
    assert formats.dumps(sample, "ass-karaoke") == karaoke
    assert formats.dumps(sample, "ass", karaoke=True) == karaoke


def test_sections_and_field_counts(sample):
    text = formats.dumps(sample, "ass")
    lines = text.split("\n")
    assert lines[0] == "[Script Info]"
    assert "ScriptType: v4.00+" in lines and "PlayResX: 1920" in lines and "PlayResY: 1080" in lines
    assert lines.index("[Script Info]") < lines.index("[V4+ Styles]") < lines.index("[Events]")
    style_format = next(ln for ln in lines if ln.startswith("Format: Name,"))
    style = next(ln for ln in lines if ln.startswith("Style: "))
    assert len(style_format.split(",")) == len(style.split(",")) == 23
    event_format = next(ln for ln in lines if ln.startswith("Format: Layer,"))
    assert len(event_format.split(",")) == 10
    assert formats.format_of("x.ass").name == "ass"
    assert formats.format_of("x.ass", "ass-karaoke").name == "ass-karaoke"


def test_text_is_escaped_and_times_match_srt(sample):
    ass = _dialogues(formats.dumps(sample, "ass"))
    srt = formats.loads(formats.dumps(sample, "srt"), "srt").segments
    assert len(ass) == len(srt)
    for (start, end, text), seg in zip(ass, srt):
        assert _libass_plain(text) == seg.text
        assert abs(_cs(start) * 10 - round(seg.start * 1000)) <= 5
        # an end may be a centisecond sooner, to keep two whole frames before the next cue
        assert -15 <= _cs(end) * 10 - round(seg.end * 1000) <= 5
    assert ass[1][2] == "Is 3 < 4 & \\{x\\} a C:\\\u2060path?"
    assert "\\N" in ass[2][2]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab {}\\Nnh\n", min_size=1, max_size=30).filter(lambda t: t.strip()))
def test_any_text_reads_back_through_libass_rules(text):
    a = Alignment((), (Segment(text, 0.0, 1.0),), duration=1.0)
    [(_s, _e, written)] = _dialogues(formats.dumps(a, "ass"))
    assert _libass_plain(written) == text
    assert "\n" not in written


def test_centiseconds_round_half_up():
    # As Aegisub: 1.004 s -> 1.00, 1.005 s -> 1.01, 3599.995 s -> 1:00:00.00.
    segs = (Segment("a", 1.004, 1.005), Segment("b", 3599.995, 36000.0))
    d = _dialogues(formats.dumps(Alignment((), segs, duration=36000.0), "ass"))
    assert [(s, e) for s, e, _t in d] == [
        ("0:00:01.00", "0:00:01.01"),
        ("1:00:00.00", "10:00:00.00"),
    ]


def test_karaoke_k_times_add_up_to_word_starts(sample):
    dialogues = _dialogues(formats.dumps(sample, "ass-karaoke"))
    cues = timed_cues(sample, 0.01)
    assert len(dialogues) == len(cues)
    for (start, end, text), (_s, _e, cue) in zip(dialogues, cues):
        pieces = re.split(r"\{\\k(\d+)\}", text)
        assert pieces[0] == ""
        cue_start = _cs(start)
        elapsed, words = 0, []
        for k, shown in zip(pieces[1::2], pieces[2::2]):
            if _libass_plain(shown).strip():
                words.append((_libass_plain(shown).strip(), cue_start + elapsed))
            elapsed += int(k)
        assert elapsed <= _cs(end) - cue_start
        assert [w for w, _t in words] == [u.text for u in cue.units]
        assert [t for _w, t in words] == [to_ticks(u.start, 0.01) for u in cue.units]


def test_karaoke_gap_gets_its_own_empty_syllable():
    units = (Unit("Hello", "hello", 1.0, 1.5), Unit("world", "world", 2.0, 2.25))
    text = formats.dumps(Alignment(units, duration=3.0), "ass-karaoke", chain=0)
    [(start, _end, payload)] = _dialogues(text)
    assert start == "0:00:01.00"
    assert payload == "{\\k50}Hello {\\k50}{\\k25}world"


def test_alignment_without_units_writes_plain_karaoke_lines():
    a = Alignment((), (Segment("no {units}", 0.0, 1.0),), duration=1.0)
    assert _dialogues(formats.dumps(a, "ass-karaoke")) == [
        ("0:00:00.00", "0:00:01.00", "no \\{units\\}")
    ]


@pytest.mark.parametrize("tag", ["k", "kf", "ko"])
def test_karaoke_tags_sum_to_each_cue_and_read_back_as_units(sample, tag):
    from qalign.formats.cues import timed_cues

    text = formats.dumps(sample, "ass", karaoke_tag=tag)
    lines = [ln for ln in text.splitlines() if ln.startswith("Dialogue")]
    for line, (start, end, _cue) in zip(lines, timed_cues(sample, 0.01), strict=True):
        ks = re.findall(rf"\{{\\{tag}(\d+)\}}", line)
        assert ks and sum(map(int, ks)) == end - start
    back = formats.loads(text, "ass")
    assert [u.text for u in back.units] == [u.text for u in sample.units]
    for ours, theirs in zip(back.units, sample.units):
        assert abs(ours.start - theirs.start) <= 0.0051


def test_style_options_and_bad_colours():
    from qalign.alignment import Alignment, Unit
    from qalign.errors import ValidationError

    a = Alignment((Unit("Hi", "hi", 0.1, 0.5),), duration=1.0)
    text = formats.dumps(a, "ass", ass_font="Noto Sans", ass_size=40, ass_primary="#102030",
                         ass_secondary="&H80FFFFFF")  # fmt: skip
    assert "Style: Default,Noto Sans,40,&H00302010,&H80FFFFFF," in text
    with pytest.raises(ValidationError, match="colour"):
        formats.dumps(a, "ass", ass_primary="red")


def test_ssa_and_ass_readers_remove_overrides_and_undo_our_escapes(sample):
    back = formats.loads(formats.dumps(sample, "ass"), "ass")
    assert [s.text.replace("\n", " ") for s in back.segments][:2] == [
        "Hello, world!",
        "Is 3 < 4 & {x} a C:\\path?",
    ]
