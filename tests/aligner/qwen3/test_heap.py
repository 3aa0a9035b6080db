"""Freed activations stay in the process: a cycle of large blocks takes no new page faults."""

from __future__ import annotations

import subprocess
import sys

import pytest

_CYCLE = """
import resource, sys
import torch
if sys.argv[1] == "keep":
    from qalign.aligner.qwen3.heap import keep_freed_memory
    assert keep_freed_memory()
def cycle():
    blocks = [torch.ones(6 * 2**20) for _ in range(4)]  # 4 x 24 MB, then all freed
    del blocks
cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    cycle()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _CYCLE, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")
def test_kept_memory_is_reused_without_page_faults() -> None:
    pytest.importorskip("torch")
    from qalign.aligner.qwen3.heap import keep_freed_memory

    if not keep_freed_memory():
        pytest.skip("no glibc mallopt in this process")
    # 10 cycles of 96 MB (24,576 pages of 4 kB each): glibc's own thresholds hand
    # most cycles' blocks back to the kernel (49,000 to 74,000 faults measured), kept
    # memory takes one to three blocks' first touch (6,144 to 18,432 measured: where the
    # heap's top lies after the first cycle varies from run to run).
    block_pages = 6 * 2**20 * 4 // 4096
    default, kept = _faults("default"), _faults("keep")
    assert default > 30_000
    assert kept <= 3 * block_pages and kept * 2 < default
