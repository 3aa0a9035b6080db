"""Fakes for the two models, shared by the ASR pipeline and CLI tests.

The synthetic recording is a series of noise bursts ("words") separated by
silences; burst ``k`` has its own loudness, so :class:`FakeTranscriber` can name
the words it hears in any chunk (``w17``) and :class:`FakeAligner` can time
them. A cut inside a burst would make both neighbouring chunks hear that word,
and the merged result would hold it twice.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from qalign.aligner.base import Aligner, AlignRequest
from qalign.alignment import Alignment, Segment, Source, Unit
from qalign.asr.base import Transcriber, TranscribeRequest, Transcript, TranscriptChunk
from qalign.errors import AudioError, LanguageError, QalignError, TranscriptError

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

    def __init__(
        self,
        silent_chunks: Sequence[int] = (),
        fail_on: str | None = None,
        punctuation_chunks: Sequence[int] = (),
    ) -> None:
        self.calls: list[int] = []
        self.silent_chunks = set(silent_chunks)
        self.punctuation_chunks = set(punctuation_chunks)
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
            if i in self.punctuation_chunks:
                text = "♪ …"
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
            if not any(ch.isalnum() for ch in req.transcript):
                out.append(TranscriptError(req.label, "transcript has no letters or digits"))
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


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """Write mono 16 kHz PCM16."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    return path


@pytest.fixture()
def fakes() -> SimpleNamespace:
    """The fake models and recording helpers."""
    return SimpleNamespace(
        SR=SR,
        FakeTranscriber=FakeTranscriber,
        FakeAligner=FakeAligner,
        make_recording=make_recording,
        write_wav=write_wav,
    )
