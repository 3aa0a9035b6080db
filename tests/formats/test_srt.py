"""SubRip writer and reader (formats/srt.py).

Golden files were written by this writer from ``golden/srt_sample_input.json``
(the input of every subtitle golden file: punctuation, ``<``/``&``/``{``/``\\``,
a zero-length unit, a sentence too long for one cue, Chinese) and checked by
hand; regenerate them only after reviewing the difference.
"""

from __future__ import annotations

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
    assert formats.dumps(sample, "srt") == (GOLDEN / "srt_sample.srt").read_text("utf-8")


def test_golden_facts(sample):
    """What the golden file must show, stated independently of the writer."""
    text = (GOLDEN / "srt_sample.srt").read_text("utf-8")
    blocks = text.strip("\n").split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == [str(k) for k in range(1, len(blocks) + 1)]
    assert blocks[0] == "1\n00:00:00,500 --> 00:00:01,333\nHello, world!"  # held 5/6 s
    assert "Is 3 < 4 & {x} a C:\\path?" in blocks[1]  # SubRip has no escaping
    assert blocks[-1].endswith("\n我们今天去公园散步，天气非常好。")  # CJK joined without spaces
    long_cues = [b for b in blocks if "Forced" in b or "paused." in b or "sentences" in b]
    assert len(long_cues) >= 3  # the long sentence is split
    for block in blocks:
        lines = block.split("\n")[2:]
        assert 1 <= len(lines) <= 2 and all(len(line) <= 42 for line in lines)


def test_round_trip_keeps_cue_texts_and_ms_times(sample):
    written = formats.dumps(sample, "srt")
    back = formats.loads(written, "srt")
    again = formats.dumps(back, "srt")
    assert again == written
    assert back.units == ()
    assert back.segments[0].text == "Hello, world!"
    assert (back.segments[0].start, back.segments[0].end) == (0.5, 1.333)
    assert back.duration == back.segments[-1].end == 18.2


def test_writer_rounds_half_up_and_never_writes_zero_length():
    a = Alignment(
        (
            Unit("one", "one", 0.0005, 0.0005),
            Unit("two", "two", 3600 * 100 + 1.0004, 3600 * 100 + 2.0),
        ),
        (Segment("a", 0.0005, 0.0005, 0, 1), Segment("b", 360001.0004, 360002.0, 1, 2)),
        duration=3600 * 100 + 3.0,
    )
    text = formats.dumps(a, "srt", min_duration=0, linger=0, chain=0)
    assert "00:00:00,001 --> 00:00:00,002\none" in text
    assert "100:00:01,000 --> 100:00:02,000\ntwo" in text


def test_options_change_the_layout(sample):
    narrow = formats.dumps(sample, "srt", max_chars=20, max_lines=1)
    lines = [ln for block in narrow.split("\n\n") for ln in block.split("\n")[2:] if ln]
    assert all(len(ln) <= 20 or " " not in ln for ln in lines)
    assert narrow.count("-->") > formats.dumps(sample, "srt").count("-->")


def test_segments_only_alignment_writes_segments_with_their_line_breaks():
    a = Alignment((), (Segment("One\ntwo", 1.0, 2.0), Segment("Three", 2.0, 2.0)), duration=2.5)
    assert formats.dumps(a, "srt") == (
        "1\n00:00:01,000 --> 00:00:02,000\nOne\ntwo\n\n2\n00:00:02,000 --> 00:00:02,001\nThree\n"
    )


def test_reader_tolerates_bom_line_ends_missing_numbers_and_short_fractions():
    text = (
        "\ufeff1\r\n00:00:01,5 --> 00:00:02.04 X1:40 X2:600\r\n<i>Hello</i> {\\an8}there\r\n\r\n"
        "00:01:03 --> 00:01:04,000\rsecond\rline\r\r"
        "3\n00:01:05,000 --> 00:01:06,000\nthird\n4\n00:01:07,000 --> 00:01:08,000\nfourth\n"
    )
    cues = [(s.start, s.end, s.text) for s in formats.loads(text, "srt").segments]
    assert cues == [
        (1.5, 2.04, "Hello there"),
        (63.0, 64.0, "second\nline"),
        (65.0, 66.0, "third"),
        (67.0, 68.0, "fourth"),
    ]


def test_reader_keeps_entities_and_unknown_angle_brackets():
    text = "1\n00:00:01,000 --> 00:00:02,000\na < b &amp; <3\n"
    assert formats.loads(text, "srt").segments[0].text == "a < b &amp; <3"


def test_reader_sorts_and_clips_overlaps():
    text = (
        "1\n00:00:05,000 --> 00:00:06,000\nlater\n\n"
        "2\n00:00:01,000 --> 00:00:05,500\nfirst\n\n"
        "3\n00:00:07,000 --> 00:00:08,000\n\n"
    )
    a = formats.loads(text, "srt")
    assert [(s.start, s.end, s.text) for s in a.segments] == [
        (1.0, 5.0, "first"),
        (5.0, 6.0, "later"),
    ]


@pytest.mark.parametrize(
    "content, where",
    [
        ("1\n00:00:01,000 --> 00:00:02,000\nok\n\njust text\n", "line 5"),
        ("1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 -> 00:00:04,000\nx\n", "line 6"),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 --> 00:00:04,000\nx\n"
            "\n3\n00:00:05,000 --> 00:00:04,000\nbackwards\n",
            "before its start",
        ),
        ("1\n00:61:01,000 --> 00:62:02,000\nbad minutes\n", "line 2"),
    ],
)
def test_broken_files_raise_read_error_naming_file_and_line(tmp_path, content, where):
    path = tmp_path / "broken.srt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReadError) as err:
        formats.load(path)
    assert "broken.srt" in str(err.value) and where in str(err.value)


def test_utf16_file_reads(tmp_path):
    path = tmp_path / "u16.srt"
    path.write_bytes("1\n00:00:01,000 --> 00:00:02,000\nÜber\n".encode("utf-16"))
    assert formats.load(path).segments[0].text == "Über"
