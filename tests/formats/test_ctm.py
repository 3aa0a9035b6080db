"""NIST CTM writer and reader (formats/ctm.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from textwrap import dedent

import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import ReadError

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "tg_sample.json")


def test_matches_golden(sample):
    expected = (GOLDEN / "ctm_sample.ctm").read_text("utf-8")
    assert formats.dumps(sample, "ctm", file_id="sample") == expected


def test_fields_rounding_and_widening():
    a = Alignment(
        (
            Unit("one", "one", 0.0004, 0.0015, 0.12345),
            Unit("two", "two", 0.5, 0.5),
            Unit("three", "three", 61.0, 61.2345),
        ),
        duration=62.0,
    )
    lines = formats.dumps(a, "ctm").splitlines()
    assert lines == [
        "audio 1 0.000 0.002 one 0.123",  # 0.4 ms -> 0, 1.5 ms -> 2 (half up)
        "audio 1 0.500 0.001 two",  # zero length widened to one millisecond
        "audio 1 61.000 0.235 three",
    ]


def test_whitespace_in_words_and_ids_becomes_underscore():
    a = Alignment((Unit("New\tYork City", "new york city", 0.1, 0.9),), duration=1.0)
    assert (
        formats.dumps(a, "ctm", file_id="my file", channel="A")
        == "my_file A 0.100 0.800 New_York_City\n"
    )


def test_norm_option_writes_normalised_words(sample):
    words = [line.split()[4] for line in formats.dumps(sample, "ctm", norm=True).splitlines()]
    assert words == [u.norm for u in sample.units]


def test_segments_only_alignment_writes_one_line_per_segment():
    cues = Alignment((), (Segment("Hello there.", 0.5, 1.5), Segment("Bye.", 2.0, 2.5)), 3.0)
    assert (
        formats.dumps(cues, "ctm") == "audio 1 0.500 1.000 Hello_there.\naudio 1 2.000 0.500 Bye.\n"
    )


def test_round_trip_within_a_millisecond(sample):
    back = formats.loads(formats.dumps(sample, "ctm"), "ctm")
    assert [u.text for u in back.units] == [u.text for u in sample.units]
    for got, want in zip(back.units, sample.units):
        assert got.start == pytest.approx(want.start, abs=0.0005)
        assert got.end == pytest.approx(want.end, abs=0.0011)  # + widening of a zero-length word
        assert got.score == (None if want.score is None else pytest.approx(want.score, abs=0.0005))


_MULTI = dedent(
    """\
    ;; comment line
    rec2 A 5.00 0.20 LATER 0.5
    rec1 B 0.10 0.20 other
    rec1 A 0.50 0.25 second 0.9 lex extra fields
    rec1 A 0.10 0.30 first
    rec1 A 1.00 0.10 third notanumber
    rec1 A 1.20 0.10 fourth 7.5
    """
)


def test_reader_keeps_first_file_and_channel_sorted(caplog):
    a = formats.loads(_MULTI, "ctm")
    # First record is rec2 A: only LATER is kept.
    assert [u.text for u in a.units] == ["LATER"]
    assert "left out" in caplog.text


def test_reader_options_select_file_and_channel():
    a = formats.loads(_MULTI, "ctm", file_id="rec1", channel="A")
    assert [(u.text, u.start, u.end, u.score) for u in a.units] == [
        ("first", 0.1, 0.4, None),
        ("second", 0.5, 0.75, 0.9),
        ("third", 1.0, 1.1, None),  # confidence not a number: dropped
        ("fourth", 1.2, 1.3, None),  # confidence outside [0, 1]: dropped
    ]
    assert [u.text for u in formats.loads(_MULTI, "ctm", channel="B").units] == ["other"]


def test_reader_unknown_channel_names_what_exists():
    with pytest.raises(ValueError, match="rec1 A"):
        formats.loads(_MULTI, "ctm", file_id="rec1", channel="Z")


def test_rounding_overlap_is_joined_but_real_overlap_fails(tmp_path):
    rounded = "f 1 11.851 0.204 a\nf 1 12.054 0.407 b\n"
    a = formats.loads(rounded, "ctm")
    assert a.units[1].start == a.units[0].end == 12.055
    path = tmp_path / "overlap.ctm"
    path.write_text("f 1 1.0 0.5 a\nf 1 1.2 0.5 b\n", encoding="utf-8")
    with pytest.raises(ReadError, match="overlap.ctm"):
        formats.load(path)


@pytest.mark.parametrize(
    "line",
    ["f 1 0.5 word", "f 1 abc 0.2 word", "f 1 0.5 -0.2 word", "f 1 nan 0.1 w", "f 1 inf 0.1 w"],
)
def test_bad_lines_raise_read_error(tmp_path, line):
    path = tmp_path / "bad.ctm"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ReadError, match="bad.ctm"):
        formats.load(path)


def _sctk(tool: str) -> list[str]:
    """The command running an SCTK tool: on PATH, or through Debian's ``sctk`` wrapper."""
    if shutil.which(tool):
        return [tool]
    if shutil.which("sctk"):
        return ["sctk", tool]
    pytest.skip(f"{tool} not found: install SCTK (Debian package sctk)")


@pytest.mark.clients
def test_sclite_scores_our_ctm_against_itself(tmp_path, sample):
    ctm = tmp_path / "hyp.ctm"
    formats.save(sample, ctm, file_id="sample", norm=True)
    words = " ".join(u.norm for u in sample.units)
    stm = tmp_path / "ref.stm"
    stm.write_text(f"sample 1 spk 0.000 {sample.duration:.3f} {words}\n", encoding="utf-8")
    out = subprocess.run(
        [
            *_sctk("sclite"),
            "-r",
            str(stm),
            "stm",
            "-h",
            str(ctm),
            "ctm",
            "-o",
            "sum",
            "stdout",
            "-e",
            "utf-8",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    summary = [line for line in out.stdout.splitlines() if "Sum/Avg" in line]
    assert summary, out.stdout
    fields = summary[0].replace("|", " ").split()
    # Sum/Avg  #Snt #Wrd  Corr Sub Del Ins Err S.Err
    assert fields[2] == str(len(sample.units))
    assert float(fields[3]) == 100.0 and float(fields[7]) == 0.0


@pytest.mark.clients
def test_nist_ctm_validator_accepts_our_file(tmp_path):
    # The validator only knows English letters, so the words are ASCII here.
    a = Alignment(
        (
            Unit("Hello,", "hello", 0.3, 0.64, 0.91),
            Unit("it's", "it's", 0.64, 0.64),
            Unit("well-known", "well-known", 1.0, 1.5),
        ),
        duration=2.0,
    )
    ctm = tmp_path / "ok.ctm"
    formats.save(a, ctm, norm=True)
    out = subprocess.run(
        [*_sctk("ctmValidator.pl"), "-i", str(ctm)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0 and "Validated" in out.stdout, out.stdout + out.stderr
