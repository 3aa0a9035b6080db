import struct
import wave

import numpy as np
import pytest

from qalign.audio import load_audio, normalize_peak
from qalign.errors import AudioError


def _write_pcm16(path, samples: np.ndarray, rate: int) -> None:
    data = np.clip(np.round(samples * 32768), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if data.ndim == 1 else data.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())


def _write_float32(path, samples: np.ndarray, rate: int) -> None:
    payload = samples.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(payload)) + payload
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_pcm16_reads_as_int16_over_32768(tmp_path):
    rng = np.random.default_rng(0)
    ints = rng.integers(-32768, 32767, 1600).astype("<i2")
    p = tmp_path / "a.wav"
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(ints.tobytes())
    out = load_audio(p)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, ints.astype(np.float32) / 32768)


def test_stereo_is_channel_mean_not_ffmpeg_downmix(tmp_path):
    left = np.full(1600, 0.5)
    right = np.full(1600, -0.25)
    p = tmp_path / "s.wav"
    _write_pcm16(p, np.stack([left, right], axis=1), 16000)
    out = load_audio(p)
    np.testing.assert_allclose(out, 0.125, atol=1e-4)  # (L+R)/2; (L+R)/sqrt(2) would be 0.177


def test_resamples_to_16k(tmp_path):
    t = np.arange(44100) / 44100
    p = tmp_path / "44k.wav"
    _write_pcm16(p, 0.5 * np.sin(2 * np.pi * 440 * t), 44100)
    out = load_audio(p)
    assert abs(out.size - 16000) <= 2
    # Still a 440 Hz tone: the spectrum peaks at 440 Hz.
    spectrum = np.abs(np.fft.rfft(out[:16000]))
    assert abs(np.argmax(spectrum) * 16000 / 16000 - 440) <= 1


def test_peak_normalised_only_above_one(tmp_path):
    p = tmp_path / "loud.wav"
    _write_float32(p, np.array([0.1, -2.0, 1.0] * 100, dtype=np.float32), 16000)
    out = load_audio(p)
    assert np.max(np.abs(out)) == pytest.approx(1.0)
    assert out[0] == pytest.approx(0.05)
    quiet = np.array([0.5, -0.9], dtype=np.float32)
    np.testing.assert_array_equal(normalize_peak(quiet), quiet)


@pytest.mark.parametrize(
    "content, needle",
    [(None, "no such file"), (b"", "empty"), (b"this is not audio at all" * 10, "cannot decode")],
)
def test_bad_audio_gives_one_line_error_naming_file(tmp_path, content, needle):
    p = tmp_path / "x.wav"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(AudioError, match=needle) as info:
        load_audio(p)
    assert str(p) in str(info.value)
    assert "\n" not in str(info.value)


def test_real_fixture_formats(fixtures_dir):
    opus = fixtures_dir / "speech/transcript_only/mfa/13697_11991_000000.opus"
    if not opus.exists():
        pytest.skip(f"{opus} not present")
    out = load_audio(opus)
    assert out.size / 16000 == pytest.approx(14.85, abs=0.05)
