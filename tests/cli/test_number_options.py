"""Number options refuse nan and inf (Python's float() reads both; nan passes range checks)."""

from __future__ import annotations

import click
import pytest

from qalign.cli.common import FiniteRange
from qalign.cli.main import cli, main

REPO_SAMPLE = "examples/hello.json"


def _float_options():
    for name, command in sorted(cli.commands.items()):
        for param in command.params:
            if isinstance(param, click.Option) and isinstance(
                param.type, click.types.FloatParamType
            ):
                yield name, param


def test_every_float_option_is_finite_checked():
    found = list(_float_options())
    assert len(found) >= 10  # the subtitle options alone give several per command
    loose = [(name, p.opts[0]) for name, p in found if not isinstance(p.type, FiniteRange)]
    assert loose == []


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_finite_range_refuses_non_finite(value):
    with pytest.raises(click.BadParameter, match="finite"):
        FiniteRange().convert(value, None, None)


def test_finite_range_keeps_range_and_numbers():
    assert FiniteRange(min=0).convert("2.5", None, None) == 2.5
    with pytest.raises(click.BadParameter):
        FiniteRange(min=0).convert("-1", None, None)


@pytest.mark.parametrize(
    "args",
    [
        ["convert", REPO_SAMPLE, "OUT.srt", "--max-cps", "nan"],
        ["align", "audio.wav", "text.txt", "--hints", "nan"],
        ["split", "audio.wav", "a.json", "-o", "clips", "--pad", "inf"],
    ],
)
def test_command_line_exits_2_on_nan(args, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "finite" in err and "Traceback" not in err
    assert not (tmp_path / "OUT.srt").exists() and not (tmp_path / "clips").exists()
