"""Word scores and statuses of the Qwen3 path, measured on the simulated engine.

No real Qwen3 weights can be run here, so the Qwen3 path (the long-form layer over
the slot decoders, :mod:`qalign.aligner.longform.slots`) is measured on
``simulated_qwen3.py``: its recordings know every word's true times, and its slot
logits carry the real model's reported failure modes. For each case (clean, and
each defect of that script) every placed word's error is the larger of its start
and end deviations (``inf`` for a word never spoken), and the statistics are those of
``confidence.py``: the AUC of ``score`` for "more than 100 ms off" against "within
20 ms", and how many far-off words ``uncertain`` and ``unaligned`` catch.

Run from the repository root (about a second per simulated minute and case)::

    python benchmarks/confidence_qwen3.py [--minutes 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import simulated_qwen3 as sim  # noqa: E402
from confidence import markdown, summarise  # noqa: E402

#: The cases measured: no defect, then those of ``simulated_qwen3.py`` that keep the
#: recording short (``silence60`` and ``intro18`` only add time without words).
CASES: tuple[str | None, ...] = (
    None,
    "deleted",
    "unspoken_start",
    "unspoken_middle",
    "unspoken_end",
    "noise30",
    "swapped",
)


def measure(
    minutes: float,
    cases: Sequence[str | None] = CASES,
    seed: int = 1,
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, dict[str, object]]:
    """``summarise`` rows per case and for all cases together (key ``"all"``), and for
    placed words only (``"placed"``: status not ``unaligned``)."""
    every: list[tuple[float, float | None, str]] = []
    report: dict[str, dict[str, object]] = {}
    for case in cases:
        rec = sim.build(minutes, case, seed=seed)
        result, _ = sim.run(rec, seed=seed)
        rows = []
        for unit, span in zip(result.units, rec.truth, strict=True):
            error = (
                math.inf
                if span is None
                else max(abs(unit.start - span[0]), abs(unit.end - span[1]))
            )
            rows.append((error, unit.score, unit.status))
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
