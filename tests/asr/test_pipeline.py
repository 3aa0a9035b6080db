"""Transcribe-then-align on long audio, with small fakes for the two models.

The synthetic recording is a series of noise bursts ("words") separated by
silences; burst ``k`` has its own loudness, so a fake recogniser can name the
words it hears in any chunk (``w17``) and a fake aligner can time them. A cut
inside a burst would make both neighbouring chunks hear that word: the merged
result would then hold it twice, which the tests would catch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from qalign.aligner.base import Aligner, AlignRequest
from qalign.alignment import Alignment, Segment, Source, Unit
from qalign.asr.base import Transcriber, TranscribeRequest, Transcript, TranscriptChunk
from qalign.asr.pipeline import AlignedChunk, join_texts, merge_chunks, run_pipeline
from qalign.errors import AudioError, LanguageError, QalignError

SR = 16_000
THRESHOLD = 0.02


def _bursts(samples: np.ndarray) -> list[tuple[int, int]]:
    loud = np.abs(samples) > THRESHOLD
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(np.int8), [0]))))
    return list(zip(edges[::2], edges[1::2]))


def _word_id(samples: np.ndarray) -> int:
    return int(round((np.abs(samples).max() - 0.1) / 0.002))


def make_recording(n_words: int, seed: int = 0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Words ``w0..`` as constant-level bursts with random lengths and gaps; returns truth times."""
    rng = np.random.default_rng(seed)
    pieces = [np.zeros(int(0.3 * SR), np.float32)]
    truth = []
    pos = pieces[0].size
    for k in range(n_words):
        n = int(rng.uniform(0.25, 0.8) * SR)
        level = 0.1 + 0.002 * k
        burst = (np.sign(rng.standard_normal(n)) * level).astype(np.float32)
        gap = np.zeros(int(rng.uniform(0.15, 0.6) * SR), np.float32)
        pieces += [burst, gap]
        truth.append((pos / SR, (pos + n) / SR))
        pos += n + gap.size
    return np.concatenate(pieces), truth


class FakeTranscriber(Transcriber):
    name = "fake-asr"
    max_seconds = 1200.0

    def __init__(self, silent_chunks: Sequence[int] = (), fail_on: str | None = None) -> None:
        self.calls: list[int] = []
        self.silent_chunks = set(silent_chunks)
        self.fail_on = fail_on
        self.model_name = "fake"

    def transcribe_batch(self, requests: Sequence[TranscribeRequest]):
        self.calls.append(len(requests))
        out: list[Transcript | QalignError] = []
        for i, req in enumerate(requests):
            if self.fail_on and self.fail_on in req.label:
                out.append(AudioError(req.label, "cannot be transcribed"))
                continue
            audio = np.asarray(req.audio)
            words = (
                []
                if i in self.silent_chunks
                else [f"w{_word_id(audio[a:b])}" for a, b in _bursts(audio)]
            )
            text = " ".join(words) + ("." if words else "")
            duration = audio.size / SR
            lang = req.language or ("English" if words else None)
            out.append(
                Transcript(text, lang, duration, (TranscriptChunk(0, duration, text, lang),))
            )
        return out


class FakeAligner(Aligner):
    name = "fake"

    def __init__(self, refuse_language: str | None = None) -> None:
        self.calls: list[int] = []
        self.refuse_language = refuse_language

    def align_batch(self, requests: Sequence[AlignRequest]):
        self.calls.append(len(requests))
        out: list[Alignment | QalignError] = []
        for req in requests:
            if req.language == self.refuse_language:
                out.append(LanguageError(req.language, ("English",)))
                continue
            audio = np.asarray(req.audio)
            spans = _bursts(audio)
            words = req.transcript.rstrip(".").split()
            assert len(words) == len(spans), (req.name, words, spans)
            units, cursor = [], 0
            for word, (a, b) in zip(words, spans):
                start = req.transcript.index(word, cursor)
                cursor = start + len(word)
                units.append(Unit(word, word, a / SR, b / SR, None, start, cursor))
            seg = Segment(req.transcript, units[0].start, units[-1].end, 0, len(units))
            out.append(
                Alignment(tuple(units), (seg,), audio.size / SR, req.language, Source("fake", "fa"))
            )
        return out


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


