"""`qalign align` with the Qwen3 engine imports only what its path uses: never transformers.

transformers costs seconds to import; the aligner's network, tokenizer and
features are built without it. The command runs in a fresh interpreter with
``-X importtime``, which lists every module the process imported.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WAV = REPO / "examples" / "hello.wav"
SAMPLE_TXT = REPO / "examples" / "hello.txt"


def _imported(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":
                names.add(name)
    return names


@pytest.mark.slow
@pytest.mark.parametrize("checkpoint", ["fa-tiny", "fa-tiny-hf"])
def test_align_never_imports_transformers(parity_dir: Path, tmp_path: Path, checkpoint) -> None:
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-X", "importtime", "-m", "qalign", "align"]
    cmd += [str(SAMPLE_WAV), str(SAMPLE_TXT), "--engine", "qwen3", "--device", "cpu"]
    cmd += ["--model", str(parity_dir / checkpoint), "--dtype", "bf16", "-q", "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    # random tiny weights may place no word (exit 1); either way the model ran and wrote
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert out.is_file()
    modules = _imported(done.stderr)
    assert {"torch", "tokenizers", "qalign.aligner.qwen3.modules"} <= modules
    heavy = sorted(m for m in modules if m.split(".")[0] == "transformers")
    assert not heavy, f"the aligner path imported {heavy[:5]}"
    # nor what a local folder and a plain 16 kHz WAV do not need: the Hub client, the
    # compiler stack, PyAV
    assert not {"huggingface_hub", "torch._dynamo", "fsspec", "pysubs2", "av"} & modules


def test_program_exits_with_the_command_code_and_objects_frozen(tmp_path: Path) -> None:
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "sys.argv = ['qalign', 'align', sys.argv[1], sys.argv[2], '--engine', 'nope']\n"
        "from qalign.cli.main import entry\n"
        "entry()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(SAMPLE_WAV), str(SAMPLE_TXT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr  # a usage error keeps its exit code
    assert "qalign: error:" in done.stderr and "nope" in done.stderr
    assert done.stdout.strip() == "frozen True"
    version = subprocess.run(
        [sys.executable, "-m", "qalign", "--version"], capture_output=True, text=True, timeout=120
    )
    assert version.returncode == 0 and "qalign" in version.stdout
