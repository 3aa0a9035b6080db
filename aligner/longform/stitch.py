"""Stitching kept units into one alignment: statuses, interpolated gaps, stretches.

* A kept unit is ``aligned`` when its score reaches the engine's ``sure_score``
  (or the engine gives no score), else ``uncertain``.
* A unit no window kept is ``unaligned``: its times are interpolated inside
  the gap between its aligned neighbours, in proportion to its weight (phones
  or characters), so it is never zero-length where the gap has room, and no
  aligned unit moves. A gap at the file's start or end (one aligned neighbour)
  holds its units next to that neighbour, at the pace of the kept units, when
  the gap is longer than that.
* A short gap (at most :data:`SHORT_GAP` units) between kept units, whose
  audio is long enough for its units and which the engine did place (but not
  confidently: a collapsed or low-scoring slot), is ``uncertain`` instead, at the
  engine's times when they fit the gap, else interpolated.
* Runs of unaligned units become :class:`~qalign.alignment.Stretch` es, with a
  reason: ``text not heard`` when the gap holds little speech for the text (or
  the recovery search skipped it), ``not matched`` when there is speech but it
  did not agree with the text. Runs of three or more uncertain units become
  ``low confidence`` stretches. Audio with no units in it becomes a stretch
  with an empty unit range: ``speech not in transcript`` where the recovery
  search skipped speech or where two neighbouring placed units (or the file's
  start or end) leave :data:`MIN_REPORTED_SPEECH` s of speech between them that
  no text explains (where both apply, the span between the units: it is measured
  on the final times), and ``no speech`` over non-speech (silence, noise, music:
  what the speech map does not call speech) of :data:`NO_SPEECH_SECONDS` or more
  that no stretch of units covers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from qalign.aligner.longform.engine import Placed, Script, WindowEngine
from qalign.aligner.longform.speech import SpeechMap
from qalign.alignment import Phone, Stretch, Unit

TEXT_NOT_HEARD = "text not heard"
NOT_MATCHED = "not matched"
LOW_CONFIDENCE = "low confidence"
SPEECH_NOT_IN_TEXT = "speech not in transcript"
NO_SPEECH = "no speech"
#: Non-speech at least this long (s) is reported as a ``no speech`` stretch.
NO_SPEECH_SECONDS = 10.0
#: Speech (s) with no text that is reported as ``speech not in transcript``.
MIN_REPORTED_SPEECH = 2.0
#: Speech (s) between two units that no text explains: more than this, plus
#: :data:`SPEECH_PER_WEIGHT` s per unit of weight of the units between them.
UNEXPLAINED_SPEECH = 1.0
SPEECH_PER_WEIGHT = 0.1
#: Speech (seconds per unit of weight) below which a gap counts as not holding its text.
_HEARD_SECONDS_PER_WEIGHT = 0.03
#: Seconds after a unit that must be mostly pause for it to end a chain kept before speech
#: no text explains (:func:`lead_before_untexted`).
LEAD_PAUSE = 0.3
#: Gaps of at most this many units between kept units may be filled as ``uncertain``.
SHORT_GAP = 3
#: ... when the gap holds at least this many seconds per unit of weight.
_SHORT_GAP_SECONDS_PER_WEIGHT = 0.02
#: Uncertain runs at least this long are reported as stretches.
_MIN_UNCERTAIN_RUN = 3


@dataclass(frozen=True, slots=True)
class Kept:
    """A kept unit in global seconds."""

    index: int
    start: float
    end: float
    score: float | None
    phones: tuple[tuple[str, float, float], ...] = ()
    evidence: tuple[float, ...] = ()


def as_placed(k: Kept, t0: float) -> Placed:
    """``k`` as a placement in a window starting at ``t0`` s."""
    return Placed(
        k.index,
        k.start - t0,
        k.end - t0,
        k.score,
        tuple((a, b - t0, c - t0) for a, b, c in k.phones),
        k.evidence,
    )


def as_kept(p: Placed, t0: float) -> Kept:
    """A window's placement ``p`` in global seconds (the window starts at ``t0`` s)."""
    return Kept(
        p.index,
        p.start + t0,
        p.end + t0,
        p.score,
        tuple((a, b + t0, c + t0) for a, b, c in p.phones),
        p.evidence,
    )


def unkept_runs(kept: Mapping[int, Kept], n: int) -> Iterator[tuple[int, int]]:
    """``(i, j)`` for each run of units ``i .. j - 1`` with nothing kept, in order."""
    i = 0
    while i < n:
        if i in kept:
            i += 1
            continue
        j = i
        while j < n and j not in kept:
            j += 1
        yield i, j
        i = j


def run_ending_at(kept: list[Kept], stop: int) -> list[Kept]:
    """The kept units at the end of ``kept`` whose indexes run without a hole up to ``stop - 1``."""
    out: list[Kept] = []
    for k in reversed(kept):
        if k.index != (out[-1].index - 1 if out else stop - 1):
            break
        out.append(k)
    return out[::-1]


