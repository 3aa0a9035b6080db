"""Audio input: any file FFmpeg decodes → mono float32 samples at 16 kHz.

Decoding goes through PyAV (``av``), which bundles its own FFmpeg: no system
package is needed, and it was the fastest candidate measured on our machines
for wav, flac, mp3, m4a and opus. Plain 16-bit PCM WAV is read by
:mod:`qalign.wav` instead (at the target rate; other rates are only probed
there): the same numbers, without importing PyAV. The preparation matches the reference
implementation: channels are averaged (the plain mean, not FFmpeg's
(L+R)/sqrt(2) downmix), the signal is resampled to the target rate, and it is
divided by its peak only when the peak exceeds 1.0. 16-bit PCM becomes
``int16 / 32768``.

Three ways in, for three memory budgets:

* :func:`load_audio` decodes the whole file into one array (short clips).
* :func:`probe` reads the container's header only: duration, sample rate and
  channels, before anything is decoded, so absurd inputs can be refused cheaply.
* :func:`iter_blocks` streams the file in blocks of a fixed length, and
  :class:`AudioReader` serves windows ``[start, end)`` in (mostly) increasing
  order from a bounded buffer; :func:`read_window` decodes one window by
  seeking. Memory for these is bounded by the block or window asked for, not
  by the file. Streamed samples equal :func:`load_audio`'s sample for sample
  (same decoder and resampler state); only the peak division, which needs the
  whole file, is left to the caller (``AudioReader(scale=...)``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qalign.errors import AudioError, AudioTooLongError

if TYPE_CHECKING:
    from qalign.wav import PcmWav

logger = logging.getLogger("qalign")

SAMPLE_RATE = 16000

MIN_SAMPLE_RATE = 2000
"""Hz: a stream declaring a lower rate is refused before decoding (a header claiming
1 Hz would otherwise be resampled into billions of samples)."""

MAX_SAMPLE_RATE = 768_000
"""Hz: the highest rate audio interfaces record; a higher declared rate is refused."""

MAX_CHANNELS = 64
"""A stream declaring more channels is refused before decoding."""


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about an audio file, before decoding.

    Attributes:
        duration: length in seconds as the container declares it (exact for
            WAV/FLAC; an estimate for some compressed streams; 0.0 when unknown).
        sample_rate: the stream's own sample rate in Hz.
        channels: number of channels.
        codec: the codec name (``pcm_s16le``, ``mp3``...).
    """

    duration: float
    sample_rate: int
    channels: int
    codec: str


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise AudioError(p, "no such file")
    if p.is_dir():
        raise AudioError(p, "is a folder, not an audio file")
    if p.stat().st_size == 0:
        import stat

        if not stat.S_ISREG(p.stat().st_mode):
            raise AudioError(
                p,
                "is a pipe or device; align and transcribe read those, elsewhere save it to a file",
            )
        raise AudioError(p, "is empty (0 bytes)")
    return p


def _av() -> Any:
    try:
        import av
    except ImportError:  # pragma: no cover - av is a core dependency
        raise AudioError("<audio>", "audio decoding needs PyAV: pip install av") from None
    return av


def _plain_wav(p: Path) -> PcmWav | None:
    """The layout of a plain 16-bit PCM WAV file (read without PyAV), else ``None``."""
    from qalign.wav import read_header

    return read_header(p, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE, MAX_CHANNELS)


def _check_stream(p: Path, stream: Any) -> None:
    """Refuse a stream whose declared sample rate or channel count is absurd, before any
    decoding (see :data:`MIN_SAMPLE_RATE`, :data:`MAX_SAMPLE_RATE`, :data:`MAX_CHANNELS`)."""
    ctx = stream.codec_context
    rate, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
    if rate and not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            p,
            f"declares a sample rate of {rate} Hz; qalign reads {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz "
            "(is the header damaged?)",
        )
    if channels > MAX_CHANNELS:
        raise AudioError(p, f"declares {channels} channels; qalign reads at most {MAX_CHANNELS}")


def _decode_errors(av: Any) -> tuple[type[BaseException], ...]:
    return (av.error.FFmpegError, OSError, ValueError, EOFError)


def probe(path: str | Path) -> AudioInfo:
    """Duration, sample rate and channels of ``path`` from its container header (no decoding).

    Raises:
        AudioError: the file is missing, empty, not audio or has no audio stream.
    """
    p = _check_path(path)
    return _probe(p, _plain_wav(p))


