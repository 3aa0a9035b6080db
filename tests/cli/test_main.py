"""The ``qalign`` program's end (``qalign.cli.main.end_process``, which skips the
interpreter's teardown): the exit code, exit handlers, flushed streams (Python's and
the C library's) and running threads are as at a normal exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_PROBE_HEAD = (
    "import atexit, ctypes, sys\n"
    "ctypes.CDLL(None).printf(b'C buffer;')  # the C library's stdout buffer, unflushed\n"
    "atexit.register(lambda: sys.stdout.write('handlers ran'))  # unflushed on purpose\n"
)


def _run(probe: str, *args: str) -> subprocess.CompletedProcess:
    # Buffered streams, as usual (PYTHONUNBUFFERED would make the C library's unbuffered too).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the C library probe is glibc's")
def test_the_program_runs_the_handlers_and_flushes_every_buffer() -> None:
    probe = _PROBE_HEAD + (
        "sys.argv = ['qalign', 'formats']\n"
        "from qalign.cli.main import entry\n"
        "entry()\n"
        "print('not reached')\n"
    )
    done = _run(probe)
    assert done.returncode == 0, done.stderr
    assert "textgrid" in done.stdout.lower()  # the command's own output
    assert "handlers ran" in done.stdout  # exit handlers, then a flush
    assert "C buffer;" in done.stdout
    assert "not reached" not in done.stdout


def test_an_error_keeps_its_exit_code() -> None:
    probe = _PROBE_HEAD + (
        "sys.argv = ['qalign', 'align', 'missing.wav', 'missing.txt', '--engine', 'nope']\n"
        "from qalign.cli.main import entry\n"
        "entry()\n"
    )
    done = _run(probe)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("qalign: error:") == 1
    assert "handlers ran" in done.stdout


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    """A non-daemon thread still running at the end is joined, as a normal exit does."""
    marker = tmp_path / "done"
    probe = (
        "import sys, threading, time\n"
        "path = sys.argv[1]\n"
        "def late():\n"
        "    time.sleep(0.5)\n"
        "    open(path, 'w').close()\n"
        "threading.Thread(target=late).start()\n"
        "sys.argv = ['qalign', 'formats']\n"
        "from qalign.cli.main import entry\n"
        "entry()\n"
    )
    done = _run(probe, str(marker))
    assert done.returncode == 0, done.stderr
    assert marker.is_file()


def test_python_dash_m_qalign_ends_with_the_command_code() -> None:
    ok = subprocess.run([sys.executable, "-m", "qalign", "--version"], capture_output=True,
                        text=True, timeout=120)  # fmt: skip
    assert ok.returncode == 0 and "qalign" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "qalign", "no-such-command"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "qalign: error:" in bad.stderr
