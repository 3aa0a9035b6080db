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
def faults_over(n):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(n):
        cycle()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
cycle()
print(faults_over(10), faults_over(10))
"""


def _faults(mode: str) -> tuple[int, int]:
    """Minor page faults over cycles 2-11 and over cycles 12-21 of one process."""
    done = subprocess.run(
        [sys.executable, "-c", _CYCLE, mode], capture_output=True, text=True, check=True
    )
    first, second = done.stdout.split()[-2:]
    return int(first), int(second)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")
def test_kept_memory_is_reused_without_page_faults() -> None:
    pytest.importorskip("torch")
    from qalign.aligner.qwen3.heap import keep_freed_memory

    if not keep_freed_memory():
        pytest.skip("no glibc mallopt in this process")
    # Ten cycles of 96 MB (24,576 pages of 4 kB each) after a first one. With glibc's
    # own thresholds blocks go back to the kernel and come back as new faults until its
    # dynamic threshold settles (49,000 to 74,000 faults over the ten measured). Kept
    # memory takes at most one cycle's first touch over the ten (6,144 to 24,576
    # measured: where the heap's top lies after the first cycle varies from run to run),
    # and nothing over the ten after.
    block_pages = 6 * 2**20 * 4 // 4096
    default, kept = _faults("default"), _faults("keep")
    assert default[0] > 30_000
    assert kept[0] <= 4 * block_pages + 256  # a few pages of other allocations
    assert kept[1] <= block_pages // 4
