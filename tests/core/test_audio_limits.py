"""Absurd audio is refused from its header, before decoding; pipes are spooled."""

from __future__ import annotations

import struct
import wave

import numpy as np
import pytest

from qalign.audio import iter_blocks, load_audio, probe
from qalign.errors import AudioError, AudioTooLongError


def _wav(path, rate=16000, samples=None):
    samples = np.zeros(1600, np.int16) if samples is None else samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def _float_wav(path, data):
    body = data.astype(np.float32).tobytes()
    fmt = struct.pack("<IHHIIHH", 16, 3, 1, 16000, 64000, 4, 32)
    path.write_bytes(
        b"RIFF"
        + struct.pack("<I", 36 + len(body))
        + b"WAVEfmt "
        + fmt
        + b"data"
        + struct.pack("<I", len(body))
        + body
    )
    return path


@pytest.mark.parametrize("rate", [1, 100, 1_000_000])
def test_absurd_sample_rate_refused_before_decoding(tmp_path, rate):
    path = _wav(tmp_path / "bad.wav", rate, np.zeros(200_000, np.int16))
    for read in (probe, load_audio, lambda p: next(iter_blocks(p))):
        with pytest.raises(AudioError, match=rf"bad.wav: declares a sample rate of {rate} Hz"):
            read(path)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_samples_refused(tmp_path, value):
    data = np.zeros(16000, np.float32)
    data[100] = value
    path = _float_wav(tmp_path / "nan.wav", data)
    for read in (load_audio, lambda p: list(iter_blocks(p))):
        with pytest.raises(AudioError, match="nan.wav: samples contain NaN or infinity"):
            read(path)


def test_max_seconds_refused_before_decoding(tmp_path):
    path = _wav(tmp_path / "long.wav", 16000, np.zeros(16000 * 5, np.int16))
    with pytest.raises(AudioTooLongError, match="long.wav"):
        load_audio(path, max_seconds=2.0)
    assert load_audio(path, max_seconds=6.0).size == 16000 * 5
