"""qalign.aligner.qwen3.features: the mel filters are ours and equal the reference's bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from qalign.aligner.qwen3.features import N_FFT, slaney_mel_filters


@pytest.mark.parametrize("n_mels", [40, 80, 128])
def test_mel_filters_equal_transformers_bit_for_bit(n_mels: int) -> None:
    audio_utils = pytest.importorskip("transformers.audio_utils")
    want = audio_utils.mel_filter_bank(
        num_frequency_bins=1 + N_FFT // 2,
        num_mel_filters=n_mels,
        min_frequency=0.0,
        max_frequency=8000.0,
        sampling_rate=16000,
        norm="slaney",
        mel_scale="slaney",
    )
    got = slaney_mel_filters(n_mels)
    assert got.dtype == want.dtype == np.float64
    assert got.shape == want.shape == (201, n_mels)
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))


def test_mel_filters_shape_of_a_triangle() -> None:
    filters = slaney_mel_filters(128)
    assert (filters >= 0).all()
    # every filter is non-zero somewhere, on one contiguous run of bins, rising then falling
    for column in filters.T:
        nonzero = np.flatnonzero(column)
        assert nonzero.size and np.all(np.diff(nonzero) == 1)
        peak = int(np.argmax(column))
        assert np.all(np.diff(column[nonzero[0] : peak + 1]) >= 0)
        assert np.all(np.diff(column[peak : nonzero[-1] + 1]) <= 0)
    # Slaney normalisation: filters get lower as they widen (higher frequencies)
    assert filters[:, -1].max() < filters[:, 0].max()
