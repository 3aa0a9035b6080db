"""``qalign split``: clips from one alignment or a batch output folder, and their manifest."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.cli.main import main
from qalign.corpus.job import CorpusJob
from qalign.corpus.runner import run_corpus


def _manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def _seconds(path: str) -> float:
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


@pytest.fixture()
def one(tmp_path: Path, make_wav) -> tuple[Path, Path]:
    audio = make_wav(tmp_path / "talk.wav", 6.0)
    units = (
        Unit("Hello,", "hello", 0.5, 1.0),
        Unit("world.", "world", 1.0, 1.6),
        Unit("lost", "lost", 1.6, 2.0, status="unaligned"),
        Unit("Good", "good", 3.0, 3.4),
        Unit("night.", "night", 3.4, 4.0),
    )
    segments = (
        Segment("Hello, world. lost", 0.5, 2.0, 0, 3),
        Segment("Good night.", 3.0, 4.0, 3, 5),
    )
    alignment_path = tmp_path / "talk.json"
    formats.save(Alignment(units, segments, duration=6.0), alignment_path)
    return audio, alignment_path


def test_segments_with_pad_give_clips_and_a_manifest(one, tmp_path: Path) -> None:
    out = tmp_path / "clips"
    assert main(["split", str(one[0]), str(one[1]), "-o", str(out), "--pad", "0.2"]) == 0
    rows = _manifest(out)
    assert [r["text"] for r in rows] == ["Hello, world.", "Good night."]  # "lost" is in no clip
    first = rows[0]
    assert first["audio_filepath"] == str((out / "talk_0001.wav").resolve())
    assert first["offset"] == 0.0 and first["source"] == str(one[0].resolve())
    assert first["source_offset"] == pytest.approx(0.3)
    assert first["duration"] == pytest.approx(1.3)  # 0.3 .. 1.6: the pad stops at "lost"
    assert _seconds(first["audio_filepath"]) == pytest.approx(first["duration"], abs=1e-4)
    assert first["words"] == [
        {"word": "Hello,", "start": pytest.approx(0.2), "end": pytest.approx(0.7)},
        {"word": "world.", "start": pytest.approx(0.7), "end": pytest.approx(1.3)},
    ]
    assert rows[1]["duration"] == pytest.approx(1.4)  # 2.8 .. 4.2
    assert not list(out.glob(".*.part"))


def test_flac_clips_decode_to_the_manifest_duration(one, tmp_path: Path) -> None:
    from qalign.audio import load_audio

    out = tmp_path / "clips"
    assert main(["split", str(one[0]), str(one[1]), "-o", str(out), "--audio-format", "flac"]) == 0
    for row in _manifest(out):
        assert row["audio_filepath"].endswith(".flac")
        assert load_audio(row["audio_filepath"]).shape[0] / 16000 == pytest.approx(
            row["duration"], abs=1e-3
        )


def test_bad_inputs_are_one_line_errors(one, tmp_path: Path, make_wav, capsys) -> None:
    short = make_wav(tmp_path / "short.wav", 1.0)
    assert main(["split", str(short), str(one[1]), "-o", str(tmp_path / "x")]) == 2
    assert "not the audio of this alignment" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # nothing cut: no empty output folder left behind
    kept = tmp_path / "kept"
    kept.mkdir()
    assert main(["split", str(short), str(one[1]), "-o", str(kept)]) == 2
    assert kept.is_dir()  # a folder the user made is never removed
    assert main(["split", str(one[0]), "-o", str(tmp_path / "x")]) == 2
    assert main(["split", str(tmp_path), "-o", str(tmp_path / "x")]) == 2  # no alignment_report.csv
    args = ["--by", "duration", "--min-duration", "5", "--max-duration", "2"]
    assert main(["split", *map(str, one), "-o", str(tmp_path / "x"), *args]) == 2


def test_batch_output_folder_packed(small_corpus: Path, tmp_path: Path, even_engine) -> None:
    batch = tmp_path / "batch"
    run_corpus(small_corpus, CorpusJob(outdir=str(batch), formats=("json",)))
    out = tmp_path / "clips"
    rc = main(
        [
            "split",
            str(batch),
            "-o",
            str(out),
            "--by",
            "duration",
            "--min-duration",
            "0.4",
            "--max-duration",
            "1.2",
        ]
    )
    assert rc == 0
    rows = _manifest(out)
    sources = {
        Path(r["audio_filepath"]).relative_to(out.resolve()).as_posix().rsplit("_", 1)[0]
        for r in rows
    }
    assert sources == {"spk1/a", "spk1/b", "spk2/c", "meeting.anna", "meeting.ben"}
    assert all(0.4 - 1e-6 <= r["duration"] <= 1.2 + 1e-6 for r in rows)
    assert not any("UNALIGNED" in r["text"] for r in rows)
    ben = [r for r in rows if "meeting.ben" in r["audio_filepath"]]
    assert ben[0]["speaker"] == "ben" and ben[0]["source_offset"] >= 2.0 - 1e-6
    # speaker folders name the speaker of plain items too
    by_source = {Path(r["source"]).stem: r.get("speaker") for r in rows}
    assert (by_source["a"], by_source["c"]) == ("spk1", "spk2")
    for r in rows:
        assert all(0 <= w["start"] <= w["end"] <= r["duration"] + 1e-6 for w in r["words"])
        assert _seconds(r["audio_filepath"]) == pytest.approx(r["duration"], abs=1e-4)


def test_batch_textgrid_only_is_cut_per_speaker(
    small_corpus: Path, tmp_path: Path, even_engine
) -> None:
    # Without JSON outputs the two-speaker TextGrid is the only alignment of the meeting:
    # each speaker's words are cut within that speaker's utterances, never across the
    # other speaker's (whose words the first speaker's tier does not hold).
    batch = tmp_path / "batch"
    run_corpus(small_corpus, CorpusJob(outdir=str(batch), formats=("textgrid",)))
    out = tmp_path / "clips"
    assert main(["split", str(batch), "-o", str(out)]) == 0
    rows = _manifest(out)
    meeting = {r["speaker"]: r for r in rows if "meeting" in r["audio_filepath"]}
    assert set(meeting) == {"anna", "ben"}
    assert meeting["anna"]["text"] == "hello there my friend"
    assert meeting["ben"]["text"] == "good morning"
    assert meeting["ben"]["source_offset"] >= 2.0 - 1e-6
    assert meeting["anna"]["source_offset"] + meeting["anna"]["duration"] <= 2.5 + 1e-6


@pytest.mark.slow
def test_lhotse_reads_the_clips_and_word_alignments(one, tmp_path: Path) -> None:
    lhotse = pytest.importorskip(
        "lhotse", reason="lhotse is not installed (optional test dependency)"
    )
    from lhotse.qa import validate
    from lhotse.serialization import load_jsonl
    from lhotse.supervision import AlignmentItem

    out = tmp_path / "clips"
    assert main(["split", str(one[0]), str(one[1]), "-o", str(out), "--pad", "0.1"]) == 0
    for n, row in enumerate(load_jsonl(out / "manifest.jsonl")):
        recording = lhotse.Recording.from_file(row["audio_filepath"], recording_id=f"clip{n}")
        assert recording.duration == pytest.approx(row["duration"], abs=1e-3)
        assert recording.sampling_rate == 16000
        words = [AlignmentItem(w["word"], w["start"], w["end"] - w["start"]) for w in row["words"]]
        supervision = lhotse.SupervisionSegment(
            id=f"sup{n}",
            recording_id=recording.id,
            start=0.0,
            duration=recording.duration,
            text=row["text"],
            alignment={"word": words},
        )
        cut = recording.to_cut()
        cut.supervisions = [supervision]
        validate(cut, read_data=True)
        assert cut.load_audio().shape[-1] == recording.num_samples


def _grid(tiers: dict[str, list[tuple[float, float, str]]], xmax: float = 6.0) -> str:
    """A long-form TextGrid of interval tiers (gaps left as they are: Praat reads them)."""
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0"]
    out += [f"xmax = {xmax}", "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for n, (name, rows) in enumerate(tiers.items(), 1):
        filled, t = [], 0.0
        for start, end, text in rows:
            if start > t:
                filled.append((t, start, ""))
            filled.append((start, end, text))
            t = end
        if t < xmax:
            filled.append((t, xmax, ""))
        out += [f"    item [{n}]:", '        class = "IntervalTier"', f'        name = "{name}"']
        out += [
            "        xmin = 0",
            f"        xmax = {xmax}",
            f"        intervals: size = {len(filled)}",
        ]
        for k, (start, end, text) in enumerate(filled, 1):
            out += [f"        intervals [{k}]:", f"            xmin = {start}"]
            out += [f"            xmax = {end}", f'            text = "{text}"']
    return "\n".join(out) + "\n"


ANNA = [(0.5, 0.9, "hello"), (0.9, 1.3, "there"), (1.3, 1.7, "my"), (1.7, 2.3, "friend")]
BEN = [(2.6, 3.1, "good"), (3.1, 3.8, "morning"), (4.2, 4.6, "anna")]


@pytest.mark.parametrize("layout", ["utterances", "word tiers only"])
def test_a_multi_speaker_textgrid_is_cut_per_speaker(tmp_path: Path, make_wav, layout) -> None:
    # qalign batch's TextGrid of utterances (utterance tier + "SPEAKER - words"), and
    # Montreal Forced Aligner's (word and phone tiers per speaker): every speaker's
    # words, never only the first tier's; each clip holds one speaker's words.
    audio = make_wav(tmp_path / "talk.wav", 6.0)
    tiers: dict[str, list] = {}
    for name, words in (("anna", ANNA), ("ben", BEN)):
        if layout == "utterances":
            text = " ".join(w for _, _, w in words)
            tiers[name] = [(words[0][0], words[-1][1], text)]
        tiers[f"{name} - words"] = words
        tiers[f"{name} - phones"] = [(s, e, w[:1].upper()) for s, e, w in words]
    grid = tmp_path / "talk.TextGrid"
    grid.write_text(_grid(tiers))
    out = tmp_path / "clips"
    assert main(["split", str(audio), str(grid), "-o", str(out)]) == 0
    rows = _manifest(out)
    by_speaker: dict[str, list[str]] = {}
    for r in rows:
        assert Path(r["audio_filepath"]).name.startswith(f"talk.{r['speaker']}_")
        by_speaker.setdefault(r["speaker"], []).extend(w["word"] for w in r["words"])
        assert _seconds(r["audio_filepath"]) == pytest.approx(r["duration"], abs=1e-4)
    assert by_speaker == {"anna": [w for *_, w in ANNA], "ben": [w for *_, w in BEN]}
    ben = [r for r in rows if r["speaker"] == "ben"]
    assert min(r["source_offset"] for r in ben) >= 2.6 - 1e-6  # none reaches into anna's


def test_file_sources_split_only_grids_of_several_speakers(tmp_path: Path) -> None:
    from qalign.corpus.split import file_sources

    plain = tmp_path / "plain.TextGrid"
    plain.write_text(_grid({"words": ANNA}))
    mfa_one = tmp_path / "one.TextGrid"
    mfa_one.write_text(_grid({"anna - words": ANNA, "anna - phones": ANNA}))
    utterances_one = tmp_path / "utt.TextGrid"
    utterances_one.write_text(_grid({"anna": [(0.5, 2.3, "x")], "anna - words": ANNA}))
    broken = tmp_path / "broken.TextGrid"
    broken.write_text("not a grid")
    for path in (plain, mfa_one, broken, tmp_path / "talk.json"):
        (source,) = file_sources("a.wav", str(path), "k", "spk")
        assert (source.key, source.speaker, source.tier) == ("k", "spk", None)
    (source,) = file_sources("a.wav", str(utterances_one), "k")
    assert (source.key, source.speaker, source.tier) == ("k.anna", "anna", "anna - words")
