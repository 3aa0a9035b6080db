"""Model inputs for Qwen3-ForcedAligner: log-mel features, audio-token counts, input ids.

Everything here reproduces the reference pipeline (``qwen-asr`` 0.0.6 with its
Whisper feature extractor) for ONE clip at a time, so that a clip's inputs never
depend on the other clips of a batch:

* 128-bin Whisper log-mel: 16 kHz, n_fft 400 (25 ms Hann window), hop 160 (10 ms),
  centred STFT with reflect padding; a clip of ``n`` samples gives ``n // 160``
  frames. No padding to a minimum length (the reference ``align()`` pads nothing).
* The encoder turns each 100-frame chunk (1 s) into 13 audio tokens, and a final
  partial chunk of ``r`` frames into ``ceil(ceil(ceil(r / 2) / 2) / 2)`` tokens.
* The token sequence is ``<|audio_start|>``, one ``<|audio_pad|>`` per audio
  token, ``<|audio_end|>``, then each unit followed by two ``<timestamp>``
  tokens (start slot, end slot), with no separator and no chat template.

Import cost: numpy only at import; torch inside the functions. The mel filters are
computed here (:func:`slaney_mel_filters`), so features need no transformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qalign.audio import SAMPLE_RATE  # noqa: F401  (re-exported: the rate the model expects, Hz)

if TYPE_CHECKING:
    import torch

#: STFT size and hop, in samples (25 ms window, 10 ms hop).
N_FFT = 400
HOP_LENGTH = 160
#: Fewest samples a clip may have: the centred STFT reflect-pads 200 samples on each side.
MIN_SAMPLES = N_FFT // 2 + 1
#: Mel frames per encoder chunk and audio tokens per full chunk.
CHUNK_FRAMES = 100
TOKENS_PER_CHUNK = 13


def num_feature_frames(num_samples: int) -> int:
    """Log-mel frames for a clip of ``num_samples`` samples (10 ms each)."""
    return num_samples // HOP_LENGTH


def _conv_out(frames: int) -> int:
    # Three convolutions, kernel 3, stride 2, padding 1: each maps n to ceil(n / 2).
    for _ in range(3):
        frames = (frames - 1) // 2 + 1 if frames > 0 else 0
    return frames


def num_audio_tokens(num_frames: int, chunk_frames: int = CHUNK_FRAMES) -> int:
    """Audio tokens the encoder emits for ``num_frames`` mel frames (13 per full 100-frame chunk)."""
    full, rest = divmod(num_frames, chunk_frames)
    return full * _conv_out(chunk_frames) + _conv_out(rest)


def _hz_to_slaney_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear (3 mels per 200 Hz) below 1 kHz, logarithmic above."""
    mel = 3.0 * hz / 200.0
    high = hz >= 1000.0
    mel[high] = 15.0 + np.log(hz[high] / 1000.0) * (27.0 / np.log(6.4))
    return mel


def _slaney_mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_hz_to_slaney_mel`."""
    hz = 200.0 * mel / 3.0
    high = mel >= 15.0
    hz[high] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel[high] - 15.0))
    return hz


def slaney_mel_filters(
    n_mels: int, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Triangular mel filters, Slaney scale and area normalisation, ``(1 + n_fft // 2, n_mels)`` float64.

    The filters Whisper's feature extractor uses (librosa's ``filters.mel`` with
    ``norm="slaney"``, transposed): ``n_mels + 2`` edges evenly spaced in mels
    from 0 Hz to the Nyquist frequency; filter ``m`` rises from edge ``m`` to
    edge ``m + 1`` and falls to edge ``m + 2`` over the FFT bins' frequencies (Hz),
    then is scaled by ``2 / (edge[m + 2] - edge[m])`` so each has the same area.
    Computed in float64 in the same order of operations as transformers'
    ``mel_filter_bank``, so the result is bit for bit the same (tested).
    """
    edges_mel = np.linspace(
        _hz_to_slaney_mel(np.array([0.0]))[0],
        _hz_to_slaney_mel(np.array([sample_rate / 2]))[0],
        n_mels + 2,
    )
    edges = _slaney_mel_to_hz(edges_mel)
    bins = np.linspace(0, sample_rate // 2, 1 + n_fft // 2)
    widths = np.diff(edges)
    offsets = edges[None, :] - bins[:, None]  # (bins, edges): edge minus bin frequency
    rising = -offsets[:, :-2] / widths[:-1]
    falling = offsets[:, 2:] / widths[1:]
    filters = np.maximum(np.zeros(1), np.minimum(rising, falling))
    filters *= (2.0 / (edges[2 : n_mels + 2] - edges[:n_mels]))[None, :]
    return filters


@lru_cache(maxsize=4)
def _mel_filters(n_mels: int) -> torch.Tensor:
    import torch

    return torch.from_numpy(slaney_mel_filters(n_mels)).to(torch.float32)


def log_mel(audio: np.ndarray, n_mels: int = 128) -> torch.Tensor:
    """Whisper-style log-mel spectrogram of one mono 16 kHz clip.

    Args:
        audio: float samples in [-1, 1], shape ``(n,)`` with ``n >= MIN_SAMPLES``.
        n_mels: number of mel bins.

    Returns:
        float32 tensor ``(n_mels, n // 160)``: log10 power, floored at the clip's
        maximum minus 8, then mapped by ``(x + 4) / 4``.
    """
    import torch

    if audio.ndim != 1:
        raise ValueError(f"expected mono audio of shape (n,), got {audio.shape}")
    if audio.shape[0] < MIN_SAMPLES:
        raise ValueError(f"audio has {audio.shape[0]} samples; at least {MIN_SAMPLES} are needed")
    # A batch of one, as the reference computes it; the floor is per clip either way.
    wave = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None, :]
    window = torch.hann_window(N_FFT)
    stft = torch.stft(wave, N_FFT, HOP_LENGTH, window=window, return_complex=True)
    power = (stft[..., :-1].abs() ** 2).contiguous()
    mel = _mel_filters(n_mels).T @ power
    log_spec = torch.clamp(mel, min=1e-10).log10()
    floor = log_spec.max(dim=2, keepdim=True)[0].max(dim=1, keepdim=True)[0] - 8.0
    log_spec = torch.maximum(log_spec, floor)
    return ((log_spec + 4.0) / 4.0)[0]


def build_input_ids(
    unit_token_ids: Sequence[Sequence[int]],
    num_audio: int,
    *,
    audio_start_id: int,
    audio_end_id: int,
    audio_pad_id: int,
    timestamp_id: int,
) -> list[int]:
    """The aligner's token sequence for one clip.

    Args:
        unit_token_ids: token ids of each unit, tokenised on its own (the
            ``<timestamp>`` tokens between units make the tokeniser treat each unit
            as a separate piece, so this equals tokenising the joined string).
        num_audio: number of audio tokens (:func:`num_audio_tokens`).

    Returns:
        ``[start] + [pad] * num_audio + [end] + unit_1 + [ts, ts] + unit_2 + [ts, ts] ...``.
        With no units the sequence still ends in one ``[ts, ts]`` pair, as in the reference.
    """
    ids = [audio_start_id, *([audio_pad_id] * num_audio), audio_end_id]
    for unit in unit_token_ids:
        ids.extend(unit)
        ids.extend((timestamp_id, timestamp_id))
    if not unit_token_ids:
        ids.extend((timestamp_id, timestamp_id))
    return ids
