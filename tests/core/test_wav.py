"""qalign.wav: plain PCM WAV read without PyAV gives PyAV's numbers, and anything else goes to PyAV."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from qalign import audio
from qalign.wav import read_header

REPO = Path(__file__).resolve().parents[2]


def _wav(path: Path, samples: np.ndarray, rate: int, extra: bytes = b"") -> Path:
    """A 16-bit PCM WAV; ``samples`` is (frames, channels) int16; ``extra`` goes before data."""
    frames, channels = samples.shape
    data = samples.astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + extra
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def _via_av(monkeypatch, fn, *args):
    with monkeypatch.context() as m:
        m.setattr(audio, "_plain_wav", lambda p: None)
        return fn(*args)


def _same_everywhere(path: Path, monkeypatch) -> None:
    assert read_header(path, 2000, 768_000, 64) is not None
    assert audio.probe(path) == _via_av(monkeypatch, audio.probe, path)
    ours = audio.load_audio(path)
    theirs = _via_av(monkeypatch, audio.load_audio, path)
    assert ours.dtype == theirs.dtype == np.float32 and np.array_equal(ours, theirs)
    blocks = list(audio.iter_blocks(path, 0.7))
    assert [b.size for b in blocks] == [
        b.size for b in _via_av(monkeypatch, lambda: list(audio.iter_blocks(path, 0.7)))
    ]
    for start, end in ((0.0, 0.2), (0.25, 0.5), (0.5, 0.9)):
        got = audio.read_window(path, start, end)
        want = _via_av(monkeypatch, audio.read_window, path, start, end)
        assert np.array_equal(got, want), (start, end)


def test_shipped_and_parity_wavs_read_as_pyav_reads_them(shared_dir: Path, monkeypatch) -> None:
    files = [REPO / "examples" / "hello.wav"]
    files += sorted((shared_dir / "parity" / "audio").glob("*.wav"))[:4]
    for path in files:
        _same_everywhere(path, monkeypatch)


def test_stereo_and_extra_chunks(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(3)
    stereo = rng.integers(-32768, 32767, size=(16000, 2), dtype=np.int16)
    _same_everywhere(_wav(tmp_path / "stereo.wav", stereo, 16000), monkeypatch)
    odd = b"LIST" + struct.pack("<I", 5) + b"abcde" + b"\0"  # an odd-sized chunk and its pad byte
    _same_everywhere(_wav(tmp_path / "list.wav", stereo[:, :1], 16000, odd), monkeypatch)


def test_other_rates_are_probed_here_and_resampled_by_pyav(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(4)
    path = _wav(tmp_path / "8k.wav", rng.integers(-3000, 3000, (8000, 1), dtype=np.int16), 8000)
    assert audio.probe(path) == _via_av(monkeypatch, audio.probe, path)
    assert np.array_equal(audio.load_audio(path), _via_av(monkeypatch, audio.load_audio, path))


@pytest.mark.parametrize(
    "damage",
    ["truncated", "float", "no fmt", "not riff", "empty data", "cut in fmt"],
)
def test_anything_unusual_goes_to_pyav(tmp_path: Path, damage: str) -> None:
    samples = np.zeros((1600, 1), np.int16)
    path = _wav(tmp_path / "x.wav", samples, 16000)
    raw = bytearray(path.read_bytes())
    if damage == "truncated":
        raw = raw[:-100]
    elif damage == "float":
        raw[20:22] = struct.pack("<H", 3)
    elif damage == "empty data":  # a streamed header (size unknown): FFmpeg's rules apply
        raw = raw[:40] + struct.pack("<I", 0) + raw[44:]
    elif damage == "cut in fmt":  # the file ends inside the fmt chunk
        raw = raw[:30]
    elif damage == "no fmt":
        raw[12:16] = b"junk"
    else:
        raw[:4] = b"RIFX"
    path.write_bytes(bytes(raw))
    assert read_header(path, 2000, 768_000, 64) is None
