"""Peak RSS of a child command, measured so that the caller's own memory is not counted.

On Linux a child's ``ru_maxrss`` (from ``wait4``) starts from the high-water mark
of the process it was forked from: ``exec`` records the old address space's peak
before replacing it. A benchmark that built two hours of audio in memory and then
started ``qalign align`` saw its own peak reported as the aligner's (a child
running ``python -c pass`` reported 813 MB after its parent had touched 800 MB).

:func:`run_measured` therefore starts the command through this file as a small
launcher process: the launcher is exec'd fresh (a few MB), forks the command
from that small image, waits for it with ``wait4`` and writes the command's exit
code, wall time and peak RSS to a report file. The command's standard streams
are the launcher's, so callers read them as usual. Usage as a script::

    python benchmarks/peak_rss.py REPORT.json CMD [ARG...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_measured(cmd: list[str], *, stdout=subprocess.DEVNULL) -> dict:  # type: ignore[no-untyped-def]
    """Run ``cmd``; return ``rc``, ``stderr`` (text), ``seconds`` and ``peak_rss_mb`` (its own)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        proc = subprocess.run(
            [sys.executable, __file__, str(report), *cmd],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if not report.exists():
            raise RuntimeError(
                f"the launcher failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
            )
        out = json.loads(report.read_text())
    out["stderr"] = proc.stderr
    return out


def main(argv: list[str]) -> int:
    report, cmd = Path(argv[0]), argv[1:]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    report.write_text(
        json.dumps(
            {
                "rc": child.returncode,
                "seconds": time.perf_counter() - t0,
                "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