def run_starting_at(kept: Sequence[Kept], first: int) -> list[Kept]:
    """The kept units at the start of ``kept`` whose indexes run without a hole from ``first``."""
    out: list[Kept] = []
    for k in kept:
        if k.index != (out[-1].index + 1 if out else first):
            break
        out.append(k)
    return out


def unexplained(
    speech: SpeechMap, weights: Sequence[float], start: float, end: float, i: int, j: int
) -> bool:
    """Whether ``start..end`` holds more speech than units ``i:j`` (spoken there) could explain."""
    allowed = UNEXPLAINED_SPEECH + SPEECH_PER_WEIGHT * sum(weights[i:j])
    return end - start > allowed and speech.speech_seconds(start, end) > allowed


def explained_head(kept: Sequence[Kept], speech: SpeechMap, weights: Sequence[float]) -> int:
    """How many of ``kept`` (index order) come before the first speech no text explains.

    That is the first pair of neighbours with more speech between them than the units
    between them could explain (:func:`unexplained`); ``len(kept)`` when there is none.
    """
    for n, (a, b) in enumerate(zip(kept, kept[1:]), start=1):
        if unexplained(speech, weights, a.end, b.start, a.index + 1, b.index):
            return n
    return len(kept)


def lead_before_untexted(
    chain: Sequence[Kept], before: Kept | None, speech: SpeechMap, weights: Sequence[float]
) -> list[Kept]:
    """The units of a short ``chain`` before speech no text explains that are kept anyway.

    ``before`` is the unit kept before the chain's first (``None`` when not kept). The
    chain must run on from it with no hole in the text and no speech no text explains
    between them: then it holds the last words before that speech, given back by the
    window that kept ``before`` and redone. It is cut after its last unit followed by a
    pause (:data:`LEAD_PAUSE`): a unit with speech straight after it, right before that
    speech, may be the first unit forced onto it.
    """
    if (
        before is None
        or not chain
        or [k.index for k in chain] != list(range(before.index + 1, before.index + 1 + len(chain)))
        or unexplained(speech, weights, before.end, chain[0].start, chain[0].index, chain[0].index)
    ):
        return []
    ends = [
        n
        for n, k in enumerate(chain, start=1)
        if speech.speech_seconds(k.end, k.end + LEAD_PAUSE) <= LEAD_PAUSE / 2
    ]
    return list(chain[: ends[-1]]) if ends else []


def stitch(
    script: Script,
    kept: dict[int, Kept],
    engine: WindowEngine,
    speech: SpeechMap,
    *,
    skipped_text: Sequence[tuple[int, int]] = (),
    skipped_audio: Sequence[tuple[float, float]] = (),
    tentative: dict[int, Kept] | None = None,
) -> tuple[list[Unit], list[Phone], list[Stretch]]:
    """Units (every script unit, in order), phones of kept units, and stretches in time order.

    ``tentative`` holds units the engine placed but the layer did not keep (their
    latest placement), used to fill short gaps.
    """
    tentative = tentative or {}
    n = len(script.units)
    duration = speech.duration
    spans: list[tuple[float, float, str, float | None]] = []
    pace = _pace(script, kept)
    prev_end = 0.0
    i = 0
    gaps: list[tuple[int, int]] = []
    while i < n:
        k = kept.get(i)
        if k is not None:
            s = min(max(k.start, prev_end), duration)
            e = min(max(k.end, s), duration)
            sure = k.score is None or k.score >= engine.sure_score
            spans.append((s, e, "aligned" if sure else "uncertain", k.score))
            prev_end = e
            i += 1
            continue
        j = i
        while j < n and j not in kept:
            j += 1
        gap_end = min(duration, kept[j].start) if j < n else duration
        gap_end = max(prev_end, gap_end)
        weights = [max(0.5, w) for w in script.weights[i:j]]
        total = sum(weights)
        if pace is not None and (i == 0) != (j == n):
            # One aligned neighbour only: the units lie next to it, at the file's pace
            # (text is read in order; what lies beyond them has no text), not spread
            # from the file's edge.
            span = total * pace
            if i == 0:
                prev_end = max(prev_end, gap_end - span)
            else:
                gap_end = min(gap_end, prev_end + span)
        short = (
            0 < i
            and j < n
            and j - i <= SHORT_GAP
            and all(k in tentative for k in range(i, j))
            and gap_end - prev_end >= total * _SHORT_GAP_SECONDS_PER_WEIGHT
        )
        fitted = (
            _fit_tentative([tentative[k] for k in range(i, j)], prev_end, gap_end)
            if short
            else None
        )
        acc = 0.0
        for offset, w in enumerate(weights):
            a = prev_end + (gap_end - prev_end) * acc / total
            acc += w
            b = prev_end + (gap_end - prev_end) * acc / total
            if short:
                if fitted is not None:
                    a, b = fitted[offset]
                spans.append((a, b, "uncertain", tentative[i + offset].score))
            else:
                spans.append((a, b, "unaligned", 0.0))
        if not short:
            gaps.append((i, j))
        prev_end = gap_end
        i = j
    units = [
        Unit(u.text, u.norm, s, e, score, u.char_start, u.char_end, status)
        for u, (s, e, status, score) in zip(script.units, spans)
    ]
    phones: list[Phone] = []
    for idx in sorted(kept):
        unit = units[idx]
        for label, a, b in kept[idx].phones:
            a, b = max(a, unit.start, phones[-1].end if phones else 0.0), min(b, unit.end)
            phones.append(Phone(label, a, max(a, b)))
    stretches = _stretches(units, gaps, script, speech, skipped_text, skipped_audio)
    return units, phones, stretches


