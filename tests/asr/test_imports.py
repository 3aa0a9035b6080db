"""Importing the ASR front end and its command must not import torch or transformers."""

from __future__ import annotations

import subprocess
import sys


def test_light_imports() -> None:
    code = (
        "import sys\n"
        "from qalign.asr import transcribe, transcribe_batch, Transcript\n"
        "import qalign.asr.chunking, qalign.asr.parse, qalign.asr.prompt, qalign.asr.pipeline\n"
        "import qalign.cli.transcribe\n"
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