def test_long_recording_merges_into_one_alignment() -> None:
    audio, truth = make_recording(260, seed=1)
    assert audio.size / SR > 180  # several minutes
    asr, fa = FakeTranscriber(), FakeAligner()
    (result,) = run_pipeline([TranscribeRequest(audio, name="long")], asr, fa, chunk_seconds=20)
    assert isinstance(result, Alignment)
    n_chunks = asr.calls[0]
    assert n_chunks >= 9 and fa.calls == [n_chunks]  # one batched call each
    assert len(result.segments) == n_chunks
    bounds = [(s.start, s.end) for s in result.segments]
    _check_merged(result, audio, truth, bounds)
    assert result.language == "English" and result.source.engine == "fake"


def test_several_recordings_are_batched_and_one_failure_is_isolated() -> None:
    a1, t1 = make_recording(60, seed=2)
    a2, _ = make_recording(30, seed=3)
    asr, fa = FakeTranscriber(fail_on="bad"), FakeAligner()
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


def test_silent_chunk_and_silent_recording() -> None:
    audio, truth = make_recording(80, seed=4)
    asr = FakeTranscriber(silent_chunks=[1])
    (result,) = run_pipeline([TranscribeRequest(audio)], asr, FakeAligner(), chunk_seconds=20)
    assert isinstance(result, Alignment)
    words = [int(u.text[1:]) for u in result.units]
    assert words == sorted(words) and len(words) < len(truth)

    silence = np.zeros(30 * SR, np.float32)
    fa = FakeAligner()
    (empty,) = run_pipeline([TranscribeRequest(silence)], FakeTranscriber(), fa, chunk_seconds=20)
    assert isinstance(empty, Alignment) and empty.units == () and empty.duration == 30.0
    assert fa.calls == []  # nothing to align: the aligner is not even asked


def test_text_only_keeps_chunk_times_and_language() -> None:
    audio, truth = make_recording(70, seed=5)
    (result,) = run_pipeline([TranscribeRequest(audio)], FakeTranscriber(), None, chunk_seconds=20)
    assert isinstance(result, Transcript)
    assert result.text.replace(".", "").split() == [f"w{k}" for k in range(70)]
    assert result.language == "English"
    assert result.chunks[0].start == 0 and result.chunks[-1].end == pytest.approx(audio.size / SR)
    for a, b in zip(result.chunks, result.chunks[1:]):
        assert a.end == b.start


def test_language_the_aligner_cannot_time_names_the_file() -> None:
    audio, _ = make_recording(10, seed=6)
    (result,) = run_pipeline(
        [TranscribeRequest(audio, language="Dutch", name="talk.wav")],
        FakeTranscriber(),
        FakeAligner(refuse_language="Dutch"),
    )
    assert isinstance(result, QalignError)
    assert "talk.wav" in str(result) and "--no-align" in str(result)


def test_chunk_length_is_checked() -> None:
    with pytest.raises(ValueError, match="300"):
        run_pipeline([], FakeTranscriber(), FakeAligner(), chunk_seconds=400)


def test_join_texts_spacing() -> None:
    assert join_texts(["Hello there.", "", "Next one."]) == ("Hello there. Next one.", [0, 12, 13])
    assert join_texts(["你好。", "世界"]) == ("你好。世界", [0, 3])
    assert join_texts(["東京", "Tokyo"])[0] == "東京 Tokyo"


def test_merge_clamps_times_into_each_chunk() -> None:
    # An aligner answer that overshoots its chunk must not cross the cut.
    over = Alignment((Unit("a", "a", 0.5, 2.0),), (), 2.0, "English", Source("x"))
    nxt = Alignment((Unit("b", "b", 0.0, 0.5),), (), 1.0, "English", Source("x"))
    merged = merge_chunks(
        [AlignedChunk(0.0, 1.5, "a", over), AlignedChunk(1.5, 2.5, "b", nxt)], 2.5
    )
    assert [(u.start, u.end) for u in merged.units] == [(0.5, 1.5), (1.5, 2.0)]
