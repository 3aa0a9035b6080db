"""``qalign evaluate``: the command prints boundary metrics for two alignment files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qalign import formats
from qalign.alignment import Alignment, Phone, Unit
from qalign.cli.evaluate import evaluate


def _save(path: Path, words: list[tuple[str, float, float]], phones: list[tuple[str, float, float]] = ()) -> str:
    alignment = Alignment(
        tuple(Unit(t, t, s, e) for t, s, e in words),
        duration=5.0,
        phones=tuple(Phone(p, s, e) for p, s, e in phones),
    )
    formats.save(alignment, path)
    return str(path)


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[str, str]:
    ref = _save(tmp_path / "ref.json", [("hello", 0.5, 1.0), ("world", 1.0, 1.6)], [("HH", 0.5, 0.6), ("AH0", 0.6, 1.0)])
    hyp = _save(tmp_path / "hyp.json", [("Hello,", 0.53, 1.0), ("world.", 1.0, 1.5)], [("HH", 0.53, 0.6), ("AH", 0.6, 1.0)])
    return hyp, ref


def test_prints_word_and_phone_rows(pair: tuple[str, str]) -> None:
    result = CliRunner().invoke(evaluate, list(pair))
    assert result.exit_code == 0, result.output
    words = next(line for line in result.output.splitlines() if line.startswith("words"))
    assert "2/2" in words and "32.5 ms" in words  # (30 + 0 + 0 + 100) / 4
    assert "50.0%" in words and "75.0%" in words  # within 20 ms: 2 of 4; within 50 ms: 3 of 4
    phones = next(line for line in result.output.splitlines() if line.startswith("phones"))
    assert "2/2" in phones and "7.5 ms" in phones


def test_json_output(pair: tuple[str, str]) -> None:
    result = CliRunner().invoke(evaluate, [*pair, "--json", "--no-phones"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["words"]["matched"] == 2
    assert data["words"]["mean_shift_ms"] == pytest.approx(32.5)
    assert data["words"]["within_20ms"] == pytest.approx(0.5)  # 0 and 0
    assert data["words"]["within_50ms"] == pytest.approx(0.75)  # 30, 0 and 0
    assert "phones" not in data


def test_textgrid_reference_with_named_tier(tmp_path: Path, pair: tuple[str, str]) -> None:
    ref = tmp_path / "ref.TextGrid"
    formats.save(formats.load(pair[1]), ref)
    result = CliRunner().invoke(evaluate, [pair[0], str(ref), "--ref-tier", "words", "--no-phones"])
    assert result.exit_code == 0, result.output
    assert "32.5 ms" in result.output


def test_unreadable_file_is_one_line_error(tmp_path: Path, pair: tuple[str, str]) -> None:
    from qalign.cli.main import cli, main

    if "evaluate" not in cli.commands:
        pytest.skip("evaluate is not registered in qalign.cli.main yet")
    missing = str(tmp_path / "nope.json")
    assert main(["evaluate", pair[0], missing]) == 2


def test_reference_without_words_is_an_error(tmp_path, capsys):
    from qalign.cli.main import main

    srt = tmp_path / "ref.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello there\n")
    hyp = tmp_path / "hyp.json"
    hyp.write_text('{"words": [{"text": "hello", "start": 0.1, "end": 0.4}], "duration": 1}')
    rc = main(["evaluate", str(hyp), str(srt)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "ref.srt: has no word timings" in err
