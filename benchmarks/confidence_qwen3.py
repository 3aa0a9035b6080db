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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import simulated_qwen3 as sim  # noqa: E402
from confidence import _logistic, markdown, summarise  # noqa: E402

from qalign.aligner import confidence as conf  # noqa: E402

#: Seed of the recordings the weights are fitted on, and of those reported (held out).
FIT_SEED = 1
REPORT_SEED = 2

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
        def recording(evidence, model=None):  # type: ignore[no-untyped-def]
            self.calls.append(list(evidence))
            return self._original(evidence, model)

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
    seed: int = REPORT_SEED,
    say: Callable[[str], None] = lambda _m: None,
    samples: list[Sample] | None = None,
) -> dict[str, dict[str, object]]:
    """``summarise`` rows per case and for all cases together (key ``"all"``), and for
    placed words only (``"placed"``: status not ``unaligned``). ``samples`` collects
    ``(evidence run, index, error)`` of every placed word, for :func:`fit`."""
    every: list[tuple[float, float | None, str]] = []
    report: dict[str, dict[str, object]] = {}
    for case in cases:
        rec = sim.build(minutes, case, seed=seed)
        with EvidenceCapture() as capture:
            result, _ = sim.run(rec, seed=seed)
        rows = []
        for i, (unit, span) in enumerate(zip(result.units, rec.truth, strict=True)):
            error = (
                math.inf
                if span is None
                else max(abs(unit.start - span[0]), abs(unit.end - span[1]))
            )
            rows.append((error, unit.score, unit.status))
            found = capture.source(i) if unit.status != "unaligned" else None
            if samples is not None and found is not None:
                samples.append((*found, error))
        report[case or "clean"] = summarise(rows)
        every += rows
        say(f"seed {seed}, {case or 'clean'}: {len(rows)} words")
    report["all"] = summarise(every)
    report["placed"] = summarise([w for w in every if w[2] != "unaligned"])
    report["placed, thresholds"] = thresholds(every)
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
        for th in (0.3, 0.5, 0.7, 0.9)
    }


def fit(samples: list[Sample]) -> conf.ConfidenceModel:
    """Both stages of :data:`qalign.aligner.confidence.QWEN3_MODEL` on ``samples``: good =
    within 50 ms, bad = more than 100 ms off (words in between are left out)."""
    chosen = [(run, i, 1.0 if e <= 0.05 else 0.0) for run, i, e in samples if e <= 0.05 or e > 0.1]
    y = np.array([label for _, _, label in chosen])
    x1 = np.array([conf.slot_own_features(run[i]) for run, i, _ in chosen])  # type: ignore[arg-type]
    w1 = tuple(round(float(v), 3) for v in _logistic(x1, y))
    own: dict[int, list[float]] = {}
    for run, _, _ in chosen:
        if id(run) not in own:
            own[id(run)] = [
                0.0 if e is None else conf._linear(w1, conf.slot_own_features(e)) for e in run
            ]
    x2 = np.array([conf.context_features(own[id(run)], i) for run, i, _ in chosen])
    w2 = tuple(round(float(v), 3) for v in _logistic(x2, y))
    return conf.ConfidenceModel(w1, w2)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="length of each recording")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--fit",
        action="store_true",
        help=f"refit the weights on seed {FIT_SEED}, then report seed {REPORT_SEED} with them",
    )
    args = parser.parse_args(argv)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if args.fit:
        samples: list[Sample] = []
        measure(args.minutes, seed=FIT_SEED, say=say, samples=samples)
        model = fit(samples)
        print(f"fitted on seed {FIT_SEED}: own={model.own} context={model.context}")
        conf.QWEN3_MODEL = model
    report = measure(args.minutes, say=say)
    print(markdown(report))
    print(f"placed, thresholds: {report['placed, thresholds']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
