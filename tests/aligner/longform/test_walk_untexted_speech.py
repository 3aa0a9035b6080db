"""Speech the transcript lacks (a paragraph deleted from the text) in the middle of a window.

A forced engine given text and audio in which the text's next words are spoken only
after speech that is not in the text places those words on that speech, sparsely
(one every couple of seconds, as pocketsphinx does). The window still agrees on most
of its text, so the walk must not go on from the words forced there: their own audio
comes later, and a later window would offer the text after them to it.

The walk stops a window at that speech; a short chain of units before it is no
agreement unless it runs on from the units kept before it (the last words before that
speech, redone by the next window), and then it is kept and the search starts after it.
Without that exception two swapped paragraphs lost the last word before them: the
search placed it 20 s late, on the other paragraph's speech.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from qalign.aligner.longform.engine import Placed, Script
from qalign.aligner.longform.refine import refine
from qalign.aligner.longform.speech import SpeechMap
from qalign.aligner.longform.stitch import SPEECH_NOT_IN_TEXT, Kept, lead_before_untexted, stitch
from qalign.aligner.longform.walk import WindowRun
from qalign.audio import AudioReader

sys.path.insert(0, str(Path(__file__).resolve().parent))

from longform_fakes import FakeEngine, Unit  # noqa: E402

#: The speech no text has (s), and how far apart the engine spreads words over it.
UNTEXTED = (13.5, 33.5)
SPREAD = 2.0


class _Forced(FakeEngine):
    """Places each unit at its true time, in order, unless speech no text has lies
    between the last unit placed and its true time: then it is put on that speech, and
    once that speech is used up the window ends there (the text after the words forced
    onto it does not fit the audio after it, so an open-ended grammar stops)."""

    name = "forced"

    def __init__(self, truth: dict[int, tuple[float, float]]) -> None:
        self.truth = truth

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


def _case():
    truth = {k: (1.0 + 0.4 * k, 1.3 + 0.4 * k) for k in range(30)}
    truth.update({30 + k: (34.0 + 0.4 * k, 34.3 + 0.4 * k) for k in range(50)})
    duration = 56.0
    frames = int(duration * 100)
    prob = np.zeros(frames, np.float32)
    for a, b in [(1.0, 12.9), UNTEXTED, (34.0, 54.0)]:
        prob[int(round(a * 100)) : int(round(b * 100))] = 1.0
    speech = SpeechMap(np.zeros(frames), prob, duration, 0.5, "test")
    units = tuple(Unit(f"w{i}", f"w{i}", 4 * i, 4 * i + 3) for i in range(80))
    script = Script("English", units, tuple([3.0] * 80))
    engine = _Forced(truth)
    reader = AudioReader(np.zeros(int(duration * 16000), np.float32))
    return WindowRun(engine, script, speech, reader, None), truth


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


def _map(spans, duration=20.0):
    prob = np.zeros(int(duration * 100), np.float32)
    for a, b in spans:
        prob[int(round(a * 100)) : int(round(b * 100))] = 1.0
    return SpeechMap(np.zeros(prob.size), prob, duration, 0.5, "test")


def test_a_short_chain_running_on_from_the_kept_units_is_kept_up_to_its_last_pause():
    # Units 10, 11 end a paragraph (pause after 11); speech the text lacks follows.
    speech = _map([(0.0, 5.0), (5.6, 20.0)])
    weights = [3.0] * 20
    before = Kept(9, 4.0, 4.3, 0.9)
    chain = [Kept(10, 4.4, 4.7, 0.9), Kept(11, 4.7, 5.0, 0.9)]
    assert lead_before_untexted(chain, before, speech, weights) == chain
    # A unit after that pause, on that speech, may be forced there: it is left out.
    forced = [*chain, Kept(12, 5.6, 5.9, 0.9)]
    assert lead_before_untexted(forced, before, speech, weights) == chain
    # Not running on from the kept units (a hole in the text, or speech no text
    # explains before it, or nothing kept before): a chance match, nothing kept.
    assert lead_before_untexted(chain[1:], before, speech, weights) == []
    far = Kept(9, 0.5, 0.8, 0.9)
    assert lead_before_untexted(chain, far, speech, weights) == []
    assert lead_before_untexted(chain, None, speech, weights) == []
