"""Importing nagisa (it calls logging.basicConfig) must not double qalign's log lines."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("nagisa", reason='nagisa is not installed (pip install "qalign[ja]")')


@pytest.mark.slow
def test_one_line_per_message_after_nagisa():
    script = textwrap.dedent(
        """
        import logging
        from qalign.cli.common import configure_logging
        from qalign.aligner.qwen3.japanese_words import import_nagisa
        configure_logging()
        import_nagisa()
        logging.getLogger("qalign").info("the message")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stderr.count("the message") == 1, out.stderr
