"""Word scores and statuses of the Qwen3 path, measured on the simulated engine.

No real Qwen3 weights can be run here, so the Qwen3 path (the long-form layer over
the slot decoders, :mod:`qalign.aligner.longform.slots`) is measured on
``simulated_qwen3.py``: its recordings know every word's true times, and its slot
logits carry the real model's reported failure modes. For each case (clean, and
each defect of that script) every placed word's error is the larger of its start
and end deviations (``inf`` for a word never spoken), and the statistics are those of
``confidence.py``: the AUC of ``score`` for "more than 100 ms off" against "within
20 ms", and how many far-off words ``uncertain`` and ``unaligned`` catch.

The numbers reported are those of seeds :data:`REPORT_SEEDS` (recordings and engine
noise), pooled. ``--fit`` first refits the weights of the score
(:data:`qalign.aligner.confidence.QWEN3_WEIGHTS`) on seed :data:`FIT_SEED` alone, so
the seeds reported are held out from the fit.

Run from the repository root (about a second per simulated minute, case and seed)::

    python benchmarks/confidence_qwen3.py [--minutes 3] [--fit] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import simulated_qwen3 as sim  # noqa: E402
from confidence import _logistic, markdown, summarise  # noqa: E402

from qalign.aligner import confidence as conf  # noqa: E402

#: Seed of the recordings the weights are fitted on, and those reported (held out).
FIT_SEED = 1
REPORT_SEEDS = (2, 3, 4, 5)

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


class EvidenceCapture:
    """Records the evidence of every ``slot_word_scores`` call, to refit the weights."""

    def __init__(self) -> None:
        self.calls: list[list[conf.SlotEvidence | None]] = []
        self._original = conf.slot_word_scores

    def __enter__(self) -> EvidenceCapture:
        def recording(evidence, weights=None):  # type: ignore[no-untyped-def]
            self.calls.append(list(evidence))
            return self._original(evidence, weights)

        conf.slot_word_scores = recording
        return self

    def __exit__(self, *exc: object) -> None:
        conf.slot_word_scores = self._original

    def source(self, i: int) -> tuple[list[conf.SlotEvidence | None], int] | None:
        """The evidence run word ``i`` was scored in (kept words: the first call)."""
        for call in self.calls:
            if call[i] is not None:
                return call, i
        return None


Sample = tuple[list["conf.SlotEvidence | None"], int, float]


def measure(
    minutes: float,
    cases: Sequence[str | None] = CASES,
    seeds: Sequence[int] = REPORT_SEEDS,
    say: Callable[[str], None] = lambda _m: None,
    samples: list[Sample] | None = None,
) -> dict[str, dict[str, object]]:
    """``summarise`` rows per case (every seed pooled), for all cases together (key
    ``"all"``; ``"all, seed N"`` per seed), and for placed words only (``"placed"``:
    status not ``unaligned``). ``samples`` collects ``(evidence run, index, error)`` of
    every placed word, for :func:`fit`."""
    rows: dict[str, list[tuple[float, float | None, str]]] = {}
    for seed in seeds:
        for case in cases:
            rec = sim.build(minutes, case, seed=seed)
            with EvidenceCapture() as capture:
                result, _ = sim.run(rec, seed=seed)
            for i, (unit, span) in enumerate(zip(result.units, rec.truth, strict=True)):
                error = (
                    math.inf
                    if span is None
                    else max(abs(unit.start - span[0]), abs(unit.end - span[1]))
                )
                row = (error, unit.score, unit.status)
                for key in (case or "clean", "all", f"all, seed {seed}"):
                    rows.setdefault(key, []).append(row)
                if unit.status != "unaligned":
                    rows.setdefault("placed", []).append(row)
                found = capture.source(i) if unit.status != "unaligned" else None
                if samples is not None and found is not None:
                    samples.append((*found, error))
            say(f"seed {seed}, {case or 'clean'}: {len(result.units)} words")
    report: dict[str, dict[str, object]] = {key: summarise(words) for key, words in rows.items()}
    report["placed, thresholds"] = thresholds(rows["all"])
    return report


def thresholds(words: list[tuple[float, float | None, str]]) -> dict[str, dict[str, int]]:
    """How many placed words more than 100 ms off, and within 20 ms, score below each cut."""
    placed = [(e, s or 0.0) for e, s, st in words if st != "unaligned"]
    return {
        str(th): {
            "off_flagged": sum(1 for e, s in placed if e > 0.1 and s < th),
            "off": sum(1 for e, _ in placed if e > 0.1),
            "within_20ms_flagged": sum(1 for e, s in placed if e <= 0.02 and s < th),
            "within_20ms": sum(1 for e, _ in placed if e <= 0.02),
        }
        for th in (0.3, 0.5, 0.7, 0.8, 0.85, 0.9)
    }


def fit(samples: list[Sample]) -> tuple[float, ...]:
    """Weights of :data:`qalign.aligner.confidence.QWEN3_WEIGHTS` on ``samples``: good =
    within 50 ms, bad = more than 100 ms off (words in between are left out). An input
    whose weight comes out against its known sign (:data:`~qalign.aligner.confidence.SLOT_SIGNS`)
    is left out (weight 0) and the rest refitted, until every weight has its sign."""
    chosen = [(run, i, 1.0 if e <= 0.05 else 0.0) for run, i, e in samples if e <= 0.05 or e > 0.1]
    y = np.array([label for _, _, label in chosen])
    x = np.array([conf.slot_own_features(run[i]) for run, i, _ in chosen])  # type: ignore[arg-type]
    active = list(range(x.shape[1]))
    while True:
        w = _logistic(x[:, active], y)
        wrong = [k for k, v in zip(active, w[1:]) if v * conf.SLOT_SIGNS[k] < 0]
        if not wrong:
            break
        active = [k for k in active if k not in wrong]
    weights = [float(w[0])] + [0.0] * x.shape[1]
    for k, v in zip(active, w[1:]):
        weights[1 + k] = float(v)
    return tuple(round(v, 3) for v in weights)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each recording")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--fit",
        action="store_true",
        help=f"refit the weights on seed {FIT_SEED}, then report the held-out seeds with them",
    )
    args = parser.parse_args(argv)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if args.fit:
        samples: list[Sample] = []
        measure(args.minutes, seeds=(FIT_SEED,), say=say, samples=samples)
        conf.QWEN3_WEIGHTS = fit(samples)
        print(f"fitted on seed {FIT_SEED}: {conf.QWEN3_WEIGHTS}")
        print(
            f"seed {FIT_SEED}, thresholds: {measure(args.minutes, seeds=(FIT_SEED,))['placed, thresholds']}"
        )
    report = measure(args.minutes, say=say)
    print(f"held-out seeds {', '.join(map(str, REPORT_SEEDS))}, pooled:")
    print(markdown(report))
    print(f"placed, thresholds: {report['placed, thresholds']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
