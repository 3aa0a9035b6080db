"""Corpora built on the fly, and a fake engine that times words evenly (fast, exact)."""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from qalign.aligner.base import Aligner, AlignRequest
from qalign.alignment import Alignment, Source, Unit
from qalign.errors import AudioError, QalignError, TranscriptError

RATE = 16000


def write_wav(path: Path, seconds: float, freq: float = 220.0) -> Path:
    """A mono 16-bit tone of ``seconds`` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * RATE)) / RATE
    pcm = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return path


class EvenAligner(Aligner):
    """Each word gets an equal share of the audio; the word "UNALIGNED" gets that status.

    ``calls`` records the size of every ``align_batch`` call; ``loads`` counts instances.
    """

    name = "even"
    loads = 0

    def __init__(self) -> None:
        type(self).loads += 1
        self.calls: list[int] = []

    def align_batch(self, requests: Sequence[AlignRequest]) -> list[Alignment | QalignError]:
        self.calls.append(len(requests))
        out: list[Alignment | QalignError] = []
        for r in requests:
            samples = np.asarray(r.audio)
            words = [w for w in r.transcript.split() if any(c.isalnum() for c in w)]
            if not words:
                out.append(TranscriptError(r.label, "has no words to align"))
                continue
            if samples.size < 400:
                out.append(AudioError(r.label, "audio is too short"))
                continue
            duration = samples.size / RATE
            step = duration / len(words)
            units = tuple(
                Unit(
                    w,
                    w.lower(),
                    i * step,
                    (i + 1) * step,
                    0.5 if w == "UNALIGNED" else 0.9,
                    status="unaligned" if w == "UNALIGNED" else "aligned",
                )
                for i, w in enumerate(words)
            )
            out.append(
                Alignment(units, duration=duration, language="English", source=Source("even"))
            )
        return out


@pytest.fixture()
def even_engine(monkeypatch: pytest.MonkeyPatch) -> type[EvenAligner]:
    """Make every corpus worker use :class:`EvenAligner`."""
    EvenAligner.loads = 0
    monkeypatch.setattr("qalign.aligner.engines.create_aligner", lambda *a, **k: EvenAligner())
    return EvenAligner


UTTERANCE_GRID = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 4
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "anna"
        xmin = 0
        xmax = 4
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 0.5
            text = ""
        intervals [2]:
            xmin = 0.5
            xmax = 2.5
            text = "hello there my friend"
        intervals [3]:
            xmin = 2.5
            xmax = 4
            text = ""
    item [2]:
        class = "IntervalTier"
        name = "ben"
        xmin = 0
        xmax = 4
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 2
            text = ""
        intervals [2]:
            xmin = 2
            xmax = 3.5
            text = "good morning"
        intervals [3]:
            xmin = 3.5
            xmax = 4
            text = ""
"""


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """Speaker folders, a two-speaker TextGrid, a broken and an empty file among good ones."""
    root = tmp_path / "corpus"
    write_wav(root / "spk1" / "a.wav", 1.0)
    (root / "spk1" / "a.lab").write_text("one two three UNALIGNED\n")
    write_wav(root / "spk1" / "b.wav", 2.0)
    (root / "spk1" / "b.lab").write_text("four five\n")
    write_wav(root / "spk2" / "c.wav", 3.0)
    (root / "spk2" / "c.txt").write_text("six seven eight\n")
    write_wav(root / "meeting.wav", 4.0)
    (root / "meeting.TextGrid").write_text(UTTERANCE_GRID)
    (root / "spk2" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    (root / "spk2" / "broken.lab").write_text("never aligned\n")
    write_wav(root / "empty.wav", 1.0)
    (root / "empty.lab").write_text("")
    return root


@pytest.fixture()
def make_wav():
    """:func:`write_wav`, for tests that build their own corpus."""
    return write_wav
