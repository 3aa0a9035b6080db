"""Audacity label track (formats/audacity.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import ReadError, UnknownFormatError

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "tg_sample.json")


def test_matches_golden(sample):
    assert formats.dumps(sample, "audacity") == (GOLDEN / "aud_sample.audacity.txt").read_text(
        "utf-8"
    )


def test_six_decimals_widening_and_clean_labels():
    a = Alignment(
        (Unit("a\tb", "ab", 0.0000004, 0.1234565), Unit("x\ny", "xy", 0.5, 0.5)),
        duration=1.0,
    )
    assert formats.dumps(a, "audacity") == "0.000000\t0.123457\ta b\n0.500000\t0.501000\tx y\n"


def test_segments_only_alignment_writes_segments():
    cues = Alignment((), (Segment("Hi there.", 0.25, 1.0),), 2.0)
    assert formats.dumps(cues, "audacity") == "0.250000\t1.000000\tHi there.\n"


def test_round_trip_to_the_microsecond(sample):
    back = formats.loads(formats.dumps(sample, "audacity"), "audacity")
    assert [u.text for u in back.units] == [u.text for u in sample.units]
    for got, want in zip(back.units, sample.units):
        assert got.start == pytest.approx(want.start, abs=5e-7)
        if want.end > want.start:
            assert got.end == pytest.approx(want.end, abs=5e-7)


def test_reader_skips_spectral_lines_blank_labels_and_keeps_points():
    text = "0.1\t0.4\tone\n\\\t100.0\t2000.0\n\n0.5\t0.5\tpoint\n0.6\t0.7\t\n"
    a = formats.loads(text, "audacity")
    assert [(u.text, u.start, u.end) for u in a.units] == [("one", 0.1, 0.4), ("point", 0.5, 0.5)]


@pytest.mark.parametrize("name", ["x.audacity.txt", "song.labels.txt", "A.AUDACITY.TXT"])
def test_extensions(name):
    assert formats.format_of(name).name == "audacity"


def test_plain_txt_is_not_audacity():
    try:
        fmt = formats.format_of("transcript.txt")
    except UnknownFormatError:
        return
    assert fmt.name != "audacity"


@pytest.mark.parametrize(
    "content", ["0.1 0.4 spaces not tabs\n", "a\tb\tlabel\n", "0.5\t0.6\tb\n0.1\t0.55\tc\n"]
)
def test_bad_files_raise_read_error(tmp_path, content):
    path = tmp_path / "bad.audacity.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReadError, match="bad.audacity.txt"):
        formats.load(path)
