"""The window-by-window walk of one item (step 2 and 3 of :mod:`qalign.aligner.longform.aligner`).

:class:`WindowRun` offers each window a run of text, keeps the anchors the engine
placed, and when a window disagrees searches forward in text and audio for where
they agree again; what it kept and skipped goes to :func:`~qalign.aligner.longform.stitch.stitch`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from qalign.aligner.longform.anchors import (
    BACK_OFF,
    ISLAND_UNITS,
    agreed,
    agreement,
    keep,
    leading_run,
    long_holes,
    trim_tail,
)
from qalign.aligner.longform.edges import grow_edges
from qalign.aligner.longform.engine import Placed, Script, WindowEngine, WindowJob
from qalign.aligner.longform.speech import SpeechMap
from qalign.aligner.longform.stitch import (
    Kept,
    explained_head,
    lead_before_untexted,
    run_ending_at,
)
from qalign.audio import SAMPLE_RATE, AudioReader

logger = logging.getLogger("qalign")

#: Audio with less speech than this (seconds) is skipped, not aligned.
MIN_SPEECH = 1.0
#: Probe length for the recovery search, seconds of audio.
PROBE_SECONDS = 12.0
#: How far the recovery search looks ahead: seconds of audio, and units of text.
SEARCH_AUDIO_SECONDS = 180.0
SEARCH_TEXT_UNITS = 800
#: The recovery search's budget, in seconds of probe audio: the first search is always
#: complete (120 to 260 probes of 12 s); after it the search may spend the floor plus
#: this many times the audio walked so far. A search that passes it stops where it is
#: (probes go nearest first), so however badly text and audio disagree (a wrong
#: transcript, random weights) the probes cost about one full search plus one more pass
#: over the audio, and the walk still tries a window at each step.
SEARCH_BUDGET_FLOOR = 1500.0
SEARCH_BUDGET_RATIO = 1.0

#: Seconds from a window's edges inside which a placement is not compared with another
#: window's (units piled at the end or put at 0 lie there).
OPINION_MARGIN = 0.3

#: Called with (seconds of audio done, seconds in all).
Progress = Callable[[float, float], None]


class WindowRun:
    """The state of one item's window loop."""

    def __init__(
        self,
        engine: WindowEngine,
        script: Script,
        speech: SpeechMap,
        reader: AudioReader,
        progress: Progress | None,
    ) -> None:
        self.engine, self.script, self.speech, self.reader = engine, script, speech, reader
        self.progress = progress
        self.n = len(script.units)
        self.kept: dict[int, Kept] = {}
        self.tentative: dict[int, Kept] = {}  # placed by a window but not kept (latest)
        # Placements inside a window's audio (latest), and the disagreement of two of them.
        self._inside: dict[int, tuple[float, float]] = {}
        self.pairs: dict[int, float] = {}
        self.skipped_text: list[tuple[int, int]] = []
        self.skipped_audio: list[tuple[float, float]] = []
        self.probe_seconds = 0.0  # probe audio the recovery search has spent
        total_speech = max(1.0, speech.speech_seconds(0.0, speech.duration))
        # Units per second of speech: starts from the whole file's average (only to size
        # the text a window is offered), then follows what the windows found.
        self.rate = min(8.0, max(1.0, self.n / total_speech))
        self._seen_units = 0
        self._seen_speech = 0.0
        # Units per second of speech in the last window, when its anchors agreed (else None).
        self._agreed_rate: float | None = None

    def _tight(self) -> bool:
        """Whether the next window gets the engine's text for agreement (:attr:`WindowEngine.agreed_slack`)."""
        return self.engine.agreed_slack is not None and self._agreed_rate is not None

    def _span(self, seconds_of_speech: float, tight: bool = False) -> int:
        """Units of text to offer for ``seconds_of_speech`` (see :attr:`WindowEngine.text_slack`);
        ``tight``: the engine's text for agreement (only when :meth:`_tight` says so)."""
        engine = self.engine
        if tight:
            assert engine.agreed_slack is not None and self._agreed_rate is not None
            rate = max(self.rate, self._agreed_rate)
            return (
                int(math.ceil(engine.agreed_slack * rate * seconds_of_speech)) + engine.agreed_pad
            )
        return int(math.ceil(engine.text_slack * self.rate * seconds_of_speech)) + engine.text_pad

    def _place(self, jobs: list[tuple[float, WindowJob]], probe: bool = False) -> list[list[Kept]]:
        """Align jobs (each with its start time) and return each one's kept units in global time."""
        placed = self.engine.align_windows(self.script, [job for _, job in jobs])
        out = []
        for (t0, job), got in zip(jobs, placed):
            length = job.samples.size / SAMPLE_RATE
            if not probe:  # a window: remember every placement
                for p in got:
                    self._second_opinion(p, t0, length)
                    self.tentative[p.index] = Kept(
                        p.index, t0 + p.start, t0 + p.end, p.score, evidence=p.evidence
                    )
            out.append([_as_kept(p, t0) for p in keep(got, length, self.engine)])
        return out

    def _second_opinion(self, p: Placed, t0: float, length: float) -> None:
        """Note how far a window's placement of a unit lies from an earlier window's.

        Each window redoes the last seconds of the one before, so units there are placed
        twice, independently; only confident placements inside both windows' audio count (a
        unit piled on a window's last frames or put at its start says nothing about its time).
        """
        inside = (
            p.start > OPINION_MARGIN
            and p.end < length - OPINION_MARGIN
            and (p.score is None or p.score >= self.engine.keep_score)
        )
        earlier = self._inside.get(p.index)
        if inside and earlier is not None:
            self.pairs[p.index] = max(abs(t0 + p.start - earlier[0]), abs(t0 + p.end - earlier[1]))
        if inside:
            self._inside[p.index] = (t0 + p.start, t0 + p.end)

    def go(self) -> None:
        engine, speech = self.engine, self.speech
        duration = speech.duration
        t, u = 0.0, 0
        while u < self.n and t < duration - 0.3:
            onset = speech.next_speech(t)
            if onset is None:
                break
            if onset - t > 2.0:  # a long pause: start just before the speech
                t = max(t, onset - 0.3)
            last = duration - t <= min(1.5 * engine.window_seconds, engine.max_window_seconds)
            end = (
                duration
                if last
                else speech.cut(
                    t + 0.75 * engine.window_seconds,
                    min(t + 1.25 * engine.window_seconds, t + engine.max_window_seconds),
                )
            )
            heard = speech.speech_seconds(t, end)
            if heard < MIN_SPEECH and not last:
                t = end
                continue
            tight = self._tight()
            span = self._span(heard, tight) * (3 if last else 1)
            stop = self.n if last and t == 0.0 else min(self.n, u + span)
            job = WindowJob(self.reader.read(t, end), u, stop, open_end=True, start=t)
            (got,) = self._place([(t, job)])
            length = end - t
            expected = self.rate * heard
            ok = len(got) >= engine.min_agreement * expected or (
                last and len(got) >= 0.5 * (stop - u)
            )
            guard = min(5.0, length / 4)
            head = explained_head(got, speech, self.script.weights)
            cut = head < len(got)
            lead: list[Kept] = []
            if cut:
                # Speech no text explains between two kept units: the text ran on into
                # speech the transcript lacks, and what follows is forced onto it. Only
                # the units before it go on (less the last few, redone by the next
                # window); a short chain before it is a chance match: no agreement,
                # unless it runs on from the units kept before it (the last words before
                # that speech, redone): those are kept, and the search takes the text
                # after them. (A long chain in a window that still disagrees keeps
                # nothing: the search starts at the window, as for any disagreement.)
                if head < ISLAND_UNITS:
                    ok = False
                    lead = lead_before_untexted(
                        got[:head], self.kept.get(u - 1), speech, self.script.weights
                    )
                got = trim_tail([_as_placed(k, t) for k in got[:head]], length, 0.0)
                got = [_as_kept(p, t) for p in got]
            # A window cut inside a pause has nothing half-heard to redo: keep it whole
            # (redoing it after a long pause would offer its last words to audio that
            # starts after the pause).
            elif (
                got
                and not last
                and speech.speech_seconds(max(got[-1].end, end - guard), end) >= 0.3
            ):
                got = trim_tail([_as_placed(k, t) for k in got], length, guard)
                got = [_as_kept(p, t) for p in got]
            logger.debug(
                "window %.2f-%.2f s, units %d-%d: kept %d (expected %.1f)%s%s",
                t,
                end,
                u,
                stop,
                len(got),
                expected,
                ", cut at speech no text explains" if cut else "",
                "" if ok else ", searching",
            )
            if got and ok:
                for k in got:
                    self.kept[k.index] = k
                self._fill_gaps(t, u, got)
                said = heard if last else speech.speech_seconds(t, got[-1].end)
                self._learn(got, said)
                # The units this window's speech held (gaps included), for the next one's text.
                self._agreed_rate = (
                    (got[-1].index - u + 1) / max(0.5, said) if agreed(got, u) else None
                )
                if (
                    last
                    and got[-1].index + 1 >= stop
                    or last
                    and stop == self.n
                    and not self._behind(got, end)
                ):
                    t, u = duration, got[-1].index + 1
                    break
                t_next, u = got[-1].end, got[-1].index + 1
                t = max(t_next, t + 0.5)
            else:
                self._agreed_rate = None
                # Tight text that agreed at its start and then stopped: text nobody speaks
                # took the place of the spoken text after it, so the window failed right
                # after units that agreed. Keep that run and search from its end (probes
                # from the window's start would spend their audio on those units).
                if not cut:
                    lead = leading_run(got, u) if tight else []
                if lead:
                    for k in lead:
                        self.kept[k.index] = k
                    # Before speech no text explains, the search still starts at the
                    # window's start (its audio probes step from there).
                    u = lead[-1].index + 1
                    if not cut:
                        t = max(lead[-1].end, t + 0.5)
                found = self._recover(t, u, budget=self._budget(t))
                if found is None:
                    # Nothing agrees within reach: leave this stretch of audio and search
                    # again further on, with the same text.
                    onset = speech.next_speech(t)  # 0.0 is a time, not "none"
                    onset = duration if onset is None else onset
                    skip_to = min(duration, onset + SEARCH_AUDIO_SECONDS)
                    self.skipped_audio.append((t, skip_to))
                    t = skip_to
                else:
                    t, u = found if found[0] > t or found[1] > u else (end, u)
            self._report(t)
        grow_edges(self)
        self._report(duration)

    def _behind(self, got: list[Kept], end: float) -> bool:
        """Whether speech is left after the last kept unit of a final window."""
        return self.speech.speech_seconds(got[-1].end, end) > 3.0

    def _learn(self, got: list[Kept], heard: float) -> None:
        self._seen_units += len(got)
        self._seen_speech += max(0.5, heard)
        if self._seen_speech >= 20.0:
            self.rate = min(8.0, max(1.0, self._seen_units / self._seen_speech))

    def _report(self, t: float) -> None:
        if self.progress is not None:
            self.progress(min(t, self.speech.duration), self.speech.duration)

    # -- recovery --------------------------------------------------------------

    def _fill_gaps(self, t: float, u: int, got: list[Kept]) -> None:
        """Back-fill before each kept unit that follows units the window did not keep.

        When a window's text holds units nobody speaks, the engine still places
        them in order and so crowds out the spoken units right after them.
        """
        step = max(4, int(self.rate * PROBE_SECONDS / 3))
        for n in long_holes(got, u):
            before = got[n - 1] if n else None
            start, first = (before.end, before.index + 1) if before is not None else (t, u)
            self._back_fill(start, first, got[n], step)

    def _back_fill(self, t: float, u: int, anchor: Kept, step: int) -> int:
        """Place the units just before a recovery anchor, spoken just before it; the first placed.

        The search steps through the text in strides, so the agreement it finds may
        start a few units after where speech resumes; those units are aligned in the
        audio just before the anchor and kept when they run up to it. Earlier runs the
        probe trusts (:func:`~qalign.aligner.longform.anchors.keep`) are kept too: they
        lie between ``t`` and the anchor, in order, so a short clip whose only window
        disagreed in one unit keeps the words spoken before that unit.
        """
        lo = max(u, anchor.index - 2 * step)
        span = sum(self.script.weights[lo : anchor.index]) * 0.1 + 2.0
        a0 = max(t, anchor.start - span)
        if anchor.start - a0 < 0.3:
            return anchor.index
        job = WindowJob(self.reader.read(a0, anchor.start), lo, anchor.index, start=a0)
        (got,) = self._place([(a0, job)], probe=True)
        run = run_ending_at(got, anchor.index)
        for k in got:
            if k.end <= anchor.start:
                self.kept[k.index] = k
        return run[0].index if run else anchor.index

    def _budget(self, t: float) -> float:
        """Probe seconds the search may still spend at ``t`` (see :data:`SEARCH_BUDGET_RATIO`)."""
        if not self.probe_seconds:
            return math.inf
        return SEARCH_BUDGET_FLOOR + SEARCH_BUDGET_RATIO * t - self.probe_seconds

    def _recover(self, t: float, u: int, budget: float = math.inf) -> tuple[float, int] | None:
        """Search forward in text and audio for where they agree again; ``None`` when nowhere.

        The search stops after ``budget`` seconds of probe audio (nearest candidates first).
        """
        speech, duration = self.speech, self.speech.duration
        onset = speech.next_speech(t)
        if onset is None:
            return None
        m = self._span(PROBE_SECONDS)
        step = max(4, int(self.rate * PROBE_SECONDS / 3))
        candidates: list[
            tuple[float, float, int]
        ] = []  # (cost in seconds, audio start, first unit)
        for d in range(0, min(self.n - u, SEARCH_TEXT_UNITS), step):
            candidates.append((d / self.rate, onset, u + d))
        a = onset
        while True:
            nxt = speech.next_speech(a + 3.0)
            if nxt is None or nxt - onset > SEARCH_AUDIO_SECONDS:
                break
            a = nxt
            candidates.append((a - onset, a, u))
        candidates.sort(key=lambda c: c[0])
        # The probes searching the text all hear the same audio: it is read once and the
        # same array is offered each time (an engine may reuse what it computed from it).
        at_onset = self.reader.read(onset, min(duration, onset + PROBE_SECONDS))
        batch = 8
        for k in range(0, len(candidates), batch):
            if budget <= 0:
                logger.debug("recovery search at %.2f s stopped: its budget is spent", t)
                break
            group = candidates[k : k + batch]
            jobs = []
            for _, a0, first in group:
                end = min(duration, a0 + PROBE_SECONDS)
                samples = at_onset if a0 == onset else self.reader.read(a0, end)
                job = WindowJob(samples, first, min(self.n, first + m), start=a0)
                jobs.append((a0, job))
                spent = job.samples.size / SAMPLE_RATE
                self.probe_seconds += spent
                budget -= spent
            results = self._place(jobs, probe=True)
            for (_cost, a0, first), got, (_, job) in zip(group, results, jobs):
                # A probe cannot agree on more units than it was offered: near the end of
                # the text (a short clip) the audio may hold more speech than text is left.
                expected = min(
                    self.rate * speech.speech_seconds(a0, min(duration, a0 + PROBE_SECONDS)),
                    job.stop - job.first,
                )
                share, best = agreement([_as_placed(x, 0.0) for x in got], expected)
                if share >= 0.5:
                    anchor = best[0]
                    logger.debug(
                        "recovered at %.2f s, unit %d (probe %.2f s, unit %d, agreement %.2f)",
                        anchor.start,
                        anchor.index,
                        a0,
                        first,
                        share,
                    )
                    if anchor.index > u:
                        resumed = self._back_fill(t, u, anchor, step)
                        if resumed > u:
                            self.skipped_text.append((u, resumed))
                    # The audio skipped ends where the first unit kept before the anchor starts.
                    before = [k.start for i, k in self.kept.items() if u <= i < anchor.index]
                    resume = min([anchor.start, *before])
                    # It starts no earlier than the unit kept before the text searched.
                    left = self.kept[u - 1].end if u - 1 in self.kept else t
                    if resume - max(t, left) > 2.0:
                        self.skipped_audio.append((max(t, left), resume))
                    # The agreeing run is kept (less its last units, redone by the next
                    # window), so the windows go on after it: always forward.
                    run = best[:-BACK_OFF] if len(best) > BACK_OFF + 1 else best
                    for k in run:
                        self.kept[k.index] = k
                    return run[-1].end, run[-1].index + 1
        return None


def _as_placed(k: Kept, t0: float) -> Placed:
    return Placed(
        k.index,
        k.start - t0,
        k.end - t0,
        k.score,
        tuple((a, b - t0, c - t0) for a, b, c in k.phones),
        k.evidence,
    )


def _as_kept(p: Placed, t0: float) -> Kept:
    return Kept(
        p.index,
        p.start + t0,
        p.end + t0,
        p.score,
        tuple((a, b + t0, c + t0) for a, b, c in p.phones),
        p.evidence,
    )
