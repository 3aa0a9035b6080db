"""WebVTT writer and reader (formats/vtt.py). Golden input: see test_srt.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import ReadError

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "srt_sample_input.json")


def test_matches_golden(sample):
    assert formats.dumps(sample, "vtt") == (GOLDEN / "vtt_sample.vtt").read_text("utf-8")
    words = formats.dumps(sample, "vtt", word_timestamps=True)
    assert words == (GOLDEN / "vtt_sample_words.vtt").read_text("utf-8")


def test_vtt_is_srt_with_header_dot_times_no_numbers_and_escapes(sample):
    srt_blocks = formats.dumps(sample, "srt").strip("\n").split("\n\n")
    vtt = formats.dumps(sample, "vtt")
    assert vtt.startswith("WEBVTT\n\n")
    vtt_blocks = vtt[len("WEBVTT\n\n") :].strip("\n").split("\n\n")
    assert len(vtt_blocks) == len(srt_blocks)
    for s, v in zip(srt_blocks, vtt_blocks):
        s_lines = s.split("\n")[1:]
        s_lines[0] = s_lines[0].replace(",", ".")
        expected = [
            ln.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for ln in s_lines
        ]
        expected[0] = s_lines[0]
        assert v.split("\n") == expected
    assert "Is 3 &lt; 4 &amp; {x} a C:\\path?" in vtt


def test_word_timestamps_rise_strictly_inside_each_cue(sample):
    text = formats.dumps(sample, "vtt", word_timestamps=True)
    for block in text.split("\n\n")[1:]:
        head, payload = block.split("\n", 1)
        start, end = (_ms(t) for t in head.split(" --> "))
        stamps = [_ms(t) for t in re.findall(r"<(\d\d:\d\d:\d\d\.\d\d\d)>", payload)]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert all(start < t < end for t in stamps)
    # Every unit but each cue's first gets its start (the sample's units are all distinct).
    assert text.count("<c>") == len(sample.units) - (text.count("-->"))


def _ms(stamp: str) -> int:
    h, m, s = stamp.split(":")
    return (int(h) * 3600 + int(m) * 60) * 1000 + round(float(s) * 1000)


def test_round_trip_with_and_without_word_timestamps(sample):
    plain = formats.dumps(sample, "vtt")
    for written in (plain, formats.dumps(sample, "vtt", word_timestamps=True)):
        back = formats.loads(written, "vtt")
        assert formats.dumps(back, "vtt") == plain
    back = formats.loads(plain, "vtt")
    assert back.segments[1].text == "Is 3 < 4 & {x} a C:\\path?"
    assert [(s.start, s.end) for s in back.segments][:2] == [(0.5, 1.333), (1.96, 4.06)]


def test_srt_to_vtt_and_back_is_lossless(sample):
    srt = formats.dumps(sample, "srt")
    via_vtt = formats.loads(formats.dumps(formats.loads(srt, "srt"), "vtt"), "vtt")
    assert formats.dumps(via_vtt, "srt") == srt


def test_reader_handles_header_notes_styles_ids_settings_and_short_times():
    text = (
        "\ufeffWEBVTT - with a title\nKind: captions\n\n"
        "STYLE\n::cue { color: red }\n\n"
        "REGION\nid:r1 width:40%\n\n"
        "NOTE a comment\nthat --> spans lines\n\n"
        "intro\n00:01.000 --> 00:02.500 align:start position:10%\n<v Roger>Hi &amp; <b>welcome</b>&lt;3</v>\n\n"
        "NOTE\nbetween cues\n\n"
        "2\n01:00:00.000 --> 01:00:01.000\n<ruby>漢<rt>kan</rt></ruby> <00:00:59.500><c.yellow>word</c>\n"
        "00:00:03.000-->00:00:04.000line:0\nno blank line before me\n"
    )
    cues = [(s.start, s.end, s.text) for s in formats.loads(text, "vtt").segments]
    assert cues == [
        (1.0, 2.5, "Hi & welcome<3"),
        (3.0, 4.0, "no blank line before me"),
        (3600.0, 3601.0, "漢 word"),
    ]


def test_reader_accepts_header_only_file():
    assert formats.loads("WEBVTT\n", "vtt").segments == ()


@pytest.mark.parametrize(
    "content, where",
    [
        ("", "line 1: missing the 'WEBVTT' signature"),
        ("WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", "line 1"),
        ("WEBVTT\n00:01.000 --> 00:02.000\nx\n", "line 2: cue timing inside the header"),
        ("WEBVTT\n\n00:01.00 --> 00:02.000\nx\n", "line 3: bad cue timing"),
        ("WEBVTT\n\n1:01.000 --> 00:02.000\nx\n", "line 3"),  # mm:ss needs two-digit minutes
        (
            "WEBVTT\n\n00:01.000 --> 00:02.000\nx\n\nstray text\n",
            "line 6: text without a cue timing",
        ),
        ("WEBVTT\n\n00:61.000 --> 01:02.000\nx\n", "line 3"),
    ],
)
def test_broken_files_raise_read_error(tmp_path, content, where):
    path = tmp_path / "broken.vtt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReadError) as err:
        formats.load(path)
    assert "broken.vtt" in str(err.value) and where in str(err.value)


def test_greater_than_in_text_cannot_forge_a_timing_line():
    a = Alignment((), (Segment("a\n00:00:05.000 --> 00:00:06.000", 0.0, 1.0),), duration=1.0)
    text = formats.dumps(a, "vtt")
    assert text.count("-->") == 1
    assert formats.loads(text, "vtt").segments[0].text == "a\n00:00:05.000 --> 00:00:06.000"


def test_zero_length_units_keep_distinct_word_timestamps():
    units = (
        Unit("one", "one", 1.0, 1.0),
        Unit("two", "two", 1.0, 1.0),
        Unit("three", "three", 1.0, 1.5),
    )
    text = formats.dumps(Alignment(units, duration=2.0), "vtt", word_timestamps=True)
    # All three start at the cue's start: a timestamp must fall strictly inside, so none is written.
    assert text.split("\n")[3] == "one two three"
