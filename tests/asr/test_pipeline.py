"""Transcribe-then-align on long audio, with the fakes of ``conftest.py`` for the two models."""

from __future__ import annotations

import numpy as np
import pytest

from qalign.alignment import Alignment
from qalign.asr.base import TranscribeRequest, Transcript
from qalign.asr.chunk_merge import join_texts
from qalign.asr.pipeline import run_pipeline
from qalign.errors import AudioError, QalignError

SR = 16_000


def _check_merged(result: Alignment, audio: np.ndarray, truth, chunk_bounds) -> None:
    duration = audio.size / SR
    assert result.duration == pytest.approx(duration)
    names = [u.text for u in result.units]
    assert names == [f"w{k}" for k in range(len(truth))]  # each word once, in order
    prev = 0.0
    for unit, (t0, t1) in zip(result.units, truth):
        assert prev <= unit.start <= unit.end <= duration
        assert unit.start == pytest.approx(t0, abs=1e-6) and unit.end == pytest.approx(t1, abs=1e-6)
        prev = unit.end
    text, _ = join_texts([s.text for s in result.segments])
    for unit in result.units:
        assert text[unit.char_start : unit.char_end] == unit.text
    for seg in result.segments:  # no segment straddles a cut
        assert any(lo <= seg.start <= seg.end <= hi for lo, hi in chunk_bounds)


def test_long_recording_merges_into_one_alignment(fakes) -> None:
    audio, truth = fakes.make_recording(260, seed=1)
    assert audio.size / SR > 180  # several minutes
    asr, fa = fakes.FakeTranscriber(), fakes.FakeAligner()
    (result,) = run_pipeline([TranscribeRequest(audio, name="long")], asr, fa, chunk_seconds=20)
    assert isinstance(result, Alignment)
    n_chunks = asr.calls[0]
    assert n_chunks >= 9 and fa.calls == [n_chunks]  # one batched call each
    assert len(result.segments) == n_chunks
    bounds = [(s.start, s.end) for s in result.segments]
    _check_merged(result, audio, truth, bounds)
    assert result.language == "English" and result.source.engine == "fake"


def test_several_recordings_are_batched_and_one_failure_is_isolated(fakes) -> None:
    a1, t1 = fakes.make_recording(60, seed=2)
    a2, _ = fakes.make_recording(30, seed=3)
    asr, fa = fakes.FakeTranscriber(fail_on="bad"), fakes.FakeAligner()
    results = run_pipeline(
        [
            TranscribeRequest(a1, name="good"),
            TranscribeRequest(a2, name="bad"),
            TranscribeRequest(np.zeros((2, 5), np.float32), name="stereo"),
        ],
        asr,
        fa,
        chunk_seconds=20,
    )
    assert isinstance(results[0], Alignment)
    assert isinstance(results[1], AudioError) and "bad" in str(results[1])
    assert isinstance(results[2], AudioError) and "stereo" in str(results[2])
    assert len(asr.calls) == 1 and len(fa.calls) == 1
    assert [u.text for u in results[0].units] == [f"w{k}" for k in range(60)]


def test_silent_chunk_and_silent_recording(fakes) -> None:
    audio, truth = fakes.make_recording(80, seed=4)
    asr = fakes.FakeTranscriber(silent_chunks=[1])
    (result,) = run_pipeline([TranscribeRequest(audio)], asr, fakes.FakeAligner(), chunk_seconds=20)
    assert isinstance(result, Alignment)
    words = [int(u.text[1:]) for u in result.units]
    assert words == sorted(words) and len(words) < len(truth)

    silence = np.zeros(30 * SR, np.float32)
    fa = fakes.FakeAligner()
    (empty,) = run_pipeline(
        [TranscribeRequest(silence)], fakes.FakeTranscriber(), fa, chunk_seconds=20
    )
    assert isinstance(empty, Alignment) and empty.units == () and empty.duration == 30.0
    assert fa.calls == []  # nothing to align: the aligner is not even asked


def test_chunk_with_nothing_to_time_is_kept_as_text_only(fakes) -> None:
    audio, truth = fakes.make_recording(80, seed=10)
    asr, fa = fakes.FakeTranscriber(punctuation_chunks=[2]), fakes.FakeAligner()
    (result,) = run_pipeline([TranscribeRequest(audio)], asr, fa, chunk_seconds=20)
    assert isinstance(result, Alignment)
    words = [int(u.text[1:]) for u in result.units]
    assert words == sorted(words) and 0 < len(words) < len(truth)
    assert fa.calls == [asr.calls[0]]  # the punctuation chunk was sent, and skipped


def test_text_only_keeps_chunk_times_and_language(fakes) -> None:
    audio, truth = fakes.make_recording(70, seed=5)
    (result,) = run_pipeline(
        [TranscribeRequest(audio)], fakes.FakeTranscriber(), None, chunk_seconds=20
    )
    assert isinstance(result, Transcript)
    assert result.text.replace(".", "").split() == [f"w{k}" for k in range(70)]
    assert result.language == "English"
    assert result.chunks[0].start == 0 and result.chunks[-1].end == pytest.approx(audio.size / SR)
    for a, b in zip(result.chunks, result.chunks[1:]):
        assert a.end == b.start


def test_language_the_aligner_cannot_time_names_the_file(fakes) -> None:
    audio, _ = fakes.make_recording(10, seed=6)
    (result,) = run_pipeline(
        [TranscribeRequest(audio, language="Dutch", name="talk.wav")],
        fakes.FakeTranscriber(),
        fakes.FakeAligner(refuse_language="Dutch"),
    )
    assert isinstance(result, QalignError)
    assert "talk.wav" in str(result) and "--no-align" in str(result)


def test_chunk_length_is_checked(fakes) -> None:
    with pytest.raises(ValueError, match="300"):
        run_pipeline([], fakes.FakeTranscriber(), fakes.FakeAligner(), chunk_seconds=400)
