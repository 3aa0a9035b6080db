"""Third-party TextGrid, CTM and EAF files: each reads or raises ReadError, never crashes.

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


def _fixture_files() -> list[str]:
    shared = os.environ.get("QALIGN_SHARED")
    root = (
        Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    ) / "fixtures"
    found = [
        *(root / "formats" / "textgrid").rglob("*"),
        *(root / "formats" / "ctm").rglob("*.ctm"),
        *(root / "formats" / "eaf").rglob("*.eaf"),
        *(root / "speech").rglob("*.TextGrid"),
    ]
    return sorted(p.relative_to(root).as_posix() for p in found if p.is_file())


def _load(path: Path, **options):
    fmt = "textgrid" if "textgrid" in path.name.lower() else None
    return formats.load(path, fmt, **options)


@pytest.mark.parametrize("name", _fixture_files())
def test_reads_or_raises_read_error(fixtures_dir, name):
    path = fixtures_dir / name
    try:
        alignment = _load(path)
    except ReadError as exc:
        assert path.name in str(exc)
        return
    # Whatever was read is a valid alignment that every writer of the family can write.
    for fmt in ("textgrid", "ctm", "tsv", "audacity", "eaf"):
        assert formats.dumps(alignment, fmt)


def _tg(fixtures_dir: Path, *parts: str):
    return formats.load(fixtures_dir.joinpath(*parts), "textgrid")


def test_mfa_reference_has_58_words(fixtures_dir):
    a = _tg(fixtures_dir, "speech", "mfa", "acoustic_corpus.TextGrid")
    assert len(a.units) == 58 and len(a.phones) == 203
    assert [u.text for u in a.units[:3]] == ["this", "is", "the"]
    assert a.duration == 26.72325


def test_aeneas_sonnet_long_and_short_agree(fixtures_dir):
    long = _tg(fixtures_dir, "formats", "textgrid", "aeneas", "sonnet001.textgrid_long.TextGrid")
    short = _tg(fixtures_dir, "formats", "textgrid", "aeneas", "sonnet001.textgrid_short.TextGrid")
    assert len(long.units) == 15  # the Token tier
    assert long.units == short.units  # the short file has no final newline: last line kept
    assert long.units[-1].text.startswith("To eat the world")


def test_rpraat_czech_with_point_tier(fixtures_dir, caplog):
    a = _tg(fixtures_dir, "speech", "rpraat_czech", "H.TextGrid")
    assert len(a.units) == 11 and len(a.phones) == 46 and len(a.segments) == 1
    assert a.units[0].text == "já" and a.units[2].text == "řeknu"
    assert "phoneme" in caplog.text  # the point tier was reported, not read
    assert a.segments[0].unit_start == 0 and a.segments[0].unit_end == 11
    for variant in ("H_UTF16.TextGrid", "H_short.TextGrid", "H_short_UTF16.TextGrid"):
        assert _tg(fixtures_dir, "formats", "textgrid", "rpraat", variant).units == a.units


def test_charsiu_silence_marks_are_not_words(fixtures_dir):
    a = _tg(fixtures_dir, "speech", "charsiu_aishell3", "SSB00050015.TextGrid")
    assert len(a.units) == 15 and all(u.text != "[SIL]" for u in a.units)


def test_kylebgorman_float_noise_and_nonzero_start(fixtures_dir):
    long = _tg(fixtures_dir, "formats", "textgrid", "kylebgorman", "long_format.TextGrid")
    short = _tg(fixtures_dir, "formats", "textgrid", "kylebgorman", "short_format.TextGrid")
    assert long.units == short.units and len(long.units) == 29
    assert long.units[0].start >= 1358.89


def test_tier_option_on_fixture_and_unknown_tier(fixtures_dir):
    path = fixtures_dir / "speech" / "rpraat_czech" / "H.TextGrid"
    syllables = formats.load(path, tier="syllable")
    assert len(syllables.units) == 19
    with pytest.raises(ReadError, match=r"no tier named 'x'.*'phoneme'.*'word'"):
        formats.load(path, tier="x")


def test_ctm_fixtures(fixtures_dir):
    sctk = fixtures_dir / "formats" / "ctm" / "sctk"
    basic = formats.load(sctk / "basic.ctm")
    assert [u.text for u in basic.units] == ["JAVA", "WILL", "RULES", "THE", "WORLD"]
    assert basic.units[0].score == 0.98
    assert len(formats.load(sctk / "overlap.ctm").units) == 18
    assert len(formats.load(sctk / "test.cantonese.ctm").units) == 43
    lvc = formats.load(sctk / "lvc_hyp.ctm", file_id="3129", channel="B")
    assert len(lvc.units) == 655
    with pytest.raises(ReadError, match="mand_hyp.ctm"):  # GB2312, not UTF-8
        formats.load(sctk / "mand_hyp.ctm")
    with pytest.raises(ReadError, match="begtime"):  # a deliberately broken line
        formats.load(sctk / "test00.ctm")


# -- qalign convert -------------------------------------------------------------------


def test_convert_textgrid_to_ctm_and_json(fixtures_dir, tmp_path):
    src = fixtures_dir / "speech" / "mfa" / "acoustic_corpus.TextGrid"
    assert main(["convert", str(src), str(tmp_path / "out.ctm")]) == 0
    lines = (tmp_path / "out.ctm").read_text("utf-8").splitlines()
    assert len(lines) == 58 and lines[0] == "audio 1 1.050 0.150 this"
    assert main(["convert", str(src), str(tmp_path / "out.json")]) == 0
    data = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert len(data["words"]) == 58 and data["words"][0]["start"] == 1.05
    assert main(["convert", str(tmp_path / "out.ctm"), str(tmp_path / "back.TextGrid")]) == 0
    assert len(formats.load(tmp_path / "back.TextGrid").units) == 58


def test_convert_tier_and_short_format(fixtures_dir, tmp_path):
    src = fixtures_dir / "speech" / "rpraat_czech" / "H.TextGrid"
    out = tmp_path / "syl.tsv"
    assert main(["convert", "--tier", "syllable", str(src), str(out)]) == 0
    assert len(out.read_text("utf-8").splitlines()) == 1 + 19
    short = tmp_path / "short.TextGrid"
    assert main(["convert", "-f", "textgrid-short", str(src), str(short)]) == 0
    assert "item [" not in short.read_text("utf-8")
    assert len(formats.load(short).units) == 11


@pytest.mark.parametrize("suffix", [".TextGrid", ".ctm", ".eaf", ".tsv", ".audacity.txt"])
def test_convert_bad_input_exits_2_without_output(tmp_path, capsys, suffix):
    src = tmp_path / f"broken{suffix}"
    src.write_bytes(
        b"\xff\xfe\x00garbage" if suffix == ".TextGrid" else b"not a valid file at all\n"
    )
    target = tmp_path / "out.json"
    assert main(["convert", str(src), str(target)]) == 2
    assert not target.exists()
    assert src.name in capsys.readouterr().err


def test_convert_unknown_tier_exits_2(fixtures_dir, tmp_path, capsys):
    src = fixtures_dir / "speech" / "mfa" / "acoustic_corpus.TextGrid"
    target = tmp_path / "out.ctm"
    assert main(["convert", "--tier", "nope", str(src), str(target)]) == 2
    assert not target.exists()
    assert "'words', 'phones'" in capsys.readouterr().err
