"""`qalign align` input checking: every bad input gives one line, a non-zero exit, no output.

These run before any model is loaded, so they need no weights.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from qalign.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WAV = REPO / "examples" / "hello.wav"
SAMPLE_TXT = REPO / "examples" / "hello.txt"


def _run(args, capsys):
    rc = main(args)
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize(
    "make_args, needle",
    [
        (lambda d: [str(d / "missing.wav"), str(SAMPLE_TXT)], "missing.wav: no such file"),
        (lambda d: [str(SAMPLE_WAV), str(d / "missing.txt")], "missing.txt: no such file"),
        (lambda d: [str(SAMPLE_WAV), str(_write(d / "empty.txt", b" \n"))], "empty.txt: is empty"),
        (lambda d: [str(SAMPLE_WAV), str(_write(d / "bin.txt", b"\xff\xfe\xfa"))], "not UTF-8"),
        (
            lambda d: [str(_write(d / "bad.wav", b"RIFF0000garbage" * 20)), str(SAMPLE_TXT)],
            "bad.wav: cannot decode",
        ),
        (
            lambda d: [str(SAMPLE_WAV), str(SAMPLE_TXT), "--language", "Klingon"],
            "unsupported language 'Klingon'",
        ),
    ],
)
def test_bad_input_one_line_exit_2_no_output(tmp_path, capsys, make_args, needle):
    out = tmp_path / "out.TextGrid"
    rc, err = _run(["align", *make_args(tmp_path), "-o", str(out)], capsys)
    assert rc == 2
    assert needle in err
    assert len([line for line in err.splitlines() if line.startswith("qalign: error:")]) == 1
    assert "Traceback" not in err
    assert not out.exists()


def test_unknown_output_extension_fails_before_work(tmp_path, capsys):
    out = tmp_path / "out.xyz"
    rc, err = _run(
        ["align", str(tmp_path / "nothing.wav"), str(SAMPLE_TXT), "-o", str(out)], capsys
    )
    assert rc == 2
    assert f"{out}: unknown format '.xyz'" in err  # before the missing audio is looked at
    assert not out.exists()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_help_is_light():
    code = (
        "import sys; from qalign.cli.main import cli; "
        "from click.testing import CliRunner; "
        "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = [m for m in ('torch', 'transformers', 'av', 'praatio') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_formats_import_is_light():
    code = "import sys, qalign.formats, qalign.aligner, qalign.asr; assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "extra, needle",
    [
        (
            ["-o", "{tmp}/a.srt", "-o", "{tmp}/b.TextGrid", "-f", "srt"],
            "--format applies to a single output",
        ),
        (["-o", "{tmp}/missing/a.srt"], "does not exist"),
        (["-o", "{tmp}/a.srt", "--max-chars", "0"], "--max-chars"),
        (
            ["-o", "{tmp}/a.srt", "--phones", "sphinx", "--language", "de"],
            "unsupported language 'German'",
        ),
        (["-f", "nonsense"], "unknown format 'nonsense'"),
    ],
)
def test_output_problems_found_before_any_work(tmp_path, capsys, extra, needle):
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    # The audio does not exist: each problem must be reported before the audio is even read.
    rc, err = _run(["align", str(tmp_path / "nothing.wav"), str(SAMPLE_TXT), *args], capsys)
    assert rc == 2
    assert needle in err, err
    assert len(err.strip().splitlines()) == 1
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_usage_errors_are_one_line(capsys):
    rc, err = _run(["align", str(SAMPLE_WAV)], capsys)
    assert rc == 2
    assert err.strip().splitlines() == [
        "qalign: error: Missing argument 'TRANSCRIPT'. (see --help)"
    ]


def test_sphinx_outputs_name_the_audio(tmp_path, capsys, monkeypatch):
    pytest.importorskip("pocketsphinx", reason="the sphinx extra is not installed")
    ctm, eaf = tmp_path / "hello.ctm", tmp_path / "hello.eaf"
    rc = main(
        [
            "align",
            str(SAMPLE_WAV),
            str(SAMPLE_TXT),
            "--engine",
            "sphinx",
            "-q",
            "-o",
            str(ctm),
            "-o",
            str(eaf),
        ]
    )
    assert rc == 0
    first = ctm.read_text().splitlines()[0].split()
    assert first[0] == "hello" and first[4] == "Hello,"
    assert str(SAMPLE_WAV) in eaf.read_text()


def test_a_fast_transcript_is_warned_about_once(tmp_path, capsys):
    """14 words a second: one warning (the CLI's early check and the aligner's own
    check used to print it twice)."""
    pytest.importorskip("pocketsphinx", reason="the sphinx extra is not installed")
    fast = _write(tmp_path / "fast.txt", (" ".join(["word"] * 120) + "\n").encode())
    out = tmp_path / "fast.json"
    rc, err = _run(["align", str(SAMPLE_WAV), str(fast), "--engine", "sphinx", "-l", "en",
                    "-o", str(out)], capsys)  # fmt: skip
    assert rc in (0, 1), err  # one word repeated may not align at all (exit 1)
    warnings = [line for line in err.splitlines() if "faster than speech" in line]
    assert len(warnings) == 1, err
    assert "120 words for 8.4 s" in warnings[0]