def _probe(p: Path, pcm: PcmWav | None) -> AudioInfo:
    """:func:`probe` for a checked path whose plain-WAV layout (:func:`_plain_wav`) is read."""
    if pcm is not None:
        return AudioInfo(pcm.duration, pcm.sample_rate, pcm.channels, "pcm_s16le")
    av = _av()
    try:
        with av.open(str(p), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(p, "has no audio stream")
            stream = container.streams.audio[0]
            _check_stream(p, stream)
            ctx = stream.codec_context
            duration = 0.0
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000  # AV_TIME_BASE
            return AudioInfo(
                duration=max(0.0, duration),
                sample_rate=int(ctx.sample_rate or 0),
                channels=int(ctx.channels or 1),
                codec=str(ctx.name or "?"),
            )
    except AudioError:
        raise
    except _decode_errors(av) as exc:
        raise AudioError(p, f"cannot decode audio ({_short(exc)})") from None


def _frames(
    p: Path, pcm: PcmWav | None, sample_rate: int, start: float = 0.0
) -> Iterator[np.ndarray]:
    """Mono float32 pieces at ``sample_rate``, from ``start`` s (seeking when > 0); ``pcm``:
    the file's plain-WAV layout (:func:`_plain_wav`), read by the caller."""
    if pcm is not None and pcm.sample_rate == sample_rate:  # the same numbers, without FFmpeg
        from qalign.wav import read_planar

        first = int(round(start * sample_rate)) if start > 0 else 0
        for planar in read_planar(p, pcm, first):
            yield _mono(planar)
        return
    av = _av()
    try:
        with av.open(str(p), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(p, "has no audio stream")
            stream = container.streams.audio[0]
            _check_stream(p, stream)
            stream.thread_type = "AUTO"
            # Keep the channels through the resampler and average afterwards:
            # the resampler is linear, so mean-then-resample == resample-then-mean,
            # and this avoids FFmpeg's own downmix coefficients.
            layout = stream.codec_context.layout.name if stream.codec_context.layout else None
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
            skip = 0
            if start > 0:
                container.seek(int(start / stream.time_base), stream=stream, backward=True)
                skip = None  # set from the first decoded frame's time
            for frame in container.decode(stream):
                if skip is None:
                    first = float(frame.pts * stream.time_base) if frame.pts is not None else 0.0
                    skip = max(0, int(round((start - first) * sample_rate)))
                for out in resampler.resample(frame):
                    piece = _mono(out.to_ndarray())
                    if skip:
                        cut = min(skip, piece.size)
                        piece, skip = piece[cut:], skip - cut
                    if piece.size:
                        yield piece
            for out in resampler.resample(None):
                piece = _mono(out.to_ndarray())
                if skip:
                    cut = min(skip, piece.size)
                    piece, skip = piece[cut:], skip - cut
                if piece.size:
                    yield piece
    except AudioError:
        raise
    except _NonFinite:
        raise AudioError(p, "samples contain NaN or infinity") from None
    except _decode_errors(av) as exc:
        raise AudioError(p, f"cannot decode audio ({_short(exc)})") from None


def _mono(planar: np.ndarray) -> np.ndarray:
    if planar.shape[0] > 1:
        mono = planar.mean(axis=0, dtype=np.float64).astype(np.float32)
    else:
        mono = np.ascontiguousarray(planar[0], dtype=np.float32)
    if not np.isfinite(mono).all():  # float WAVs can hold them; every path refuses them alike
        raise _NonFinite()
    return mono


class _NonFinite(Exception):
    """Raised inside decoding; becomes the AudioError that names the file."""


def load_audio(
    path: str | Path, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None
) -> np.ndarray:
    """Decode ``path`` whole to a 1-D float32 array at ``sample_rate`` Hz (peak-normalised).

    With ``max_seconds``, audio longer than that is refused from the container's
    declared duration before decoding, and decoding stops as soon as it passes the
    limit (a header may understate the length): memory stays within ``max_seconds``.

    Raises:
        AudioError: the file is missing, not audio, corrupt or holds no samples.
        AudioTooLongError: longer than ``max_seconds``.
    """
    p = _check_path(path)
    pcm = _plain_wav(p)  # read once: the duration check and the decoding both use it
    if max_seconds is not None:
        declared = _probe(p, pcm).duration
        if declared > max_seconds:
            raise AudioTooLongError(p, declared, max_seconds)
    chunks = []
    held, most = 0, None if max_seconds is None else int(max_seconds * sample_rate) + 1
    for piece in _frames(p, pcm, sample_rate):
        chunks.append(piece)
        held += piece.size
        if most is not None and held > most:
            raise AudioTooLongError(p, held / sample_rate, float(max_seconds or 0))
    if not chunks or sum(c.size for c in chunks) == 0:
        raise AudioError(p, "holds no audio samples")
    samples = np.concatenate(chunks)
    logger.debug("loaded %s: %d samples at %d Hz", p, samples.size, sample_rate)
    return normalize_peak(samples)


def iter_blocks(
    path: str | Path, block_seconds: float = 30.0, sample_rate: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Stream ``path`` as consecutive mono float32 blocks of ``block_seconds`` (the last may be shorter).

    Samples are not peak-normalised (see :class:`AudioReader`). Memory: one block
    plus one decoded frame, whatever the file's length.

    Raises:
        AudioError: the file is missing, not audio or corrupt (raised when reached).
    """
    p = _check_path(path)
    size = max(1, int(round(block_seconds * sample_rate)))
    pending: list[np.ndarray] = []
    held = 0
    for piece in _frames(p, _plain_wav(p), sample_rate):
        pending.append(piece)
        held += piece.size
        while held >= size:
            joined = np.concatenate(pending)
            yield joined[:size]
            rest = joined[size:]
            pending, held = ([rest] if rest.size else []), rest.size
    if held:
        yield np.concatenate(pending)


def read_window(
    path: str | Path, start: float, end: float, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Samples of ``[start, end)`` seconds of ``path``, decoded by seeking (not peak-normalised).

    Raises:
        AudioError: unreadable file, or ``end < start``.
    """
    p = _check_path(path)
    if not 0 <= start <= end:
        raise AudioError(p, f"bad window {start}..{end} s")
    want = int(round((end - start) * sample_rate))
    out: list[np.ndarray] = []
    got = 0
    for piece in _frames(p, _plain_wav(p), sample_rate, start):
        out.append(piece[: want - got])
        got += out[-1].size
        if got >= want:
            break
    return np.concatenate(out) if out else np.zeros(0, np.float32)


class AudioReader:
    """Windows of one audio source, read forward from a bounded buffer.

    Args:
        source: a file path (streamed) or mono float32 samples (used as given).
        scale: divide every sample by this (the file's peak when it exceeds 1.0).
        keep_seconds: audio kept behind the latest window start for re-reads.

    :meth:`read` accepts any window; one starting before the buffer is decoded
    again by seeking (slow, but correct). Memory: the longest window read plus
    ``keep_seconds``.
    """

    def __init__(
        self, source: str | Path | np.ndarray, *, scale: float = 1.0, keep_seconds: float = 60.0
    ) -> None:
        self.scale = scale if scale > 1.0 else 1.0
        self._keep = int(keep_seconds * SAMPLE_RATE)
        self._array: np.ndarray | None = None
        self._path: Path | None = None
        if isinstance(source, np.ndarray):
            self._array = source
        else:
            self._path = _check_path(source)
            self._stream: Iterator[np.ndarray] = _frames(
                self._path, _plain_wav(self._path), SAMPLE_RATE
            )
            self._buf = np.zeros(0, np.float32)
            self._buf_start = 0  # sample index of _buf[0]
            self._done = False

    def read(self, start: float, end: float) -> np.ndarray:
        """Samples of ``[start, end)`` seconds (shorter at the end of the audio)."""
        a, b = int(round(start * SAMPLE_RATE)), int(round(end * SAMPLE_RATE))
        if self._array is not None:
            return self._array[a:b]
        if a < self._buf_start:
            assert self._path is not None
            return self._scaled(read_window(self._path, a / SAMPLE_RATE, b / SAMPLE_RATE))
        while not self._done and self._buf_start + self._buf.size < b:
            try:
                piece = next(self._stream)
            except StopIteration:
                self._done = True
                break
            self._buf = np.concatenate([self._buf, piece])
        out = self._scaled(self._buf[a - self._buf_start : b - self._buf_start])
        drop = max(0, a - self._keep - self._buf_start)
        if drop:
            self._buf = self._buf[drop:].copy()
            self._buf_start += drop
        return out

    def _scaled(self, samples: np.ndarray) -> np.ndarray:
        if self.scale > 1.0:
            return (samples / self.scale).astype(np.float32)
        return np.array(samples, dtype=np.float32)


def normalize_peak(samples: np.ndarray) -> np.ndarray:
    """Divide by the absolute peak when it exceeds 1.0 (as the reference does); else unchanged."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > 1.0:
        return (samples / peak).astype(np.float32)
    return samples


def source_label(audio: object, name: str | None = None) -> str:
    """How messages name an audio input: ``name``, else the path, else ``<array>``."""
    if name:
        return name
    return str(audio) if isinstance(audio, (str, Path)) else "<array>"


def _short(exc: BaseException) -> str:
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
