"""silero-vad's speech probabilities (``qalign.aligner.longform.vad``)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("silero_vad", reason="silero-vad is not installed")
pytest.importorskip("torch")

from qalign.aligner.longform import vad  # noqa: E402


def _speechlike(seconds: float) -> np.ndarray:
    """Bursts of harmonic tone with pauses between, plus a little noise (16 kHz)."""
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * 16000)) / 16000
    voiced = (np.sin(2 * np.pi * 0.7 * t) > 0).astype(np.float32)
    tone = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 560), 1))
    return (0.3 * voiced * tone + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def _probabilities(audio: np.ndarray, blocks: int) -> np.ndarray:
    detector = vad.SpeechDetector.create()
    assert detector is not None
    step = -(-audio.size // blocks)
    parts = [detector.feed(audio[i : i + step]) for i in range(0, audio.size, step)]
    return np.concatenate(parts)


def test_the_unoptimised_graph_gives_the_optimised_probabilities(monkeypatch) -> None:
    audio = _speechlike(20.0)
    plain = _probabilities(audio, blocks=2)
    monkeypatch.setattr(vad, "OPTIMIZE_GRAPH", True)
    optimised = _probabilities(audio, blocks=2)
    assert plain.shape == optimised.shape == (2000,)
    assert np.array_equal(plain, optimised)
    assert plain.max() > 0.5 > plain.min()  # it heard the bursts and the pauses apart
