"""Signals, broken pipes and stale temporary files, on real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from qalign.atomic import temp_name
from qalign.errors import WriteError


def _ctm(words: int) -> str:
    return "".join(f"rec 1 {i * 0.3:.3f} 0.200 w{i}\n" for i in range(words))


CTM = _ctm(2000)

# Runs `qalign convert` with a writer that receives `SIG` half-way through a file.
_SIGNAL_MID_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    from qalign.formats import tsv
    real = tsv.iter_tsv
    def slow(alignment):
        for i, chunk in enumerate(real(alignment)):
            yield chunk
            if i == 0:
                os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    tsv.iter_tsv = slow
    from qalign.cli.main import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.parametrize(
    ("name", "code", "line"),
    [
        ("SIGTERM", 143, "qalign: terminated (SIGTERM)"),
        ("SIGINT", 130, "qalign: interrupted"),
        ("SIGHUP", 129, "qalign: hung up (SIGHUP)"),
    ],
)
def test_signal_during_the_writes_leaves_nothing(tmp_path, name, code, line):
    (tmp_path / "in.ctm").write_text(_ctm(10000))
    (tmp_path / "old.json").write_text("{}")
    # SIGINT back to its default in the child: a test run started in the background of a
    # shell inherits SIGINT ignored, and Python then installs no Ctrl-C handler.
    proc = subprocess.run(
        [sys.executable, "-c", _SIGNAL_MID_WRITE, name, "convert", "in.ctm", "out.tsv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.strip() == line
    assert sorted(os.listdir(tmp_path)) == ["in.ctm", "old.json"]


def test_all_outputs_or_none(tmp_path, monkeypatch):
    """The second output fails while rendering: the first is not written either."""
    from qalign import formats
    from qalign.cli.common import plan_outputs, write_outputs
    from qalign.formats import tsv

    alignment = formats.loads(CTM, "ctm")
    (tmp_path / "a.json").write_text("old")

    def broken(_alignment):
        yield "start"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tsv, "iter_tsv", broken)
    plan = plan_outputs([str(tmp_path / "a.json"), str(tmp_path / "b.tsv")], None, {})
    with pytest.raises(WriteError, match="b.tsv: No space left"):
        write_outputs(alignment, plan)
    assert sorted(os.listdir(tmp_path)) == ["a.json"]
    assert (tmp_path / "a.json").read_text() == "old"


def test_kill_9_leftovers_removed_by_the_next_run(tmp_path):
    (tmp_path / "in.ctm").write_text(CTM)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = tmp_path / temp_name("out.json").replace(f"-{os.getpid()}.", f"-{child.pid}.")
    stale.write_text('{"half": ')
    proc = subprocess.run(
        [sys.executable, "-m", "qalign.cli", "convert", "in.ctm", "out.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.ctm", "out.json"]


def test_broken_pipe_exits_141(tmp_path):
    (tmp_path / "in.ctm").write_text(_ctm(40000))
    read, write = os.pipe()
    os.close(read)  # nobody reads: the first write fails with EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "qalign.cli", "convert", "in.ctm", "-", "-f", "tsv"],
            cwd=tmp_path,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN),
        )
    finally:
        os.close(write)
    assert proc.returncode == 141
    assert "Traceback" not in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.ctm"]


@pytest.mark.slow
def test_audio_from_a_pipe(tmp_path):
    """`cat a.wav | qalign align /dev/stdin ...` works as with the file (offline engine)."""
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    proc = subprocess.run(
        [sys.executable, "-m", "qalign.cli", "align", "/dev/stdin", str(examples / "hello.txt"),
         "--engine", "sphinx", "-q", "-o", "out.tsv"],
        cwd=tmp_path, input=(examples / "hello.wav").read_bytes(), capture_output=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.tsv").read_text().splitlines()[1].split("\t")[2] == "Hello,"
    assert sorted(os.listdir(tmp_path)) == ["out.tsv"]
