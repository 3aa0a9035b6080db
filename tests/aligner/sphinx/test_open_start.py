"""The offline engine's open start (``WindowJob.open_start``): text before the audio is left out.

The long-form layer's refinement re-aligns the text just before a known word
backwards from it, without knowing where in the text the speech resumes; the
grammar must then be free to start at any word. The sample in examples/ is
aligned with an unspoken sentence in front of its transcript.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pocketsphinx", reason="the sphinx extra (pocketsphinx) is not installed")

from qalign.aligner.longform.engine import WindowJob  # noqa: E402
from qalign.aligner.sphinx.engine import SphinxWindows  # noqa: E402
from qalign.audio import load_audio  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
# More words than the relaxed grammar may skip in one jump (12).
UNSPOKEN = (
    "The green boat carried a heavy letter near the river before dinner. "
    "My sister painted the narrow bridge during the winter."
)


@pytest.fixture(scope="module")
def placed():
    engine = SphinxWindows()
    spoken = (REPO / "examples" / "hello.txt").read_text()
    script = engine.script(f"{UNSPOKEN} {spoken}", "English", "test")
    samples = load_audio(REPO / "examples" / "hello.wav")
    n = len(script.units)

    def run(open_start: bool):
        job = WindowJob(samples, 0, n, open_end=False, open_start=open_start)
        (got,) = engine.align_windows(script, [job])
        return got

    return run, len(UNSPOKEN.split())


@pytest.mark.slow
def test_open_start_skips_the_text_before_the_speech(placed):
    run, before = placed
    got = run(True)
    assert got, "nothing placed"
    assert got[0].index == before, [p.index for p in got[:5]]
    assert [p.index for p in got] == list(range(before, before + len(got)))
    assert got[0].start < 0.6  # "Hello" is the first word of the sample


@pytest.mark.slow
def test_without_open_start_the_first_words_are_forced_in(placed):
    run, before = placed
    got = run(False)
    # The text must start at its first word: the unspoken sentence takes audio.
    assert got and got[0].index < before
