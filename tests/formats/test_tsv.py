"""Tab-separated word list (formats/tsv.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import ReadError

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "tg_sample.json")


def test_matches_golden(sample):
    assert formats.dumps(sample, "tsv") == (GOLDEN / "tsv_sample.tsv").read_text("utf-8")


def test_integer_ms_no_score_column_without_scores():
    a = Alignment(
        (Unit("a\tb", "ab", 0.0004, 0.0015), Unit("line\nbreak", "linebreak", 0.5, 0.5)),
        duration=1.0,
    )
    assert formats.dumps(a, "tsv") == "start\tend\ttext\n0\t2\ta b\n500\t501\tline break\n"


def test_segments_only_alignment_writes_segments():
    cues = Alignment((), (Segment("Hi there.", 0.25, 1.0),), 2.0)
    assert formats.dumps(cues, "tsv") == "start\tend\ttext\n250\t1000\tHi there.\n"


def test_round_trip(sample):
    back = formats.loads(formats.dumps(sample, "tsv"), "tsv")
    assert [u.text for u in back.units] == [u.text for u in sample.units]
    assert [u.norm for u in back.units] == [u.norm for u in sample.units]
    for got, want in zip(back.units, sample.units):
        assert got.start == pytest.approx(want.start, abs=0.0005)
        assert got.end == pytest.approx(want.end, abs=0.0011)
        assert got.score == (None if want.score is None else pytest.approx(want.score, abs=0.0005))


def test_reader_without_header_and_with_other_column_names():
    assert [(u.text, u.start, u.end) for u in formats.loads("100\t200\thi\n", "tsv").units] == [
        ("hi", 0.1, 0.2)
    ]
    text = "word\tstart\tend\tconfidence\nyes\t0\t500\t0.25\n\t500\t600\t\n"
    a = formats.loads(text, "tsv")
    assert [(u.text, u.start, u.end, u.score) for u in a.units] == [("yes", 0.0, 0.5, 0.25)]


@pytest.mark.parametrize(
    "content",
    [
        "start\tend\ttext\n0.5\t1.2\tseconds\n",  # times must be integer ms
        "start\tend\n0\t1\n",  # no text column
        "start\tend\ttext\n0\t100\n",
        "start\tend\ttext\tscore\n0\t100\ta\thigh\n",
        "start\tend\ttext\n0\t500\ta\n400\t800\tb\n",  # overlap
        "start\tend\ttext\n500\t100\ta\n",  # reversed
    ],
)
def test_bad_files_raise_read_error(tmp_path, content):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReadError, match="bad.tsv"):
        formats.load(path)
