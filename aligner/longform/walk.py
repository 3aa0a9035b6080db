"""The window-by-window walk of one item (step 2 and 3 of :mod:`qalign.aligner.longform.aligner`).

:class:`WindowRun` offers each window a run of text, keeps the anchors the engine
placed, and when a window disagrees searches forward in text and audio for where
they agree again (:mod:`qalign.aligner.longform.recovery`); what it kept and skipped
goes to :func:`~qalign.aligner.longform.stitch.stitch`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from qalign.aligner.longform import recovery
from qalign.aligner.longform.anchors import ISLAND_UNITS, agreed, keep, leading_run, trim_tail
from qalign.aligner.longform.edges import grow_edges
from qalign.aligner.longform.engine import Placed, Script, WindowEngine, WindowJob
from qalign.aligner.longform.speech import SpeechMap
from qalign.aligner.longform.stitch import (
    Kept,
    as_kept,
    as_placed,
    explained_head,
    lead_before_untexted,
)
from qalign.audio import SAMPLE_RATE, AudioReader

logger = logging.getLogger("qalign")

#: Audio with less speech than this (seconds) is skipped, not aligned.
MIN_SPEECH = 1.0

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

    def span(self, seconds_of_speech: float, tight: bool = False) -> int:
        """How many units of text to offer a window holding ``seconds_of_speech`` seconds of speech.

        The run's current units-per-second rate times the engine's
        :attr:`WindowEngine.text_slack`, plus its ``text_pad`` units. ``tight``:
        the narrower text for agreement (``agreed_slack``/``agreed_pad``, at least
        the last agreeing window's rate), only when :meth:`_tight` says so. Used
        by the walk and by the recovery search (``recovery.py``).
        """
        engine = self.engine
        if tight:
            assert engine.agreed_slack is not None and self._agreed_rate is not None
            rate = max(self.rate, self._agreed_rate)
            return (
                int(math.ceil(engine.agreed_slack * rate * seconds_of_speech)) + engine.agreed_pad
            )
        return int(math.ceil(engine.text_slack * self.rate * seconds_of_speech)) + engine.text_pad

    def place(self, jobs: list[tuple[float, WindowJob]], probe: bool = False) -> list[list[Kept]]:
        """Align ``jobs`` in one engine call; each job's kept units, in seconds of the whole file.

        Each job comes with its window's start time in seconds. A window
        (``probe=False``) also records every placement as tentative and notes
        units placed twice by overlapping windows; a probe (the recovery and
        refinement searches) only reads the result and changes nothing on the run.
        """
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
            out.append([as_kept(p, t0) for p in keep(got, length, self.engine)])
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
            span = self.span(heard, tight) * (3 if last else 1)
            stop = self.n if last and t == 0.0 else min(self.n, u + span)
            job = WindowJob(self.reader.read(t, end), u, stop, open_end=True, start=t)
            (got,) = self.place([(t, job)])
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
                got = trim_tail([as_placed(k, t) for k in got[:head]], length, 0.0)
                got = [as_kept(p, t) for p in got]
            # A window cut inside a pause has nothing half-heard to redo: keep it whole
            # (redoing it after a long pause would offer its last words to audio that
            # starts after the pause).
            elif (
                got
                and not last
                and speech.speech_seconds(max(got[-1].end, end - guard), end) >= 0.3
            ):
                got = trim_tail([as_placed(k, t) for k in got], length, guard)
                got = [as_kept(p, t) for p in got]
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
                recovery.fill_gaps(self, t, u, got)
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
                found = recovery.recover(self, t, u, budget=recovery.search_budget(self, t))
                if found is None:
                    # Nothing agrees within reach: leave this stretch of audio and search
                    # again further on, with the same text.
                    onset = speech.next_speech(t)  # 0.0 is a time, not "none"
                    onset = duration if onset is None else onset
                    skip_to = min(duration, onset + recovery.SEARCH_AUDIO_SECONDS)
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
