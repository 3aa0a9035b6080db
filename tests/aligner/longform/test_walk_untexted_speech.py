"""Speech the transcript lacks (a paragraph deleted from the text) in the middle of a window.

A forced engine given text and audio in which the text's next words are spoken only
after speech that is not in the text places those words on that speech, sparsely
(one every couple of seconds, as pocketsphinx does). The window still agrees on most
of its text, so the walk must not go on from the words forced there: their own audio
comes later, and a later window would offer the text after them to it.

Known and not fixed: the walk goes on from those words (with the energy-only speech
map, the offline engine on the benchmark's deleted paragraph: 308 ms mean error). A
walk that stops a window at speech no text explains after an agreeing run of 8 kept
units passes both tests and brings that case to 14.5 ms, but regressed two swapped
paragraphs from 14.4 to 35.4 ms on the same recording, so it is not in the layer;
strict: the tests report when the walk gets this right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from qalign.aligner.longform.engine import Placed, Script, WindowEngine
from qalign.aligner.longform.refine import refine
from qalign.aligner.longform.speech import SpeechMap
from qalign.aligner.longform.stitch import SPEECH_NOT_IN_TEXT, stitch
from qalign.aligner.longform.walk import WindowRun
from qalign.alignment import Source
from qalign.audio import AudioReader

#: The speech no text has (s), and how far apart the engine spreads words over it.
UNTEXTED = (13.5, 33.5)
SPREAD = 2.0


@dataclass(frozen=True)
class _U:
    text: str
    norm: str
    char_start: int
    char_end: int


class _Forced(WindowEngine):
    """Places each unit at its true time, in order, unless speech no text has lies
    between the last unit placed and its true time: then it is put on that speech, and
    once that speech is used up the window ends there (the text after the words forced
    onto it does not fit the audio after it, so an open-ended grammar stops)."""

    name = "forced"

    def __init__(self, truth: dict[int, tuple[float, float]]) -> None:
        self.truth = truth

    @property
    def source(self):
        return Source("forced")

    def script(self, transcript, language, label):  # pragma: no cover - not used here
        raise NotImplementedError

    def align_windows(self, script, jobs):
        return [self._one(job) for job in jobs]

    def _one(self, job) -> list[Placed]:
        length = job.samples.size / 16000
        cursor, got, forced = job.start, [], False
        spread_at = max(UNTEXTED[0], job.start)
        for i in range(job.first, job.stop):
            s, e = self.truth[i]
            if s < cursor - 1e-6:  # spoken before the window (or before the cursor)
                if not got and not job.open_start:
                    got.append(Placed(i, 0.0, 0.01, 0.9))  # crammed onto the start
                continue
            spread_at = max(spread_at, cursor)
            if spread_at + 0.3 <= min(s, UNTEXTED[1], job.start + length):
                s, e = spread_at, spread_at + 0.3  # forced onto the untexted speech
                spread_at += SPREAD
                forced = True
            elif forced:
                break  # words were forced onto it: the grammar ends after them
            if e > job.start + length + 1e-6:
                break
            got.append(Placed(i, s - job.start, e - job.start, 0.9))
            cursor = e
        return got


_KNOWN = pytest.mark.xfail(
    strict=True, reason="the walk goes on from words forced onto speech the text lacks"
)


def _case():
    truth = {k: (1.0 + 0.4 * k, 1.3 + 0.4 * k) for k in range(30)}
    truth.update({30 + k: (34.0 + 0.4 * k, 34.3 + 0.4 * k) for k in range(50)})
    duration = 56.0
    frames = int(duration * 100)
    prob = np.zeros(frames, np.float32)
    for a, b in [(1.0, 12.9), UNTEXTED, (34.0, 54.0)]:
        prob[int(round(a * 100)) : int(round(b * 100))] = 1.0
    speech = SpeechMap(np.zeros(frames), prob, duration, 0.5, "test")
    units = tuple(_U(f"w{i}", f"w{i}", 4 * i, 4 * i + 3) for i in range(80))
    script = Script("English", units, tuple([3.0] * 80))
    engine = _Forced(truth)
    reader = AudioReader(np.zeros(int(duration * 16000), np.float32))
    return WindowRun(engine, script, speech, reader, None), truth


@_KNOWN
def test_the_walk_goes_on_from_no_word_forced_onto_speech_the_text_lacks():
    run, truth = _case()
    run.go()
    # At most the word spoken right after it is put on its last second (the back-fill
    # before a recovery anchor is forced too); the refinement moves that one.
    inside = [i for i, k in run.kept.items() if UNTEXTED[0] <= k.start < UNTEXTED[1]]
    assert inside in ([], [30]) and all(run.kept[i].start > UNTEXTED[1] - 2 for i in inside)
    assert all(abs(k.start - truth[i][0]) < 1e-6 for i, k in run.kept.items() if i not in inside)
    # The words after it were found where they are spoken, and the search skipped it.
    assert all(i in run.kept for i in range(30, 80))
    assert any(a <= UNTEXTED[0] + 0.5 and b >= UNTEXTED[1] - 2 for a, b in run.skipped_audio)


@_KNOWN
def test_after_refinement_every_word_is_at_its_time_and_the_speech_is_named():
    run, truth = _case()
    run.go()
    refine(run)
    units, _, stretches = stitch(
        run.script,
        run.kept,
        run.engine,
        run.speech,
        skipped_text=run.skipped_text,
        skipped_audio=run.skipped_audio,
        tentative=run.tentative,
    )
    assert [u.status for u in units] == ["aligned"] * 80
    assert max(abs(u.start - truth[i][0]) for i, u in enumerate(units)) < 1e-6
    (named,) = [s for s in stretches if s.reason == SPEECH_NOT_IN_TEXT]
    assert named.start <= UNTEXTED[0] + 0.5 and named.end >= UNTEXTED[1]
    assert named.unit_start == named.unit_end == 30
