"""benchmarks/peak_rss.py: a child's peak RSS is its own, not the benchmark's."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="wait4 peak RSS: Linux"
)


@pytest.fixture(scope="module")
def peak_rss():
    sys.path.insert(0, str(BENCH))
    try:
        import peak_rss

        yield peak_rss
    finally:
        sys.path.remove(str(BENCH))


def test_parent_memory_is_not_counted_and_child_memory_is(peak_rss) -> None:
    held = np.ones(400 * 1024 * 1024 // 8)  # 400 MB touched by this process
    small = peak_rss.run_measured([sys.executable, "-c", "pass"])
    big = peak_rss.run_measured(
        [sys.executable, "-c", "import sys; b = bytearray(300 * 2**20); sys.exit(3)"]
    )
    del held
    assert small["rc"] == 0 and small["peak_rss_mb"] < 100  # a plain wait4 said ~400 here
    assert big["rc"] == 3 and 300 <= big["peak_rss_mb"] < 400
    assert small["seconds"] > 0 and small["stderr"] == ""
