"""Sphinx word scores come from qalign.aligner.confidence and point at the wrong words
(aligner/sphinx/decoder.py). The benchmark (benchmarks/confidence.py) measures this at
scale; here one real recording, the sample in examples/."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pocketsphinx", reason="the sphinx extra (pocketsphinx) is not installed")

from qalign.aligner import confidence  # noqa: E402
from qalign.aligner.sphinx.decoder import DecodeFailed, Decoder, pcm16  # noqa: E402
from qalign.aligner.sphinx.dictionary import spoken_words  # noqa: E402
from qalign.audio import load_audio  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
SPOKEN = "Hello, world! This sample ships with qalign: it turns audio plus a transcript into exact word timings."


@pytest.fixture(scope="module")
def decoded():
    samples = load_audio(REPO / "examples" / "hello.wav")
    decoder = Decoder()

    def run(text: str, relaxed: bool = False):
        words = spoken_words(text)
        prons = [decoder.lexicon.pronunciations(w.norm) for w in words]
        return words, decoder.decode(pcm16(samples), prons, relaxed=relaxed)

    return run


def test_words_as_spoken_score_high(decoded, monkeypatch):
    calls = []
    original = confidence.word_scores
    monkeypatch.setattr(
        confidence, "word_scores", lambda ev, *a: calls.append(ev) or original(ev, *a)
    )
    words, got = decoded(SPOKEN)
    assert [t.index for t in got] == list(range(len(words)))
    assert calls and len(calls[0]) == len(words)  # the scores are the confidence module's
    assert all(t.score > 0.9 for t in got)
    evidence = calls[0]
    # The free phone loop hears most of the expected phones, and fits about as well.
    assert sum(e.agreement for e in evidence) / len(evidence) > 0.6
    assert all(-25 < e.fit < 5 for e in evidence)


def test_words_next_to_text_never_spoken_score_lower(decoded):
    altered = SPOKEN.replace("audio plus a transcript", "seven purple elephants danced")
    with pytest.raises(DecodeFailed):
        decoded(altered)  # the strict grammar finds no path through words never said
    words, got = decoded(altered, relaxed=True)
    placed = {words[t.index].norm: t.score for t in got}
    assert not {"seven", "purple", "elephants", "danced"} & set(placed)  # skipped
    far = [placed[w] for w in ("hello", "world", "this", "sample", "word", "timings")]
    assert placed["turns"] < min(far) - 0.1 and placed["into"] < min(far) - 0.1


def test_phones_only_decoding_skips_the_scoring(decoded, monkeypatch):
    """add_sphinx_phones decodes word by word for phones only: no phone-loop pass there."""
    from qalign.aligner.sphinx.decoder import Decoder

    calls = []
    monkeypatch.setattr(Decoder, "_phone_loop", lambda self, pcm: calls.append(pcm) or [])
    samples = load_audio(REPO / "examples" / "hello.wav")
    decoder = Decoder()
    prons = [decoder.lexicon.pronunciations("hello")]
    got = decoder.decode(pcm16(samples[:8000]), prons, phones=True, scores=False)
    assert got and got[0].phones and calls == []
    decoder.decode(pcm16(samples[:8000]), prons, phones=True)
    assert len(calls) == 1