def _pace(script: Script, kept: Mapping[int, Kept]) -> float | None:
    """Seconds per unit of weight from the first kept unit to the last (pauses included)."""
    if len(kept) < 2:
        return None
    first, last = min(kept), max(kept)
    weight = sum(max(0.5, w) for w in script.weights[first : last + 1])
    return max(0.0, kept[last].end - kept[first].start) / weight


def _fit_tentative(placed: list[Kept], lo: float, hi: float) -> list[tuple[float, float]] | None:
    """The engine's own times for a short gap when they are ordered, inside it and not collapsed."""
    out = []
    prev = lo
    for k in placed:
        if k.start < prev or k.end > hi or k.end - k.start < 0.02:
            return None
        out.append((k.start, k.end))
        prev = k.end
    return out


def _stretches(
    units: list[Unit],
    gaps: list[tuple[int, int]],
    script: Script,
    speech: SpeechMap,
    skipped_text: Sequence[tuple[int, int]],
    skipped_audio: Sequence[tuple[float, float]],
) -> list[Stretch]:
    out: list[Stretch] = []
    for i, j in gaps:
        start, end = units[i].start, units[j - 1].end
        skipped = any(a <= i and j <= b for a, b in skipped_text)
        heard = speech.speech_seconds(start, end)
        need = sum(script.weights[i:j]) * _HEARD_SECONDS_PER_WEIGHT
        reason = TEXT_NOT_HEARD if skipped or heard < need else NOT_MATCHED
        out.append(Stretch(start, end, i, j, reason, "unaligned"))
    i = 0
    while i < len(units):
        if units[i].status != "uncertain":
            i += 1
            continue
        j = i
        while j < len(units) and units[j].status == "uncertain":
            j += 1
        if j - i >= _MIN_UNCERTAIN_RUN:
            out.append(Stretch(units[i].start, units[j - 1].end, i, j, LOW_CONFIDENCE, "uncertain"))
        i = j
    silent: list[tuple[float, float]] = []
    # Spans between placed units first: they are measured on the final times, while the
    # search's skipped audio may end where a unit it kept sat before the refinement moved it.
    for a, b in [*_untexted(units, speech), *skipped_audio]:
        if speech.speech_seconds(a, b) < MIN_REPORTED_SPEECH:
            continue
        if any(a < y and x < b for x, y, _ in silent):
            continue
        silent.append((a, b, SPEECH_NOT_IN_TEXT))
    for a, b in speech.pauses(0.0, speech.duration, NO_SPEECH_SECONDS):
        # Inside a run of unaligned units, their stretch already says it.
        if not any(st.start < b and a < st.end for st in out if st.unit_end > st.unit_start):
            silent.append((a, b, NO_SPEECH))
    for a, b, reason in silent:
        index = _index_at(units, a)
        out.append(Stretch(a, b, index, index, reason, "unaligned"))
    out.sort(key=lambda s: (s.start, s.unit_start))
    return out


def _untexted(units: Sequence[Unit], speech: SpeechMap) -> list[tuple[float, float]]:
    """Spans between neighbouring placed units (and the file's ends) with no unit in them."""
    if not units:
        return []
    placed = [u.status != "unaligned" for u in units]
    # Before the first unit and after the last: unaligned units there sit next to their
    # aligned neighbour, so the rest of the file's edge has no text either.
    spans = [(0.0, units[0].start)]
    spans += [
        (a.end, b.start) for a, b, pa, pb in zip(units, units[1:], placed, placed[1:]) if pa and pb
    ]
    spans.append((units[-1].end, speech.duration))
    return [(a, b) for a, b in spans if b - a >= MIN_REPORTED_SPEECH]


def _index_at(units: Sequence[Unit], t: float) -> int:
    """Index of the first unit starting at or after ``t``."""
    for k, u in enumerate(units):
        if u.start >= t:
            return k
    return len(units)
