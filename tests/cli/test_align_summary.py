"""``qalign align``: the summary line, statuses in the outputs, ``--strict``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qalign.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WAV = REPO / "examples" / "hello.wav"
SAMPLE_TXT = REPO / "examples" / "hello.txt"

pytest.importorskip("pocketsphinx", reason="the sphinx extra is not installed")


def test_summary_line_when_everything_aligns(tmp_path, capsys):
    out = tmp_path / "a.json"
    rc = main(
        ["align", str(SAMPLE_WAV), str(SAMPLE_TXT), "--engine", "sphinx", "-q", "-o", str(out)]
    )
    err = capsys.readouterr().err
    assert rc == 0
    words = json.loads(out.read_text())["words"]
    assert err.strip().splitlines() == [f"qalign: aligned {len(words)} of {len(words)} words"]


@pytest.mark.slow
def test_text_never_spoken_is_unaligned_named_and_strict_fails(tmp_path, capsys):
    text = tmp_path / "t.txt"
    extra = "The committee then discussed the budget for the following spring at great length."
    text.write_text(SAMPLE_TXT.read_text() + "\n\n" + extra + "\n")
    out, tsv = tmp_path / "a.json", tmp_path / "a.tsv"
    rc = main(
        [
            "align",
            str(SAMPLE_WAV),
            str(text),
            "--engine",
            "sphinx",
            "-q",
            "-o",
            str(out),
            "-o",
            str(tsv),
        ]
    )
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    data = json.loads(out.read_text())
    unaligned = [w for w in data["words"] if w["status"] == "unaligned"]
    assert rc == 0  # something aligned
    assert len(unaligned) >= 0.9 * len(extra.split())
    assert data["stretches"] and data["stretches"][-1]["reason"] == "text not heard"
    assert f"{len(unaligned)} unaligned in 1 stretch" in summary and "(text not heard)" in summary
    assert tsv.read_text().splitlines()[0].endswith("\tstatus")
    rc = main(
        [
            "align",
            str(SAMPLE_WAV),
            str(text),
            "--engine",
            "sphinx",
            "-q",
            "--strict",
            "-o",
            str(out),
        ]
    )
    assert rc == 1 and out.exists()
