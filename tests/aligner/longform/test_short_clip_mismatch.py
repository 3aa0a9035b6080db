"""A short clip (one window) whose transcript holds one word nobody says.

Found in acceptance testing: on the 8.4 s sample, inserting one unspoken word into the
17-word transcript left every word unaligned with the offline engine (the single
window keeps 5 of 18 units, below the agreement bar). Two causes, both fixed:

* the recovery search judged a probe against the units its audio should hold, even
  when the text left to offer was shorter: a probe from unit 10 of 18 kept all but one
  of its 8 units and still "agreed" on 7 of 18 expected, so nothing was ever anchored
  when silero-vad's speech map made the pace come out slightly higher (the energy map
  passed by one unit);
* the units between the inserted word and the recovered anchor were crowded out by it
  and stepped over by the search; the second look at gap edges
  (:mod:`qalign.aligner.longform.edges`) now places them.

Every spoken word must come out placed, whichever speech map is used.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
@pytest.mark.parametrize("vad", [False, True], ids=["energy-map", "silero-vad-map"])
def test_one_unspoken_word_in_a_short_clip_keeps_the_spoken_words(vad):
    pytest.importorskip("pocketsphinx")
    if vad:
        pytest.importorskip("silero_vad", reason="silero-vad is not installed")
    from qalign.aligner.sphinx import SphinxAligner
    from qalign.audio import load_audio

    spoken = (REPO / "examples" / "hello.txt").read_text().split()
    text = " ".join([*spoken[:7], "elephants", *spoken[7:]])
    aligner = SphinxAligner(vad=vad)
    result = aligner.align(load_audio(REPO / "examples" / "hello.wav"), text, "English")
    placed = [u.text for u in result.units if u.status != "unaligned"]
    assert placed == spoken, f"placed {placed}"
    assert result.units[7].text == "elephants" and result.units[7].status == "unaligned"
    inserted = [s for s in result.stretches if s.unit_start <= 7 < s.unit_end]
    assert inserted and inserted[0].status == "unaligned", result.stretches
    # The audio before the inserted word holds the words kept there: it is not reported
    # as speech missing from the transcript.
    assert not [s for s in result.stretches if s.reason == "speech not in transcript"]
