"""The refinement pass after the walk: false matches dropped, gaps re-aligned from their neighbours.

An engine that knows each unit's true times answers like a forced aligner: units
inside the window at their times, text before the window's audio (unless the start
is open) and after it crammed in at the window's edges. Speech maps are hand-made.
"""

import sys
from pathlib import Path

import numpy as np

from qalign.aligner.longform.engine import Placed, Script
from qalign.aligner.longform.refine import drop_false, refine
from qalign.aligner.longform.speech import SpeechMap
from qalign.aligner.longform.stitch import Kept, stitch
from qalign.aligner.longform.walk import WindowRun
from qalign.audio import AudioReader

sys.path.insert(0, str(Path(__file__).resolve().parent))

from longform_fakes import FakeEngine, Unit  # noqa: E402


class _Truthful(FakeEngine):
    """Places units at their true times; forced: what is not in the window is crammed at its edges."""

    name = "truthful"

    def __init__(self, truth: dict[int, tuple[float, float]]) -> None:
        self.truth = truth
        self.jobs: list = []

    def align_windows(self, script, jobs):
        out = []
        for job in jobs:
            self.jobs.append(job)
            length = job.samples.size / 16000
            got = []
            for i in range(job.first, job.stop):
                s, e = self.truth.get(i, (-1.0, -1.0))
                s, e = s - job.start, e - job.start
                if 0 <= s and e <= length + 1e-3:
                    got.append(Placed(i, s, e, 0.9))
                elif s < 0 and not job.open_start:  # text before the audio: forced onto its start
                    got.append(Placed(i, 0.0, 0.01, 0.9))
            out.append(got)
        return out


def _script(n):
    units = tuple(Unit(f"w{i}", f"w{i}", 3 * i, 3 * i + 2) for i in range(n))
    return Script("English", units, tuple([3.0] * n))


def _speech(duration, spans):
    frames = int(round(duration * 100))
    prob = np.zeros(frames, np.float32)
    for a, b in spans:
        prob[int(round(a * 100)) : int(round(b * 100))] = 1.0
    return SpeechMap(np.zeros(frames), prob, duration, 0.5, "test")


def _run(engine, n, speech):
    reader = AudioReader(np.zeros(int(speech.duration * 16000), np.float32))
    return WindowRun(engine, _script(n), speech, reader, None)


def _words(first, count, t0, step=0.4, length=0.3):
    return {first + k: (t0 + k * step, t0 + k * step + length) for k in range(count)}


def test_an_intro_taken_for_the_first_words_is_dropped_and_they_are_found_after_it():
    # 15 s of unscripted speech, a pause, then units 0-3 (18.5-19.7 s) and 4-29 (from 20 s).
    truth = {**_words(0, 4, 18.5, step=0.35), **_words(4, 26, 20.0)}
    speech = _speech(40.0, [(0, 15), (18.5, 19.8), (20.0, 30.4)])
    engine = _Truthful(truth)
    run = _run(engine, 30, speech)
    # The walk forced units 0-3 onto the intro; the rest it found.
    run.kept = {i: Kept(i, 0.5 + 0.4 * i, 0.8 + 0.4 * i, 0.9) for i in range(4)}
    run.kept.update({i: Kept(i, *truth[i], 0.9) for i in range(4, 30)})
    refine(run)
    assert {i: (run.kept[i].start, run.kept[i].end) for i in range(4)} == {
        i: truth[i] for i in range(4)
    }
    # The probe started after the intro, with the text free to start anywhere.
    (job,) = engine.jobs
    assert job.open_start and not job.open_end and job.start > 15.0
    units, _, stretches = stitch(run.script, run.kept, engine, speech)
    assert all(u.status == "aligned" for u in units)
    (intro,) = [s for s in stretches if s.reason == "speech not in transcript"]
    assert intro.start == 0.0 and intro.end == truth[0][0] and intro.unit_start == 0


def test_a_false_anchor_after_unspoken_text_is_dropped_and_the_words_before_it_refound():
    # Units 0-9 spoken, 10-39 never spoken, 40-59 spoken after a pause.
    truth = {**_words(0, 10, 1.0), **_words(40, 20, 6.0)}
    speech = _speech(20.0, [(1.0, 4.9), (6.0, 13.9)])
    engine = _Truthful(truth)
    run = _run(engine, 60, speech)
    run.kept = {i: Kept(i, *truth[i], 0.9) for i in range(10)}
    # A probe whose text started at unit 44 put it on the first word after the pause;
    # units 45-59 where they are.
    run.kept[44] = Kept(44, 6.0, 6.3, 0.9)
    run.kept.update({i: Kept(i, *truth[i], 0.9) for i in range(45, 60)})
    assert drop_false(run) == [44]
    refine(run)
    assert sorted(run.kept) == [*range(10), *range(40, 60)]
    assert all(run.kept[i].start == truth[i][0] for i in run.kept)


