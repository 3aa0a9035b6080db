"""The qalign command line with the long-form layer's model work counted (benchmark helper).

Usage::

    python benchmarks/counted_cli.py STATS.json [--agree] -- batch CORPUS -o OUT ...

runs ``qalign ARGS`` in this process and, on exit, writes to ``STATS.json``:

* ``windows``: windows the layer placed (one per item that fits a window);
* ``probes``: recovery probes and back-fills (windows where text and audio were
  found to disagree, and the search for where they agree again);
* ``passes``: calls of the window engine, and ``jobs_per_pass``: how many windows
  each call held (more than one: several items' windows in one batched pass).

``--agree`` stands in for a trained model that agrees with the transcript: the real
forward pass still runs for every window (its cost is what is measured), then its
slot logits are replaced by ones peaked at times spread over the window in
proportion to each unit's length. With random weights the model places nothing
credibly, so every window "disagrees" and the recovery search runs on every file;
with ``--agree`` the layer's decisions are those it makes on clean utterances.
"""

from __future__ import annotations

import atexit
import json
import sys
import threading
from pathlib import Path

#: Logit of the chosen class in ``--agree`` (others 0): probability ~1 over 5000 classes.
PEAK = 30.0


def agreeing_logits(script, job, classes: int, step_ms: int, like):
    """``[2 * units, classes]`` logits placing the job's units end to end over its audio."""
    import numpy as np

    weights = np.asarray(script.weights[job.first : job.stop], dtype=np.float64)
    seconds = job.samples.size / 16000
    step = step_ms / 1000
    last = min(int(seconds / step), classes - 1)
    edges = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    # Leave a margin at both ends (speech rarely starts at the first frame).
    times = 0.05 * seconds + 0.9 * seconds * edges
    # ``like`` is a numpy array or a torch tensor (the engine's logits stay on their device).
    dtype = np.float64 if str(like.dtype).endswith("float64") else np.float32
    logits = np.zeros((2 * len(weights), classes), dtype=dtype)
    for k in range(len(weights)):
        start = min(int(times[k] / step), last)
        end = min(max(start + 1, int(times[k + 1] / step)), last)
        logits[2 * k, start] = PEAK
        logits[2 * k + 1, end] = PEAK
    return logits


def install(stats: dict, agree: bool) -> None:
    """Count the layer's windows, probes and engine passes into ``stats`` (and agree)."""
    from qalign.aligner.longform import walk
    from qalign.aligner.longform.slots import SlotWindows

    lock = threading.Lock()
    place = walk.WindowRun.place
    align_windows = SlotWindows.align_windows

    def counted_place(self, jobs, probe=False):
        with lock:
            stats["probes" if probe else "windows"] += len(jobs)
        return place(self, jobs, probe)

    def counted_align(self, script, jobs):
        with lock:
            stats["passes"] += 1
            stats["jobs_per_pass"].append(len(jobs))
        return align_windows(self, script, jobs)

    walk.WindowRun.place = counted_place
    SlotWindows.align_windows = counted_align
    if agree:
        from qalign.aligner.longform.slots import Qwen3Windows

        real = Qwen3Windows.slot_logits

        def agreeing(self, script, jobs):
            out = real(self, script, jobs)  # the model's work, measured
            return [
                agreeing_logits(script, job, logits.shape[1], self.step_ms, logits)
                for job, logits in zip(jobs, out, strict=True)
            ]

        Qwen3Windows.slot_logits = agreeing


def main(argv: list[str]) -> int:
    if len(argv) < 2 or "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    cut = argv.index("--")
    head, args = argv[:cut], argv[cut + 1 :]
    out = Path(head[0])
    stats: dict = {"windows": 0, "probes": 0, "passes": 0, "jobs_per_pass": []}
    install(stats, agree="--agree" in head[1:])
    atexit.register(lambda: out.write_text(json.dumps(stats), encoding="utf-8"))
    from qalign.cli.main import main as qalign_main

    return qalign_main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
