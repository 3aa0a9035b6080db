"""Plain 16-bit PCM WAV files, read without FFmpeg (no PyAV import: about 0.12 s).

:mod:`qalign.audio` decodes everything through PyAV. For the commonest input, a
RIFF/WAVE file of 16-bit integer PCM, this module reads the header and the
samples itself, giving the same numbers PyAV gives: ``int16 / 32768`` as float32,
one row per channel (averaging them is left to :mod:`qalign.audio`). It answers
only for files whose header is plain and consistent: format tag 1 (PCM), 16 bits,
1 to 64 channels, a sane rate, and a ``data`` chunk whose size is a whole number
of frames (at least one) and lies inside the file. Anything else (other sample formats,
``WAVE_FORMAT_EXTENSIBLE``, damaged or truncated headers) gets ``None`` and goes to
PyAV, which reports problems as it always has. Resampling is not done here: the
caller uses :func:`read_planar` only when the file's rate is the one it wants.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Chunks looked at before the ``data`` chunk; a header with more goes to PyAV.
MAX_CHUNKS = 64
#: Frames per piece that :func:`read_planar` yields (1 s at 16 kHz).
PIECE_FRAMES = 16000
_SCALE = np.float32(1.0 / 32768.0)


@dataclass(frozen=True, slots=True)
class PcmWav:
    """Where a 16-bit PCM WAV file's samples are.

    Attributes:
        channels: channels per frame.
        sample_rate: frames per second (Hz).
        data_offset: byte offset of the first sample.
        frames: number of frames in the ``data`` chunk.
    """

    channels: int
    sample_rate: int
    data_offset: int
    frames: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate


def read_header(path: Path, min_rate: int, max_rate: int, max_channels: int) -> PcmWav | None:
    """The file's layout when it is plain 16-bit PCM WAV with a consistent header, else ``None``."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            fmt: tuple[int, int, int, int, int] | None = None
            pos = 12
            for _ in range(MAX_CHUNKS):
                fh.seek(pos)
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                name, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if name == b"fmt ":
                    body = fh.read(16)
                    if length < 16 or len(body) < 16:
                        return None
                    tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", body)
                    fmt = (tag, channels, rate, align, bits)
                elif name == b"data":
                    if fmt is None:
                        return None
                    tag, channels, rate, align, bits = fmt
                    ok = tag == 1 and bits == 16 and 1 <= channels <= max_channels
                    ok = ok and align == 2 * channels and min_rate <= rate <= max_rate
                    if not ok or not length or length % align or pos + 8 + length > size:
                        return None
                    return PcmWav(channels, rate, pos + 8, length // align)
                pos += 8 + length + (length & 1)
    except (OSError, struct.error):
        return None
    return None


def read_planar(path: Path, wav: PcmWav, start_frame: int = 0) -> Iterator[np.ndarray]:
    """float32 pieces ``(channels, n)`` from ``start_frame`` to the end, ``int16 / 32768``."""
    frame_bytes = 2 * wav.channels
    with open(path, "rb") as fh:
        fh.seek(wav.data_offset + start_frame * frame_bytes)
        left = max(0, wav.frames - start_frame)
        while left:
            n = min(left, PIECE_FRAMES)
            raw = fh.read(n * frame_bytes)
            n = len(raw) // frame_bytes
            if not n:
                return
            ints = np.frombuffer(raw[: n * frame_bytes], dtype="<i2").reshape(n, wav.channels)
            yield ints.T.astype(np.float32) * _SCALE
            left -= n


__all__ = ["PcmWav", "read_header", "read_planar"]
