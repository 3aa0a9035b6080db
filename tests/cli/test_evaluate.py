"""``qalign evaluate``: the command prints boundary metrics for two alignment files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qalign import formats
from qalign.alignment import Alignment, Phone, Unit
from qalign.cli.evaluate import evaluate


def _save(
    path: Path, words: list[tuple[str, float, float]], phones: list[tuple[str, float, float]] = ()
) -> str:
    alignment = Alignment(
        tuple(Unit(t, t, s, e) for t, s, e in words),
        duration=5.0,
        phones=tuple(Phone(p, s, e) for p, s, e in phones),
    )
    formats.save(alignment, path)
    return str(path)


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[str, str]:
    ref = _save(
        tmp_path / "ref.json",
        [("hello", 0.5, 1.0), ("world", 1.0, 1.6)],
        [("HH", 0.5, 0.6), ("AH0", 0.6, 1.0)],
    )
    hyp = _save(
        tmp_path / "hyp.json",
        [("Hello,", 0.53, 1.0), ("world.", 1.0, 1.5)],
        [("HH", 0.53, 0.6), ("AH", 0.6, 1.0)],
    )
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


def _tree(root: Path, files: dict[str, list[tuple[str, float, float]]]) -> Path:
    for rel, words in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        _save(root / rel, words)
    return root


@pytest.fixture()
def folders(tmp_path: Path) -> tuple[str, str]:
    ref = _tree(
        tmp_path / "ref",
        {
            "spk1/a.TextGrid": [("one", 0.0, 0.5), ("two", 0.5, 1.0)],
            "spk2/b.json": [("three", 1.0, 2.0)],
            "only_ref.json": [("x", 0.0, 1.0)],
        },
    )
    hyp = _tree(
        tmp_path / "hyp",
        {
            "spk1/a.json": [("one", 0.01, 0.5), ("two", 0.5, 1.0)],  # 10, 0, 0, 0
            "spk1/a.srt.json": [("one", 0.0, 0.5)],  # another stem: unpaired
            "spk2/b.json": [("three", 1.1, 2.0), ("four", 2.0, 2.5)],  # 100, 0; one extra
        },
    )
    (hyp / "failures.csv").write_text("item,stage,error\n")  # not an alignment: ignored
    return str(hyp), str(ref)


def test_folders_are_paired_by_relative_path_and_stem(folders: tuple[str, str]) -> None:
    result = CliRunner().invoke(evaluate, [*folders, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(data["files"]) == ["spk1/a", "spk2/b"]
    assert data["files"]["spk1/a"]["words"]["mean_shift_ms"] == pytest.approx(2.5)
    assert data["files"]["spk2/b"]["words"]["hyp_unmatched"] == 1
    overall = data["overall"]["words"]
    assert overall["matched"] == 3 and overall["hyp_unmatched"] == 1
    assert overall["mean_shift_ms"] == pytest.approx(110 / 6)
    assert overall["mean_start_shift_ms"] == pytest.approx(110 / 3)
    assert overall["median_start_shift_ms"] == pytest.approx(10)
    assert overall["within_100ms"] == pytest.approx(1.0)
    assert overall["within_50ms"] == pytest.approx(5 / 6)
    assert data["only_in_hypothesis"] == ["spk1/a.srt"] and data["only_in_reference"] == [
        "only_ref"
    ]


def test_csv_and_table_have_a_row_per_file_and_overall(folders: tuple[str, str]) -> None:
    import csv
    import io

    result = CliRunner().invoke(evaluate, [*folders, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["file"], r["tier"]) for r in rows] == [
        ("spk1/a", "words"),
        ("spk2/b", "words"),
        ("(all)", "words"),
    ]
    assert float(rows[1]["mean_start_shift_ms"]) == pytest.approx(100)
    table = CliRunner().invoke(evaluate, list(folders)).stdout.splitlines()
    assert table[0].startswith("tier") and "<=100ms" in table[0]
    assert table[-1].split()[:2] == ["words", "(all)"] and "100.0%" in table[-1]


def test_file_against_folder_is_a_usage_error(
    folders: tuple[str, str], pair: tuple[str, str]
) -> None:
    from qalign.cli.main import main

    assert main(["evaluate", pair[0], folders[1]]) == 2


def test_plot_writes_a_png(pair: tuple[str, str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "errors.png"
    result = CliRunner().invoke(evaluate, [*pair, "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*.part"))


def test_plot_without_matplotlib_names_the_extra(pair, tmp_path, monkeypatch) -> None:
    import builtins

    from qalign.cli.main import main

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert main(["evaluate", *pair, "--plot", str(tmp_path / "p.png")]) == 3
    assert not (tmp_path / "p.png").exists()