def test_a_unit_stretched_over_noise_is_dropped_and_placed_after_it():
    # Units 0-9, then 30 s of noise (not speech for the map), then units 10-19; the
    # walk stretched unit 10 over the noise.
    truth = {**_words(0, 10, 1.0), **_words(10, 10, 36.0)}
    speech = _speech(45.0, [(1.0, 4.9), (36.0, 39.9)])
    engine = _Truthful(truth)
    run = _run(engine, 20, speech)
    run.kept = {i: Kept(i, *truth[i], 0.9) for i in range(10)}
    run.kept[10] = Kept(10, 5.0, 35.0, 0.9)
    run.kept.update({i: Kept(i, *truth[i], 0.9) for i in range(11, 20)})
    refine(run)
    assert (run.kept[10].start, run.kept[10].end) == truth[10]
    units, _, stretches = stitch(run.script, run.kept, engine, speech)
    (quiet,) = [s for s in stretches if s.reason == "no speech"]
    assert quiet.start <= 5.0 and quiet.end >= 35.0 and quiet.unit_start == quiet.unit_end == 10


def test_nothing_changes_when_everything_agrees():
    truth = _words(0, 40, 0.5)
    speech = _speech(20.0, [(0.5, 16.5)])
    engine = _Truthful(truth)
    run = _run(engine, 40, speech)
    run.kept = {i: Kept(i, *truth[i], 0.9) for i in range(40)}
    before = dict(run.kept)
    refine(run)
    assert run.kept == before and engine.jobs == []
    _, _, stretches = stitch(run.script, run.kept, engine, speech)
    assert stretches == []


def test_two_units_alone_between_skipped_text_are_a_chance_match():
    truth = {**_words(0, 10, 1.0), **_words(40, 20, 6.0)}
    speech = _speech(20.0, [(1.0, 4.9), (5.0, 5.5), (6.0, 13.9)])
    engine = _Truthful(truth)
    run = _run(engine, 60, speech)
    run.kept = {i: Kept(i, *truth[i], 0.9) for i in [*range(10), *range(40, 60)]}
    run.kept[20] = Kept(20, 5.0, 5.2, 0.9)  # never spoken: a cough taken for two words
    run.kept[21] = Kept(21, 5.2, 5.5, 0.9)
    assert drop_false(run) == [20, 21]


def test_the_first_word_right_after_an_unscripted_intro_is_found():
    # 18 s of unscripted speech (a pause at 17 s), a 0.6 s pause, then unit 0 ("The": 0.1 s
    # of speech) and units 1-29, which the walk kept. The probe back from unit 1 starts at
    # the pause inside the intro (unit 0 alone holds under the 0.3 s a probe needs) and
    # places unit 0 after 0.9 s of the intro: no text is left to be spoken there.
    truth = {0: (18.61, 18.71), **_words(1, 29, 18.71)}
    speech = _speech(40.0, [(0, 16.9), (17.1, 18.0), (18.6, 30.4)])
    engine = _Truthful(truth)
    run = _run(engine, 30, speech)
    run.kept = {i: Kept(i, *truth[i], 0.9) for i in range(1, 30)}
    refine(run)
    assert 0 in run.kept and (run.kept[0].start, run.kept[0].end) == truth[0]
    (job,) = engine.jobs
    assert job.open_start and 16.9 < job.start < 17.1
    units, _, stretches = stitch(run.script, run.kept, engine, speech)
    assert all(u.status == "aligned" for u in units)
    (intro,) = stretches
    assert intro.reason == "speech not in transcript" and intro.end == truth[0][0]


def test_speech_left_before_a_later_unit_still_stops_the_probe():
    # The same audio, but the text has one more unit before: its gap (units 0-1) may be
    # spoken in that speech, so unit 1 is not taken from a probe that leaves it there.
    truth = {1: (18.61, 18.71), **_words(2, 28, 18.71)}
    speech = _speech(40.0, [(0, 16.9), (17.1, 18.0), (18.6, 30.4)])
    engine = _Truthful(truth)
    run = _run(engine, 30, speech)
    run.kept = {i: Kept(i, *truth[i], 0.9) for i in range(3, 30)}
    run.kept[2] = Kept(2, *truth[2], 0.9)
    refine(run)
    assert 1 not in run.kept and 0 not in run.kept
