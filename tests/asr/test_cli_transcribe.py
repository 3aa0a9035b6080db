"""``qalign transcribe`` with fake models: outputs, naming, batching and failures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qalign import formats
from qalign.cli import main as cli_main
from qalign.cli.transcribe import plan_outputs, transcribe
from qalign.errors import QalignError


@pytest.fixture()
def run(monkeypatch, fakes):
    """Run the CLI in-process with the fake models; returns (exit code, stdout, stderr, loads)."""
    if "transcribe" not in cli_main.cli.commands:  # until cli/main.py registers it
        monkeypatch.setitem(cli_main.cli.commands, "transcribe", transcribe)
    loads: list[str] = []

    def fake_asr(*args, **kwargs):
        loads.append("asr")
        return fakes.FakeTranscriber(fail_on="broken")

    def fake_fa(*args, **kwargs):
        loads.append("aligner")
        return fakes.FakeAligner()

    monkeypatch.setattr("qalign.asr.pipeline.load_transcriber", fake_asr)
    monkeypatch.setattr("qalign.asr.pipeline.load_aligner", fake_fa)

    def invoke(capsys, *argv: str):
        code = cli_main.main(["transcribe", *argv])
        out, err = capsys.readouterr()
        return code, out, err, loads

    return invoke


@pytest.fixture()
def talk(tmp_path: Path, fakes) -> Path:
    audio, _ = fakes.make_recording(40, seed=7)
    return fakes.write_wav(tmp_path / "talk.wav", audio)


def test_one_file_several_formats(run, capsys, talk: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err, loads = run(
        capsys, str(talk), "-o", f"{out}.json", "-o", f"{out}.srt", "-o", f"{out}.txt",
        "--chunk-seconds", "10",
    )  # fmt: skip
    assert code == 0, err
    assert loads == ["asr", "aligner"]
    data = json.loads(Path(f"{out}.json").read_text(encoding="utf-8"))
    assert data["language"] == "English"
    assert [w["text"] for w in data["words"]] == [f"w{k}" for k in range(40)]
    srt = formats.load(f"{out}.srt")
    assert srt.segments and srt.segments[-1].end <= data["duration"]
    assert Path(f"{out}.txt").read_text(encoding="utf-8").split()[0] == "w0"


def test_stdout_json_for_one_file(run, capsys, talk: Path) -> None:
    code, out, _, _ = run(capsys, str(talk))
    assert code == 0
    assert json.loads(out)["words"][0]["text"] == "w0"


def test_several_files_with_stem_and_folder_and_one_failure(
    run, capsys, fakes, tmp_path: Path
) -> None:
    a, _ = fakes.make_recording(12, seed=8)
    b, _ = fakes.make_recording(15, seed=9)
    first = fakes.write_wav(tmp_path / "first.wav", a)
    second = fakes.write_wav(tmp_path / "second.wav", b)
    broken = fakes.write_wav(tmp_path / "broken.wav", b)
    missing = tmp_path / "missing.wav"
    folder = tmp_path / "vtt"
    folder.mkdir()
    code, _, err, loads = run(
        capsys, str(first), str(missing), str(broken), str(second),
        "-o", str(tmp_path / "res" / "{stem}.TextGrid"), "-o", str(folder),
    )  # fmt: skip
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("qalign: error:")]
    assert len(lines) == 2
    assert any(str(missing) in line for line in lines)
    assert any("broken.wav" in line for line in lines)
    assert "2 of 4 files failed" in err
    assert loads == ["asr", "aligner"]  # one batch for all files
    for stem, n in (("first", 12), ("second", 15)):
        assert json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))["words"]
        grid = formats.load(tmp_path / "res" / f"{stem}.TextGrid")
        assert [u.text for u in grid.units] == [f"w{k}" for k in range(n)]
    assert not (folder / "broken.json").exists()


def test_folder_output_takes_the_format_option(run, capsys, talk: Path, tmp_path: Path) -> None:
    code, _, err, _ = run(capsys, str(talk), "-o", f"{tmp_path}/subs/", "-f", "vtt")
    assert code == 0, err
    assert (tmp_path / "subs" / "talk.vtt").read_text(encoding="utf-8").startswith("WEBVTT")


def test_no_align_writes_text_and_json(run, capsys, talk: Path, tmp_path: Path) -> None:
    code, _, err, loads = run(
        capsys,
        str(talk),
        "--no-align",
        "-o",
        str(tmp_path / "t.txt"),
        "-o",
        str(tmp_path / "t.json"),
    )
    assert code == 0, err
    assert loads == ["asr"]  # the aligner is never loaded
    text = (tmp_path / "t.txt").read_text(encoding="utf-8").strip()
    assert text.replace(".", "").split() == [f"w{k}" for k in range(40)]
    data = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert data["language"] == "English" and data["text"] == text and data["chunks"]


def test_no_speech_is_an_empty_result_and_success(run, capsys, fakes, tmp_path: Path) -> None:
    silent = fakes.write_wav(tmp_path / "silence.wav", np.zeros(3 * fakes.SR, np.float32))
    code, _, err, _ = run(capsys, str(silent), "-o", str(tmp_path / "s.json"))
    assert code == 0, err
    data = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert data["words"] == [] and data["duration"] == 3.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--no-align", "-o", "x.srt"], "--no-align writes text"),
        (["-o", "x.unknownext"], "unknown format"),
        (["--language", "Klingon"], "unsupported language"),
        (["--language", "Dutch"], "unsupported language"),  # ASR knows it, the aligner does not
    ],
)
def test_usage_errors_come_before_any_model_loads(run, capsys, talk, extra, message) -> None:
    code, _, err, loads = run(capsys, str(talk), *extra)
    assert code == 2 and message in err and loads == []
    assert len(err.strip().splitlines()) == 1


def test_dutch_is_fine_without_alignment(run, capsys, talk, tmp_path) -> None:
    code, _, err, _ = run(
        capsys, str(talk), "--no-align", "-l", "nl", "-o", str(tmp_path / "t.json")
    )
    assert code == 0, err
    assert json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))["language"] == "Dutch"


def test_output_planning_rules(tmp_path: Path) -> None:
    with pytest.raises(QalignError, match="need -o"):
        plan_outputs(("a.wav", "b.wav"), (), None, False)
    with pytest.raises(QalignError, match="overwrite"):
        plan_outputs(("a.wav", "b.wav"), ("out.json",), None, False)
    with pytest.raises(QalignError, match="both be written"):
        plan_outputs(("x/a.wav", "y/a.wav"), ("{stem}.json",), None, False)
    plans = plan_outputs(("x/a.wav", "y/b.mp3"), (f"{tmp_path}/",), None, True)
    assert [[t.path for t in p] for p in plans] == [[f"{tmp_path}/a.txt"], [f"{tmp_path}/b.txt"]]
    (single,) = plan_outputs(("a.wav",), ("words.ctm", "t.txt"), None, False)
    assert [t.kind for t in single] == ["ctm", "text"]


def test_subtitle_options_reach_the_writers(run, capsys, talk: Path, tmp_path: Path) -> None:
    narrow, karaoke = tmp_path / "narrow.srt", tmp_path / "k.ass"
    code, _, err, _ = run(capsys, str(talk), "-o", str(narrow), "--preset", "bbc", "--max-chars", "8",
                          "--max-lines", "1")  # fmt: skip
    assert code == 0, err
    texts = [s.text for s in formats.load(narrow).segments]
    assert texts and all("\n" not in t and len(t) <= 8 for t in texts)
    code, _, err, _ = run(capsys, str(talk), "-o", str(karaoke), "--karaoke", "ko")
    assert code == 0, err
    assert "{\\ko" in karaoke.read_text(encoding="utf-8")
