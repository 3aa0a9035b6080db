"""The shared subtitle options (cli/common.py): on align, transcribe and convert alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qalign.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE_JSON = REPO / "examples" / "hello.json"


@pytest.mark.parametrize("command", ["align", "transcribe", "convert"])
def test_every_command_takes_the_same_subtitle_options(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--preset", "--cues", "--max-chars", "--max-lines", "--max-cps", "--min-duration",
        "--max-duration", "--min-gap-frames", "--fps", "--chain-frames", "--karaoke",
        "--highlight-words", "--word-timestamps", "--ass-font", "--ass-size",
        "--ass-primary", "--ass-secondary",
    ):  # fmt: skip
        assert option in out, (command, option)


def test_convert_applies_preset_and_overrides(tmp_path):
    narrow = tmp_path / "narrow.srt"
    assert (
        main(["convert", str(SAMPLE_JSON), str(narrow), "--preset", "bbc", "--max-chars", "20"])
        == 0
    )
    lines = [
        ln for ln in narrow.read_text().splitlines() if ln and "-->" not in ln and not ln.isdigit()
    ]
    assert lines and max(len(ln) for ln in lines) <= 20
    wide = tmp_path / "wide.srt"
    assert main(["convert", str(SAMPLE_JSON), str(wide)]) == 0
    assert wide.read_text() != narrow.read_text()


def test_bad_subtitle_option_is_one_line_exit_2(tmp_path, capsys):
    out = tmp_path / "x.srt"
    assert main(["convert", str(SAMPLE_JSON), str(out), "--preset", "imax"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "imax" in err
    assert not out.exists()


def test_align_cues_lines_makes_one_cue_per_transcript_line(tmp_path):
    pytest.importorskip("pocketsphinx")
    transcript = tmp_path / "two.txt"
    words = json.loads(SAMPLE_JSON.read_text())["words"]
    text = " ".join(w["text"] for w in words[:6]) + "\n" + " ".join(w["text"] for w in words[6:])
    transcript.write_text(text + "\n")
    out = tmp_path / "x.srt"
    rc = main(["align", str(REPO / "examples" / "hello.wav"), str(transcript), "--engine", "sphinx",
               "--cues", "lines", "-o", str(out), "-q"])  # fmt: skip
    assert rc == 0
    blocks = out.read_text().strip().split("\n\n")
    assert [b.split("\n", 2)[2] for b in blocks] == text.split("\n")


def test_convert_karaoke_highlight_and_style_options(tmp_path):
    ass = tmp_path / "k.ass"
    assert main(["convert", str(SAMPLE_JSON), str(ass), "--karaoke", "kf", "--ass-font", "DejaVu Sans",
                 "--ass-primary", "#00FF00"]) == 0  # fmt: skip
    text = ass.read_text()
    assert "{\\kf" in text and "Style: Default,DejaVu Sans,72,&H0000FF00," in text
    srt = tmp_path / "h.srt"
    assert main(["convert", str(SAMPLE_JSON), str(srt), "--highlight-words"]) == 0
    words = len(json.loads(SAMPLE_JSON.read_text())["words"])
    assert srt.read_text().count("-->") == words
    assert srt.read_text().count('<font color="#ffff00">') == words
    vtt = tmp_path / "w.vtt"
    assert main(["convert", str(SAMPLE_JSON), str(vtt), "--word-timestamps", "--fps", "25"]) == 0
    assert "<c>" in vtt.read_text()


def test_bad_colour_fails_before_work(tmp_path, capsys):
    out = tmp_path / "x.ass"
    assert main(["convert", str(SAMPLE_JSON), str(out), "--ass-primary", "blue"]) == 2
    assert "colour" in capsys.readouterr().err and not out.exists()


def test_convert_reads_ass_lrc_and_ssa(tmp_path):
    ass = tmp_path / "k.ass"
    assert main(["convert", str(SAMPLE_JSON), str(ass), "--format", "ass-karaoke"]) == 0
    lrc = tmp_path / "k.lrc"
    assert main(["convert", str(ass), str(lrc), "--format", "lrc-enhanced"]) == 0
    back = tmp_path / "back.json"
    assert main(["convert", str(lrc), str(back)]) == 0
    words = [w["text"] for w in json.loads(back.read_text())["words"]]
    assert words == [w["text"] for w in json.loads(SAMPLE_JSON.read_text())["words"]]


def test_karaoke_ass_and_enhanced_lrc_in_one_run(tmp_path):
    """The README's karaoke command: one run writes ASS ``\\kf`` and enhanced LRC
    (``--word-timestamps`` gives LRC its word tags, as it does WebVTT)."""
    pytest.importorskip("pocketsphinx")
    from qalign import formats

    lyrics = tmp_path / "lyrics.txt"
    lyrics.write_text("Hello, world!\nThis sample ships with qalign:\n\nit turns audio\n")
    ass, lrc = tmp_path / "song.ass", tmp_path / "song.lrc"
    rc = main(["align", str(REPO / "examples" / "hello.wav"), str(lyrics), "--engine", "sphinx",
               "-l", "en", "--preset", "karaoke", "-o", str(ass), "--karaoke", "kf",
               "-o", str(lrc), "--word-timestamps", "-q"])  # fmt: skip
    assert rc == 0
    assert "{\\kf" in ass.read_text()
    lines = [ln for ln in lrc.read_text().splitlines() if ln.split("]", 1)[1]]
    assert [ln.count("<") for ln in lines] == [3, 6, 4]  # a tag before each word, one at the end
    assert [u.text for u in formats.load(lrc).units][:3] == ["Hello,", "world!", "This"]
