"""Time the timestamp decoders on synthetic aligner logits.

Run: ``python benchmarks/bench_decoder.py [--units 20 200 2000] [--classes 5000]``.
Prints milliseconds per decode (best of ``--repeat`` runs, wall clock and
CPU) for each decoder
and each kind of input:

* ``clean``: every slot peaks at the true, ordered class (the argmax is
  already feasible, so ``monotonic`` takes its fast path);
* ``outliers``: like ``clean``, but 3 % of slots get a stronger false peak
  somewhere random, so ``monotonic`` has to run its dynamic programme;
* ``noise``: i.i.d. Gaussian logits, the worst case for ``monotonic`` (no
  class can be ruled out).

Logits are float32, as a model forward pass would hand them over.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qalign.aligner.qwen3.decoding import DECODERS


def synthetic_logits(kind: str, n_units: int, n_classes: int, seed: int = 0) -> np.ndarray:
    """``[2 * n_units, n_classes]`` float32 logits of the given ``kind`` (see module doc)."""
    rng = np.random.default_rng(seed)
    n_slots = 2 * n_units
    if kind == "noise":
        return rng.standard_normal((n_slots, n_classes), dtype=np.float32) * 3.0
    # Ordered true classes: units 1-2 classes long, pauses of 0-1 classes,
    # squeezed into the available range when there are many units.
    steps = np.empty(n_slots, dtype=np.float64)
    steps[0] = 0
    steps[1::2] = rng.integers(1, 3, size=n_units)
    steps[2::2] = rng.integers(0, 2, size=n_units - 1)
    truth = np.cumsum(steps)
    if truth[-1] > n_classes - 1:
        truth = np.floor(truth * (n_classes - 1) / truth[-1])
    # Log-probabilities falling by 1.5 per class away from the truth, plus noise.
    classes = np.arange(n_classes, dtype=np.float32)
    logits = -1.5 * np.abs(classes[None, :] - truth[:, None].astype(np.float32))
    logits += rng.standard_normal((n_slots, n_classes), dtype=np.float32) * 0.3
    if kind == "outliers":
        hit = np.flatnonzero(rng.random(n_slots) < 0.03)
        logits[hit, rng.integers(0, n_classes, size=hit.size)] = 5.0
    elif kind != "clean":
        raise ValueError(f"unknown kind {kind!r}")
    return logits


def best_ms(decode, logits: np.ndarray, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU time of ``repeat`` decodes, in milliseconds.

    CPU time is the steadier figure on a shared machine (the decoders run on
    one thread).
    """
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        decode(logits)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls) * 1e3, min(cpus) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=[20, 200, 2000])
    parser.add_argument("--classes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    names = list(DECODERS)
    header = " ".join(f"{name + ' wall/cpu ms':>24}" for name in names)
    print(f"{'units':>6} {'classes':>7} {'input':>9} {header}")
    for n_units in args.units:
        for kind in ("clean", "outliers", "noise"):
            logits = synthetic_logits(kind, n_units, args.classes)
            cells = []
            for name in names:
                wall, cpu = best_ms(DECODERS[name], logits, args.repeat)
                cells.append(f"{wall:>15.2f} / {cpu:6.2f}")
            print(f"{n_units:>6} {args.classes:>7} {kind:>9} " + " ".join(cells))


if __name__ == "__main__":
    main()
