"""Engines that time units through per-slot class logits (Qwen3-ForcedAligner and its simulation).

Such an engine scores, for every unit, a start slot and an end slot over time
classes (80 ms each). :class:`SlotWindows` turns a batch of windows into
logits (:meth:`SlotWindows.slot_logits`, the engine's part) and decodes them
with the project's decoders (:mod:`qalign.aligner.qwen3.decoding`): the monotonic
decoder finds the most probable ordered times, and each unit's window score is the
probability mass the model puts within one class of the decoded time, so the
layer's decisions rest on the model's probabilities, not only its argmax. Each
placement also carries its evidence (:func:`window_evidence`); once every window has
run, :meth:`SlotWindows.rescore` turns it, with the layer's second placements, into
the final score (:func:`qalign.aligner.confidence.slot_word_scores`).

:class:`Qwen3Windows` is the real model behind the layer.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qalign.aligner.confidence import QWEN3_UNCERTAIN_BELOW
from qalign.aligner.longform.engine import Placed, Script, WindowEngine, WindowJob
from qalign.alignment import Source

if TYPE_CHECKING:
    from qalign.aligner.longform.stitch import Kept
    from qalign.aligner.qwen3 import Qwen3Aligner
    from qalign.aligner.qwen3.decoding import Decoded
    from qalign.aligner.qwen3.slot_logits import SlotLogits


class SlotWindows(WindowEngine):
    """A :class:`WindowEngine` whose model gives ``[2 * units, classes]`` slot logits per window.

    Args:
        decoder: ``monotonic`` or ``reference`` (see :mod:`qalign.aligner.qwen3.decoding`).
        step_ms: milliseconds per class.
        classes: number of classes (the longest time the head can express).
    """

    # Passes cost by the token (audio and text alike; attention grows with length):
    # 45 s windows amortise a pass's fixed costs and the redone end of each window
    # while staying far under the ~270 s where the real model piles words at the end.
    window_seconds = 45.0
    max_window_seconds = 90.0
    # After a window that agreed, the text is what the speech should hold plus 3 units:
    # every unit offered beyond the audio takes one 80 ms class at the window's end
    # from the words spoken there (the decoder orders the slots), so excess text costs
    # the window's last words as well as tokens. Too little text only ends the window's
    # kept units early, and the next window starts from there.
    agreed_slack = 1.0
    agreed_pad = 3
    keep_score = 0.15
    sure_score = QWEN3_UNCERTAIN_BELOW  # on the final score (rescore)
    min_unit_seconds = 0.04

    def __init__(self, decoder: str = "monotonic", step_ms: int = 80, classes: int = 5000) -> None:
        self.decoder = decoder
        self.step_ms = step_ms
        self.classes = classes

    @abstractmethod
    def slot_logits(self, script: Script, jobs: Sequence[WindowJob]) -> list:
        """Float32 ``[2 * (job.stop - job.first), classes]`` logits for each job (numpy
        arrays, or torch tensors on any device)."""

    def align_windows(self, script: Script, jobs: Sequence[WindowJob]) -> list[list[Placed]]:
        from qalign.aligner.qwen3.decoding import DECODERS
        from qalign.aligner.qwen3.slot_logits import SlotLogits

        todo = [j for j in jobs if j.stop > j.first and j.samples.size >= 400]
        logits = iter(self.slot_logits(script, todo)) if todo else iter(())
        out: list[list[Placed]] = []
        for job in jobs:
            if not (job.stop > job.first and job.samples.size >= 400):
                out.append([])
                continue
            n = job.samples.size
            max_class = min(int(n * 1000 // (16000 * self.step_ms)), self.classes - 1)
            # Reduced once on the logits' device, shared by the decoder and the evidence.
            window = SlotLogits(next(logits))
            decoded = DECODERS[self.decoder](window, max_class, step_ms=self.step_ms)
            length = n / 16000
            starts = np.minimum(decoded.start_s, length)
            ends = np.minimum(decoded.end_s, length)
            evidence = window_evidence(
                window, decoded, script.weights[job.first : job.stop], length
            )
            out.append(
                [
                    Placed(job.first + k, float(s), float(e), float(sc), evidence=tuple(ev))
                    for k, (s, e, sc, ev) in enumerate(
                        zip(starts, ends, decoded.scores, evidence.tolist())
                    )
                ]
            )
        return out

    def rescore(
        self, script: Script, units: Sequence[Kept | None], pairs: Mapping[int, float]
    ) -> list[float | None]:
        """Scores from the slot evidence, the length, overlapping windows and neighbours
        (:func:`qalign.aligner.confidence.slot_word_scores`)."""
        from qalign.aligner import confidence

        evidence = [
            None
            if k is None or len(k.evidence) != confidence.WINDOW_FIELDS
            else confidence.SlotEvidence(*k.evidence, pair=pairs.get(i))
            for i, k in enumerate(units)
        ]
        scores = confidence.slot_word_scores(evidence)
        # A placement without slot evidence keeps the score its window gave.
        return [
            k.score if k is not None and e is None else s
            for k, e, s in zip(units, evidence, scores, strict=True)
        ]


def window_evidence(
    logits: np.ndarray | SlotLogits, decoded: Decoded, weights: Sequence[float], length: float
) -> np.ndarray:
    """Per unit of one window: the slot evidence (:func:`~qalign.aligner.qwen3.slot_evidence.unit_evidence`),
    then the log ratio of its length per unit of weight to the window's median, and the
    seconds from its end to the window's end (float64 ``[n, 5]``)."""
    from qalign.aligner.qwen3.slot_evidence import unit_evidence

    slots = unit_evidence(logits, decoded.start_classes, decoded.end_classes)
    step = decoded.step_ms / 1000.0
    seconds = np.maximum(decoded.end_s - decoded.start_s, 0.5 * step)
    per_weight = seconds / np.maximum(np.asarray(weights, dtype=np.float64), 0.5)
    ratio = np.log(per_weight / np.median(per_weight)) if len(per_weight) else per_weight
    tail = np.maximum(length - np.minimum(decoded.end_s, length), 0.0)
    return np.column_stack([slots, ratio, tail])


