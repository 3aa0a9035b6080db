"""A short run of benchmarks/fuzz_formats.py: mutated files through every reader, each
result through every writer and back; only typed errors, no hang, bounded memory."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def test_short_fuzz_run():
    sys.path.insert(0, str(BENCH))
    try:
        import fuzz_formats
    finally:
        sys.path.remove(str(BENCH))
    ran, reports = fuzz_formats.fuzz(seconds=4.0, first_seed=0)
    crashes = [r for r in reports if not r.startswith("round trip")]
    assert ran > 50
    assert not crashes, "\n".join(crashes)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 2 * 1024 * 1024  # KiB: 2 GiB


def test_a_crash_is_reported(monkeypatch):
    """The loop itself can fail: a reader raising a foreign exception is a finding."""
    sys.path.insert(0, str(BENCH))
    try:
        import fuzz_formats
    finally:
        sys.path.remove(str(BENCH))
    from qalign.formats import ctm

    def broken(text, **_):
        raise RuntimeError("boom")

    monkeypatch.setattr(ctm, "loads_ctm", broken)
    monkeypatch.setattr(fuzz_formats, "SEEDS", {"ctm": fuzz_formats.SEEDS["ctm"]})
    ran, reports = fuzz_formats.fuzz(seconds=5.0, first_seed=0, cases=3)
    assert ran == 3 and len(reports) == 3 and "RuntimeError" in reports[0]
