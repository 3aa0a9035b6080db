"""Third-party SRT and WebVTT files: each reads or raises ReadError, never crashes;
known facts about the good ones; mozilla/vtt.js's expected parses as an oracle;
``qalign convert`` on them.

The files are found at collection time (shared folder beside the repository,
or ``QALIGN_SHARED``) and opened through the ``fixtures_dir`` fixture, which
skips with a reason when the folder is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qalign import formats
from qalign.cli.main import main
from qalign.errors import ReadError

SUBTITLES = Path("formats") / "subtitles"


def _subtitle_files(*suffixes: str) -> list[str]:
    shared = os.environ.get("QALIGN_SHARED")
    root = (
        Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    ) / "fixtures"
    found = [p for p in (root / SUBTITLES).rglob("*") if p.is_file() and p.suffix in suffixes]
    return sorted(p.relative_to(root).as_posix() for p in found)


def _cues(alignment) -> list[tuple[float, float, str]]:
    return [(s.start, s.end, s.text) for s in alignment.segments]


@pytest.mark.parametrize("name", _subtitle_files(".srt", ".vtt"))
def test_reads_or_raises_read_error(fixtures_dir, name):
    path = fixtures_dir / name
    try:
        alignment = formats.load(path)
    except ReadError as exc:
        assert path.name in str(exc)
        return
    assert alignment.units == ()
    assert alignment.duration == max((s.end for s in alignment.segments), default=0.0)
    # Whatever was read can be written again by every writer of the family.
    for fmt in ("srt", "vtt", "ass", "ass-karaoke", "lrc", "lrc-enhanced", "json"):
        formats.dumps(alignment, fmt)


# Files a browser would read with fewer cues, or not at all, where we refuse
# rather than drop text; and vtt.js's non-standard "hh:mm.ttt" reading.
_VTTJS_REFUSED = {
    "cue-times/fraction-digits.vtt",  # "00:00.00": two fraction digits
    "cue-times/incorrect-delimiter.vtt",  # "00.00.000"
    "cue-times/min-mid-digits.vtt",  # "00:000.000"
    "cue-times/min-top-digits.vtt",  # "000:00.000": vtt.js reads mm:ss, the spec reads hours
    "cue-times/minimum-spots-over-sixty.vtt",  # "120:00.000": vtt.js reads hh:mm
    "file-layout/bad-double-webvtt.vtt",
    "file-layout/blank-file.vtt",
    "file-layout/blank-file-with-bom.vtt",
    "file-layout/bom-garbage-data.vtt",
    "file-layout/bom-tab-webvtt.vtt",
    "file-layout/garbage-signature.vtt",
    "file-layout/header-no-new-line.vtt",  # a cue inside the header
    "file-layout/newline-before-webvtt.vtt",
    "file-layout/tab-after-bom-before-header.vtt",
}


def _vttjs_cases() -> list[str]:
    return [n for n in _subtitle_files(".vtt") if "/vtt.js/" in n]


def test_vttjs_cases_are_all_listed():
    """Every vtt.js case this module knows to be refused exists (when the fixtures do)."""
    names = {n.split("/vtt.js/")[1] for n in _vttjs_cases()}
    if names:
        assert _VTTJS_REFUSED <= names


@pytest.mark.parametrize("name", _vttjs_cases())
def test_vttjs_expected_parses(fixtures_dir, name):
    """Our cues equal vtt.js's (its ``.json``, else its rendered ``-proc.json``), blank ones
    dropped; or, for the listed cases, the file is refused with a ReadError."""
    path = fixtures_dir / name
    case = name.split("/vtt.js/")[1]
    if case in _VTTJS_REFUSED:
        with pytest.raises(ReadError):
            formats.load(path)
        return
    got = _cues(formats.load(path))
    expected_json = path.with_suffix(".json")
    if expected_json.is_file():
        cues = json.loads(expected_json.read_text("utf-8"))["cues"]
        want = [(c["startTime"], c["endTime"], c["text"]) for c in cues if c["text"].strip()]
        assert got == [(float(s), float(e), t) for s, e, t in want]
    else:
        rendered = json.loads(path.with_name(path.stem + "-proc.json").read_text("utf-8"))
        texts = [node["childNodes"][0]["textContent"] for node in rendered]
        assert [t for _s, _e, t in got] == [t for t in texts if t.strip()]


def _load(fixtures_dir: Path, *parts: str):
    return formats.load(fixtures_dir.joinpath(SUBTITLES, *parts))


def test_webvtt_py_samples(fixtures_dir):
    vtt = _load(fixtures_dir, "webvtt-py", "sample.vtt")
    srt = _load(fixtures_dir, "webvtt-py", "sample.srt")
    assert len(vtt.segments) == 16 and len(srt.segments) == 5
    assert _cues(srt) == _cues(vtt)[:5]
    assert _cues(vtt)[0] == (0.5, 7.0, "Caption text #1")
    assert _cues(_load(fixtures_dir, "webvtt-py", "captions_with_bom.vtt")) == _cues(vtt)[:4]
    comments = _cues(_load(fixtures_dir, "webvtt-py", "comments.vtt"))
    assert comments[0] == (135.0, 140.0, "- Ta en kopp varmt te.\n- Det är inte varmt.")
    assert len(comments) == 3
    tags = [t for _s, _e, t in _cues(_load(fixtures_dir, "webvtt-py", "cue_tags.vtt"))]
    assert tags == ["When the moon hits your eye", "Like a big-a pizza pie", "That's amore"]
    assert _cues(_load(fixtures_dir, "webvtt-py", "styles.vtt")) == [(0.0, 10.0, "- Hello world.")]
    ids = _cues(_load(fixtures_dir, "webvtt-py", "using_identifiers.vtt"))
    assert [t for _s, _e, t in ids] == [f"Caption text #{k}" for k in range(1, 7)]
    youtube = _cues(_load(fixtures_dir, "webvtt-py", "youtube_dl.vtt"))
    assert youtube[2] == (304.08, 305.069, "this will happen is I'm telling")


def test_go_astisub_variants_agree(fixtures_dir):
    reference = _cues(_load(fixtures_dir, "go-astisub", "example-out.srt"))
    assert reference[0] == (99.0, 101.04, "(deep rumbling)")  # ",04" is 40 ms
    assert len(reference) == 6
    for name in (
        "example-in.srt",
        "missing-sequence-in.srt",
        "example-in-non-utf8.srt",
        "example-out.vtt",
    ):
        assert _cues(_load(fixtures_dir, "go-astisub", name)) == reference, name
    cr_srt = _cues(_load(fixtures_dir, "go-astisub", "example-in-carriage-return.srt"))
    assert cr_srt == _cues(_load(fixtures_dir, "go-astisub", "example-in-carriage-return.vtt"))
    assert [s for s, _e, _t in cr_srt] == [0.0, 3.767, 10.733]
    entities = _cues(_load(fixtures_dir, "go-astisub", "example-in-html-entities.vtt"))
    # Character references decoded; a trailing no-break space is trimmed like any space.
    assert entities[0][2] == "The man in black fled across the desert,\n& the gunslinger followed."
    assert entities[1][2] == "Go,\xa0then,"
    assert entities[2][2] == "there are other < worlds than these."
    styled = _cues(_load(fixtures_dir, "go-astisub", "example-in-styled.srt"))
    assert (
        styled[0][2] == "[instrumental music]"
        and styled[5][2] == "[automated]\n'The time is 7:35.'"
    )


def test_aeneas_srt_and_vtt_agree(fixtures_dir):
    for stem in ("sonnet001", "sonnet001_mu"):
        srt = _cues(_load(fixtures_dir, "aeneas", stem + ".srt"))
        assert srt == _cues(_load(fixtures_dir, "aeneas", stem + ".vtt"))
        assert len(srt) == 15 and srt[1][:2] == (2.68, 5.88)


@pytest.mark.parametrize(
    "name", ["missing_timeframe.srt", "missing_timeframe.vtt", "invalid_timeframe.vtt", "empty.vtt"]
)
def test_known_broken_files_are_refused(fixtures_dir, name):
    with pytest.raises(ReadError, match=name.replace(".", r"\.")):
        _load(fixtures_dir, "webvtt-py", name)


# -- qalign convert --------------------------------------------------------------------


def test_cli_converts_srt_to_vtt_and_json(fixtures_dir, tmp_path):
    src = fixtures_dir / SUBTITLES / "aeneas" / "sonnet001.srt"
    want = _cues(formats.load(src))
    vtt, js = tmp_path / "out.vtt", tmp_path / "out.json"
    assert main(["convert", str(src), str(vtt)]) == 0
    assert vtt.read_text("utf-8").startswith("WEBVTT\n\n")
    assert _cues(formats.load(vtt)) == want
    assert main(["convert", str(src), str(js)]) == 0
    data = json.loads(js.read_text("utf-8"))
    assert [(s["start"], s["end"], s["text"]) for s in data["segments"]] == want
    assert data["words"] == []


def test_cli_broken_file_exits_2_without_output(fixtures_dir, tmp_path, capsys):
    src = fixtures_dir / SUBTITLES / "webvtt-py" / "missing_timeframe.srt"
    dst = tmp_path / "out.vtt"
    assert main(["convert", str(src), str(dst)]) == 2
    assert not dst.exists()
    err = capsys.readouterr().err
    assert "missing_timeframe.srt" in err and "line 6" in err


@pytest.mark.parametrize("name", _subtitle_files(".ass", ".ssa"))
def test_ass_and_ssa_files_read_as_pysubs2_reads_them(fixtures_dir, name):
    path = fixtures_dir / name
    alignment = formats.load(path)
    ours = [(round(s.start * 1000), round(s.end * 1000), s.text) for s in alignment.segments]
    for fmt in ("srt", "vtt", "ass", "lrc", "json"):
        formats.dumps(alignment, fmt)
    pysubs2 = pytest.importorskip("pysubs2")
    try:
        theirs = pysubs2.load(str(path))
    except Exception:  # noqa: BLE001 - pysubs2 refuses some valid v4+ colours in SSA files
        return
    events = sorted(
        (
            (e.start, e.end, e.plaintext.strip())
            for e in theirs
            if not e.is_comment and e.plaintext.strip()
        ),
        key=lambda e: e[0],
    )
    starts = [e[0] for e in events]
    if len(set(starts)) == len(starts):  # no simultaneous events (we merge those into one cue)
        assert ours == events
    else:
        assert {s for s, _e, _t in ours} == set(starts)