class Qwen3Windows(SlotWindows):
    """Qwen3-ForcedAligner behind the long-form layer.

    Windows default to 45 s (:class:`SlotWindows`): the real model is reported to
    pile words at the end of passes past ~270 s, and on CPU a 30 s pass aligns
    about twice as much audio per second as a 300 s one (attention cost grows with
    length); between 30 and 60 s, 45 s windows measured fastest over a whole file.
    """

    name = "qwen3"

    def __init__(self, aligner: Qwen3Aligner, *, window_seconds: float | None = None) -> None:
        cfg = aligner.loaded.config
        super().__init__(
            aligner.decoder, int(cfg.timestamp_segment_time or 80), int(cfg.num_labels or 5000)
        )
        self.aligner = aligner
        if window_seconds is not None:
            self.window_seconds = window_seconds
        self.max_window_seconds = min(aligner.max_duration, 2.0 * self.window_seconds)
        # The last audio arrays prepared, with their log-mel features (see slot_logits).
        self._features: list[tuple[np.ndarray, Any]] = []

    @property
    def source(self) -> Source:
        return Source("qwen3", model=self.aligner.loaded.source, decoder=self.aligner.decoder)

    def script(self, transcript: str, language: str | None, label: str) -> Script:
        canonical, units = self.aligner.split(transcript, language, label)
        return Script(canonical, tuple(units), tuple(float(max(1, len(u.norm))) for u in units))

    def slot_logits(self, script: Script, jobs: Sequence[WindowJob]) -> list:
        """Float32 tensors on the model's device (reduced there by the decoders)."""
        runner = self.aligner.runner
        prepared = []
        for job in jobs:
            units = [u.norm for u in script.units[job.first : job.stop]]
            # Jobs offered the same audio array (the recovery search's text probes) share
            # its features: the last few arrays are held with theirs, compared by identity.
            held = next((f for a, f in self._features if a is job.samples), None)
            prepared.append(runner.prepare(job.samples, units, held))
            if held is None:
                self._features = [(job.samples, prepared[-1].features), *self._features[:3]]
        out: list = []
        size = max(1, self.aligner.batch_size)
        for k in range(0, len(prepared), size):
            out.extend(runner.slot_logits(prepared[k : k + size]))
        return out
