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


def test_a_missing_extra_exits_3(tmp_path: Path) -> None:
    probe = _PROBE_HEAD + (
        "sys.modules['pocketsphinx'] = None  # the sphinx extra, as if not installed\n"
        "sys.argv = ['qalign', 'align', sys.argv[1], sys.argv[2], '--engine', 'sphinx',\n"
        "            '-l', 'en', '-o', sys.argv[3]]\n"
        "from qalign.cli.main import entry\n"
        "entry()\n"
    )
    out = tmp_path / "out.json"
    examples = REPO / "examples"
    done = _run(probe, str(examples / "hello.wav"), str(examples / "hello.txt"), str(out))
    assert done.returncode == 3, done.stderr
    assert 'pip install "qalign[sphinx]"' in done.stderr
    assert "handlers ran" in done.stdout and not out.exists()


def test_a_batch_with_a_failed_item_exits_1(tmp_path: Path, parity_dir: Path) -> None:
    pytest.importorskip("transformers")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("hello.wav", "hello.txt"):
        (corpus / name).write_bytes((REPO / "examples" / name).read_bytes())
    (corpus / "broken.wav").write_bytes(b"not audio")
    (corpus / "broken.txt").write_text("hello world\n")
    probe = _PROBE_HEAD + (
        "sys.argv = ['qalign', 'batch', sys.argv[1], '-o', sys.argv[2], '--engine', 'qwen3',\n"
        "            '-m', sys.argv[3], '--device', 'cpu', '-l', 'en']\n"
        "from qalign.cli.main import entry\n"
        "entry()\n"
    )
    out = tmp_path / "out"
    done = _run(probe, str(corpus), str(out), str(parity_dir / "fa-tiny-hf"))
    assert done.returncode == 1, done.stderr
    assert "1 done" in done.stderr and "1 failed" in done.stderr
    assert (out / "hello.json").is_file() and "broken" in (out / "failures.csv").read_text()
    assert "handlers ran" in done.stdout


def test_an_interruption_exits_130(tmp_path: Path) -> None:
    """SIGINT in the middle of a command: the usual line, code 130, no output left."""
    import signal

    (tmp_path / "in.ctm").write_text(
        "".join(f"rec 1 {i * 0.3:.3f} 0.200 w{i}\n" for i in range(5000))
    )
    probe = (
        "import os, signal, sys\n"
        "from qalign.formats import tsv\n"
        "real = tsv.iter_tsv\n"
        "def interrupted(alignment):\n"
        "    for i, chunk in enumerate(real(alignment)):\n"
        "        yield chunk\n"
        "        if i == 0:\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "tsv.iter_tsv = interrupted\n"
        "sys.argv = ['qalign', 'convert', 'in.ctm', 'out.tsv']\n"
        "from qalign.cli.main import entry\n"
        "entry()\n"
    )
    # SIGINT at its default in the child (a shell's background job inherits it ignored).
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "qalign: interrupted"
    assert sorted(os.listdir(tmp_path)) == ["in.ctm"]
