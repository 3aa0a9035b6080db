"""Word scores and statuses of the offline engine on the long-form mismatch cases.

The recordings of ``longform_synth.py`` (espeak-ng paragraphs with exact word start
times; clean, and each defect of that script on its own) are aligned in this process
by the sphinx engine through the long-form layer, and every word is scored as in
``confidence.py``: its error is its start's deviation (the synthesiser gives starts
only; ``inf`` for a word never spoken), and the rows give the AUC of ``score`` for
"more than 100 ms off" against "within 20 ms" and how many far-off words
``uncertain`` and ``unaligned`` catch. Words of swapped paragraphs count like the
others (their reference is where they were spoken).

Run from the repository root (about a minute per case on two busy cores)::

    python benchmarks/confidence_longform.py [--minutes 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import longform_synth as synth_long  # noqa: E402
from confidence import markdown, summarise  # noqa: E402

CASES: tuple[str | None, ...] = (None, *synth_long.DEFECTS)


def measure(
    minutes: float, say: Callable[[str], None] = lambda _m: None
) -> dict[str, dict[str, object]]:
    """``summarise`` rows per case, for all cases (``"all"``) and placed words (``"placed"``)."""
    from qalign.aligner.sphinx import SphinxAligner

    aligner = SphinxAligner()
    every: list[tuple[float, float | None, str]] = []
    report: dict[str, dict[str, object]] = {}
    for case in CASES:
        rec = synth_long.build(minutes, case)
        result = aligner.align(rec.samples, rec.transcript, "English")
        rows = []
        for k, unit in enumerate(result.units):
            if k in rec.unspoken:
                rows.append((math.inf, unit.score, unit.status))
            elif k in rec.truth:
                rows.append((abs(unit.start - rec.truth[k]), unit.score, unit.status))
        report[case or "clean"] = summarise(rows)
        every += rows
        say(f"{case or 'clean'}: {len(rows)} words")
    report["all"] = summarise(every)
    report["placed"] = summarise([w for w in every if w[2] != "unaligned"])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each recording")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    report = measure(args.minutes, say=lambda m: print(m, file=sys.stderr, flush=True))
    print(markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
