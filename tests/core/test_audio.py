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


# --- streamed reading: probe, blocks, windows ---------------------------------------


def _stereo_44k(tmp_path):
    rng = np.random.default_rng(3)
    data = (rng.standard_normal((44100 * 5, 2)) * 0.1).clip(-1, 1)
    p = tmp_path / "st.wav"
    _write_pcm16(p, data, 44100)
    return p


def test_probe_reads_the_header_only(tmp_path):
    from qalign.audio import probe

    info = probe(_stereo_44k(tmp_path))
    assert (info.sample_rate, info.channels, info.codec) == (44100, 2, "pcm_s16le")
    assert info.duration == pytest.approx(5.0, abs=1e-3)
    with pytest.raises(AudioError, match="no such file"):
        probe(tmp_path / "missing.wav")
    (tmp_path / "t.wav").write_text("not audio at all")
    with pytest.raises(AudioError):
        probe(tmp_path / "t.wav")


def test_blocks_and_reader_equal_the_whole_decode(tmp_path):
    from qalign.audio import AudioReader, iter_blocks, read_window

    p = _stereo_44k(tmp_path)
    whole = load_audio(p)
    blocks = list(iter_blocks(p, block_seconds=1.5))
    assert [b.size for b in blocks[:-1]] == [24000] * (len(blocks) - 1)
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    reader = AudioReader(p, keep_seconds=0.5)
    for a, b in [(0.0, 1.0), (0.7, 2.2), (2.0, 4.9), (4.5, 9.0)]:
        np.testing.assert_array_equal(reader.read(a, b), whole[int(a * 16000) : int(b * 16000)])
    # Before the kept buffer: decoded again by seeking, equal up to the resampler's edge.
    early = reader.read(0.5, 1.5)
    np.testing.assert_allclose(early[800:], whole[8000 + 800 : 24000], atol=2e-3)
    seeked = read_window(p, 3.0, 4.0)
    assert seeked.size == 16000
    np.testing.assert_allclose(seeked[800:], whole[48000 + 800 : 64000], atol=2e-3)


def test_reader_divides_by_the_peak_it_is_given(tmp_path):
    from qalign.audio import AudioReader

    samples = np.linspace(-2, 2, 32000, dtype=np.float32)
    assert AudioReader(samples).read(0, 0.1).max() <= 2.0
    p = tmp_path / "f.wav"
    _write_float32(p, samples, 16000)
    reader = AudioReader(p, scale=2.0)
    np.testing.assert_allclose(reader.read(0, 2.0), load_audio(p), atol=1e-6)


def test_load_audio_with_a_limit_reads_the_header_once(tmp_path, monkeypatch) -> None:
    from qalign import audio, wav

    path = tmp_path / "one.wav"
    _write_pcm16(path, np.full(1600, 100 / 32768), 16000)
    read_header = wav.read_header
    calls = []

    def counted(*args):
        calls.append(args[0])
        return read_header(*args)

    monkeypatch.setattr(wav, "read_header", counted)
    samples = load_audio(path, max_seconds=5.0)
    assert samples.size == 1600 and calls == [path]
    with pytest.raises(audio.AudioTooLongError):
        load_audio(path, max_seconds=0.05)
