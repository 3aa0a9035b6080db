"""Cutting long audio at quiet points: tiling, limits, balance and cut placement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qalign.asr.chunking import plan_chunks

SR = 16_000


def _noise(seconds: float, seed: int = 0, level: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SR)) * level).astype(np.float32)


def _check_tiling(spans, total: int, max_seconds: float) -> None:
    assert spans[0].start == 0 and spans[-1].end == total
    for a, b in zip(spans, spans[1:]):
        assert a.end == b.start  # no gap, no overlap
        assert a.end_time == b.start_time
    for s in spans:
        assert 0 < s.num_samples <= int(max_seconds * SR)


def test_short_audio_is_one_chunk() -> None:
    audio = _noise(5)
    (span,) = plan_chunks(audio, 20)
    assert (span.start, span.end) == (0, audio.size)


@pytest.mark.parametrize("seconds", [20.5, 41, 59.9, 200, 333.3])
def test_chunks_tile_the_audio_within_the_limit(seconds: float) -> None:
    audio = _noise(seconds, seed=int(seconds))
    spans = plan_chunks(audio, 20)
    _check_tiling(spans, audio.size, 20)
    assert len(spans) == math.ceil(audio.size / (20 * SR))


def test_chunks_are_balanced_not_a_tiny_tail() -> None:
    spans = plan_chunks(_noise(41), 20)
    assert len(spans) == 3
    assert min(s.num_samples for s in spans) > 10 * SR


def test_cut_lands_in_the_silence_near_its_target() -> None:
    # 2 x 15 s of noise with 0.4 s of silence at 16 s..16.4 s: the only quiet stretch
    # within reach of the balanced cut at ~15.2 s.
    audio = np.concatenate([_noise(16, 1), np.zeros(int(0.4 * SR), np.float32), _noise(14, 2)])
    spans = plan_chunks(audio, 20)
    assert len(spans) == 2
    cut = spans[0].end / SR
    assert 16.0 <= cut <= 16.4


def test_cut_prefers_the_quietest_stretch() -> None:
    audio = _noise(30, 3)
    audio[int(13 * SR) : int(13.5 * SR)] *= 0.1  # quieter
    audio[int(17 * SR) : int(17.5 * SR)] *= 0.01  # quietest
    spans = plan_chunks(audio, 20)
    assert 17.0 <= spans[0].end / SR <= 17.5


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="below the minimum"):
        plan_chunks(_noise(3), 0.5)
    with pytest.raises(ValueError, match="mono"):
        plan_chunks(np.zeros((2, 100), np.float32), 20)


def test_empty_audio_gives_one_empty_chunk() -> None:
    (span,) = plan_chunks(np.zeros(0, np.float32), 20)
    assert span.num_samples == 0
