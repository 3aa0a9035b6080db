"""Word confidence: what an engine measured about each placed word -> a score in [0, 1].

The score is meant to rank placement errors: a word placed more than 100 ms from where it
was spoken (or not spoken at all) should score lower than a word placed within 20 ms.
``benchmarks/confidence.py`` measures how well it does (ROC AUC) on real speech with
reference timings and on transcripts that do not match the audio.

Two logistic stages, with weights fitted once on synthetic speech (espeak-ng, exact times,
with inserted, deleted and substituted text; see the benchmark) and frozen here:

1. **Own evidence** (:class:`WordEvidence`): how much worse the word's forced path fits its
   frames than a free phone loop does (``fit``), the engine's own posterior, the share of
   the word's phones a free phone recogniser also hears there (``agreement``), and how far
   its length per phone is from the median of its neighbours' (slow or fast).
2. **Context**: the word's own score and the lowest own score one and two words around it.
   Errors come in runs (a word the engine could not place drags its neighbours off), so a
   word next to an unplaced word (own score 0) scores lower.

Statuses: a placed word scoring below :data:`UNCERTAIN_BELOW` is ``uncertain``; a word the
engine could not place is ``unaligned`` (that is the engine's and the long-form layer's
decision, not a threshold on this score).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Placed words scoring below this are ``uncertain``. On the real-speech benchmark (held out
#: from the fit; README, "Confidence") it flags 177 of the 321 placed words more than 100 ms
#: off and 43 of the 350 within 20 ms; 0.5 would flag 223 and 77.
UNCERTAIN_BELOW = 0.3

#: Frames per phone assumed when a window has too few placed words for its own median.
_PRIOR_FRAMES_PER_PHONE = 7.75  # the median of both benchmark sets
_MIN_WORDS_FOR_MEDIAN = 8


@dataclass(frozen=True, slots=True)
class WordEvidence:
    """What an engine measured about one placed word.

    Attributes:
        frames: the word's length in 10 ms frames (at least 1).
        phones: phones in the pronunciation it was placed with (at least 1).
        fit: mean per-frame acoustic score of the forced path minus that of a free phone
            loop over the same frames, in pocketsphinx log units (base 1.0001, after its
            scaling); 0 or above: as good as anything the phone loop found. Clipped to
            [-150, 20].
        posterior: the engine's own word posterior in [0, 1] (1 when it gives none).
        agreement: share (0..1) of the pronunciation's phones that a free phone
            recogniser also found inside the word's span, in order.
    """

    frames: int
    phones: int
    fit: float
    posterior: float = 1.0
    agreement: float = 1.0


@dataclass(frozen=True)
class ConfidenceModel:
    """Frozen weights of the two stages.

    Attributes:
        own: bias, then weights of fit/50, posterior, agreement, slow, fast (``slow`` and
            ``fast`` are the positive and negative parts of the log ratio of the word's
            frames per phone to the window's median).
        context: bias, then weights of the own score, the lowest own score of the words
            one away and the lowest of those up to two away.
    """

    own: tuple[float, float, float, float, float, float]
    context: tuple[float, float, float, float]


#: Fitted on the synthetic set of ``benchmarks/confidence.py`` (pocketsphinx engine).
SPHINX_MODEL = ConfidenceModel(
    own=(0.121, 4.086, 2.378, 2.714, -3.114, -0.093),
    context=(-4.477, 4.577, 1.727, 3.281),
)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])


def own_features(evidence: Sequence[WordEvidence | None]) -> list[list[float] | None]:
    """Stage 1 inputs for a run of consecutive words: fit/50, posterior, agreement, slow,
    fast (``None`` for an unplaced word)."""
    rates = [e.frames / max(1, e.phones) for e in evidence if e is not None]
    typical = _median(rates) if len(rates) >= _MIN_WORDS_FOR_MEDIAN else _PRIOR_FRAMES_PER_PHONE
    rows: list[list[float] | None] = []
    for e in evidence:
        if e is None:
            rows.append(None)
            continue
        rate = math.log(max(1, e.frames) / max(1, e.phones) / typical)
        fit = max(-150.0, min(20.0, e.fit))
        rows.append([fit / 50.0, e.posterior, e.agreement, max(0.0, rate), max(0.0, -rate)])
    return rows


def context_features(own: Sequence[float], i: int) -> list[float]:
    """Stage 2 inputs of word ``i``: its own score, the lowest one word away, the lowest
    up to two words away (1 where there is no neighbour)."""
    n = len(own)
    one = min((own[j] for j in (i - 1, i + 1) if 0 <= j < n), default=1.0)
    two = min((own[j] for j in range(i - 2, i + 3) if j != i and 0 <= j < n), default=1.0)
    return [own[i], one, two]


def _linear(weights: Sequence[float], x: Sequence[float]) -> float:
    return _sigmoid(weights[0] + sum(w * v for w, v in zip(weights[1:], x, strict=True)))


def own_scores(
    evidence: Sequence[WordEvidence | None], model: ConfidenceModel = SPHINX_MODEL
) -> list[float]:
    """Stage 1 for a run of consecutive words; an unplaced word (``None``) scores 0."""
    return [0.0 if x is None else _linear(model.own, x) for x in own_features(evidence)]


def word_scores(
    evidence: Sequence[WordEvidence | None], model: ConfidenceModel = SPHINX_MODEL
) -> list[float | None]:
    """Scores in [0, 1] for a run of consecutive words (``None`` in, ``None`` out).

    The run should be the words of one decoding pass in transcript order, placed or not,
    so that the context stage sees which neighbours could not be placed.
    """
    own = own_scores(evidence, model)
    return [
        None if e is None else _linear(model.context, context_features(own, i))
        for i, e in enumerate(evidence)
    ]


def status_of(score: float | None) -> str:
    """``uncertain`` below :data:`UNCERTAIN_BELOW`, else ``aligned`` (no score: ``aligned``)."""
    return "uncertain" if score is not None and score < UNCERTAIN_BELOW else "aligned"


def phone_agreement(expected: Sequence[str], heard: Sequence[str]) -> float:
    """Share of ``expected`` phones found in ``heard`` in order (longest common subsequence)."""
    if not expected:
        return 1.0
    previous = [0] * (len(heard) + 1)
    for a in expected:
        row = [0]
        for j, b in enumerate(heard):
            row.append(previous[j] + 1 if a == b else max(previous[j + 1], row[j]))
        previous = row
    return previous[-1] / len(expected)


# -- the Qwen3 path: slot distributions, length, overlapping windows ----------------------


@dataclass(frozen=True, slots=True)
class SlotEvidence:
    """What the Qwen3 path measured about one placed word.

    Attributes:
        near: probability within one class (80 ms) of the decoded time, the lower of the
            start and end slot (:mod:`qalign.aligner.qwen3.slot_evidence`).
        offset: classes (0 to 2) between the decoded class and the mean of the five
            classes around it, the larger of the two slots.
        repair: classes between the decoded time and the slot's own argmax (the order
            constraints moved it), the larger of the two slots, at most 25.
        length: log of the word's length per unit of weight (characters) over the median
            of its window.
        tail: seconds from the word's end to its window's end.
        pair: the larger start or end difference, seconds, between this placement and an
            overlapping window's (``None``: placed by one window only).
    """

    near: float
    offset: float
    repair: float
    length: float
    tail: float
    pair: float | None = None


#: Placed words of the Qwen3 path scoring below this are ``uncertain``: of the cuts 0.3,
#: 0.5, 0.7, 0.8, 0.85 and 0.9, the highest that flagged none of the words within 20 ms on
#: the simulated engine's fit seed (``benchmarks/confidence_qwen3.py --fit``): there it
#: flagged 65 of the 193 placed words more than 100 ms off and none of the 283 within
#: 20 ms (0.7 flagged 77 and 3). README, "Confidence".
QWEN3_UNCERTAIN_BELOW = 0.5

#: Fields of :class:`SlotEvidence` a single window measures (all but ``pair``).
WINDOW_FIELDS = 5


def slot_own_features(e: SlotEvidence) -> list[float]:
    """Inputs of the Qwen3 path's logistic stage: offset, log(1 + repair), slow, fast
    (positive and negative parts of ``length``), near the window's end (1 at the end, 0
    from 2 s before it), placed twice, and the two placements' difference in classes (at
    most 5; 0 when placed once)."""
    twice = e.pair is not None
    return [
        e.offset,
        math.log1p(e.repair),
        max(0.0, e.length),
        max(0.0, -e.length),
        max(0.0, 1.0 - e.tail / 2.0),
        1.0 if twice else 0.0,
        min(5.0, (e.pair or 0.0) / 0.08),
    ]


#: The direction each input of :func:`slot_own_features` is known to push the score
#: (+1 up, -1 down): a fit may only keep a weight of that sign.
SLOT_SIGNS = (-1, -1, -1, -1, -1, 1, -1)


#: Bias, then the weights of :func:`slot_own_features`: a logistic regression fitted on
#: the simulated engine's seed 1 (``benchmarks/confidence_qwen3.py --fit``), each weight
#: of its known sign (:data:`SLOT_SIGNS`; an input the fit wanted the other way is left
#: out: the simulation does not exercise it). No context stage: a second stage over the
#: neighbours' scores, fitted the same way, lowered the AUC on the held-out seeds.
QWEN3_WEIGHTS: tuple[float, ...] = (2.803, -1.113, -0.471, -0.04, -5.22, 0.0, 0.886, -0.569)


def slot_word_scores(
    evidence: Sequence[SlotEvidence | None], weights: Sequence[float] | None = None
) -> list[float | None]:
    """Scores in [0, 1] of placed words (``None`` in, ``None`` out): the model's own
    probability mass near the decoded times (``near``) times the fitted probability, from
    the other evidence, that the word is within 50 ms rather than more than 100 ms off.
    ``weights`` default to :data:`QWEN3_WEIGHTS`. The mass enters as a factor, not as a
    fitted input: in the simulation every spoken word's peak is equally sharp, so a fit
    could not learn what a flat, unsure distribution on a real model means."""
    weights = weights or QWEN3_WEIGHTS
    return [
        None if e is None else e.near * _linear(weights, slot_own_features(e)) for e in evidence
    ]
