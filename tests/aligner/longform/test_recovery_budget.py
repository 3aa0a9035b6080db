"""The recovery search's time is bounded: text and audio that never agree cost at most
one full search plus about one more pass over the audio (random weights, a wrong transcript)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from qalign.aligner.longform import recovery
from qalign.aligner.longform.engine import Script
from qalign.aligner.longform.speech import SpeechMap
from qalign.aligner.longform.walk import WindowRun
from qalign.audio import SAMPLE_RATE, AudioReader

sys.path.insert(0, str(Path(__file__).resolve().parent))

from longform_fakes import FakeEngine, Unit  # noqa: E402


class _NeverAgrees(FakeEngine):
    """Places nothing anywhere; counts the seconds of audio it was given."""

    name = "never"

    def __init__(self) -> None:
        self.seconds = 0.0
        self.jobs = 0

    def align_windows(self, script, jobs):
        self.jobs += len(jobs)
        self.seconds += sum(j.samples.size for j in jobs) / SAMPLE_RATE
        return [[] for _ in jobs]


def _run(minutes: float) -> tuple[WindowRun, _NeverAgrees, float]:
    duration = minutes * 60
    frames = int(duration * 100)
    speech = np.zeros(frames, np.float32)
    for start in range(0, frames, 250):  # 2 s of speech, then 0.5 s of pause
        speech[start : start + 200] = 1.0
    speech_map = SpeechMap(np.zeros(frames), speech, duration, 0.5, "test")
    n = int(duration * 2.5)  # words at 2.5 per second
    units = tuple(Unit(f"w{i}", f"w{i}", 4 * i, 4 * i + 3) for i in range(n))
    script = Script("English", units, tuple([3.0] * n))
    silent = np.broadcast_to(np.float32(0.0), (int(duration * SAMPLE_RATE),))
    engine = _NeverAgrees()
    run = WindowRun(engine, script, speech_map, AudioReader(silent), None)
    run.go()
    return run, engine, duration


def test_a_file_that_never_agrees_costs_at_most_the_budget_plus_its_windows():
    run, engine, duration = _run(40)
    first = _run(0.5)[0].probe_seconds  # one full search (the first is never cut)
    budget = recovery.SEARCH_BUDGET_FLOOR + recovery.SEARCH_BUDGET_RATIO * duration
    one_batch = 8 * recovery.PROBE_SECONDS  # the check is made before each batch of probes
    assert 0 < first and run.probe_seconds <= max(budget, first) + one_batch
    # Windows: one per stretch the search gives up on, each at most max_window_seconds.
    windows = engine.seconds - run.probe_seconds
    assert windows <= duration / recovery.SEARCH_AUDIO_SECONDS * engine.max_window_seconds + 60
    # Audio is given up on one search's reach at a time, to the end, and no further: the
    # speech starting at 0.0 once read as "no speech" and the first failure skipped it all.
    assert not run.kept and run.skipped_audio[-1][1] == duration
    assert all(0 < b - a <= recovery.SEARCH_AUDIO_SECONDS for a, b in run.skipped_audio)


def test_without_the_budget_the_search_costs_many_times_the_audio(monkeypatch):
    """What the budget prevents (and that the first test measures something)."""
    monkeypatch.setattr(recovery, "SEARCH_BUDGET_FLOOR", float("inf"))
    run, _, duration = _run(10)
    assert run.probe_seconds > 4 * duration


@pytest.mark.parametrize("minutes", [1, 3])
def test_a_short_file_still_gets_its_full_search(minutes, monkeypatch):
    limited, _, _ = _run(minutes)
    monkeypatch.setattr(recovery, "SEARCH_BUDGET_FLOOR", float("inf"))
    unlimited, _, _ = _run(minutes)
    assert limited.probe_seconds == unlimited.probe_seconds > 0
