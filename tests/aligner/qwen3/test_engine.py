"""The Qwen3 engine: inputs, per-item errors, batches, the Alignment it builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qalign.aligner.qwen3.features import (
    HOP_LENGTH,
    MIN_SAMPLES,
    build_input_ids,
    num_audio_tokens,
    num_feature_frames,
)

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from qalign.aligner.base import AlignRequest  # noqa: E402
from qalign.aligner.qwen3 import DEFAULT_MAX_DURATION, Qwen3Aligner  # noqa: E402
from qalign.aligner.qwen3.features import log_mel  # noqa: E402
from qalign.alignment import Alignment  # noqa: E402
from qalign.audio import load_audio  # noqa: E402
from qalign.errors import (  # noqa: E402
    AudioError,
    AudioTooLongError,
    LanguageError,
    QalignError,
    TranscriptError,
)

ARCTIC = "audio/en_arctic.wav"  # 3.1 s of English
ZH = "audio/zh_aishell3.wav"  # 5.4 s of Chinese


@pytest.fixture(scope="module")
def engine(parity_dir: Path) -> Qwen3Aligner:
    return Qwen3Aligner.from_pretrained(parity_dir / "fa-tiny-hf", device="cpu", dtype="fp32")


# -- inputs ---------------------------------------------------------------------------


def test_frame_and_token_counts_follow_the_reference(parity_dir: Path) -> None:
    with open(parity_dir / "fa_cases.jsonl", encoding="utf-8") as f:
        cases = [json.loads(line) for line in f]
    for case in cases:
        if case["batch_id"] is None:
            assert num_feature_frames(case["audio_num_samples"]) == case["n_feature_frames"]
        assert num_audio_tokens(case["n_feature_frames"]) == case["n_audio_tokens"]
    assert num_audio_tokens(0) == 0
    # a full chunk gives 13 tokens; adding one frame opens a new chunk
    assert num_audio_tokens(200) == 2 * num_audio_tokens(100)
    assert num_audio_tokens(101) == num_audio_tokens(100) + 1


def test_log_mel_shape_and_range() -> None:
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16_000 + 77)).astype(np.float32)
    mel = log_mel(audio)
    assert mel.shape == (128, (16_000 + 77) // HOP_LENGTH)
    assert mel.dtype == torch.float32
    # floored at the maximum minus 8 (log10 units), then scaled by 1/4
    assert float(mel.max() - mel.min()) <= 2.0 + 1e-6
    with pytest.raises(ValueError, match="samples"):
        log_mel(audio[: MIN_SAMPLES - 1])
    with pytest.raises(ValueError, match="mono"):
        log_mel(np.zeros((2, 1000), np.float32))


def test_input_ids_layout() -> None:
    ids = build_input_ids(
        [(5, 6), (7,)], 3, audio_start_id=1, audio_end_id=2, audio_pad_id=3, timestamp_id=9
    )
    assert ids == [1, 3, 3, 3, 2, 5, 6, 9, 9, 7, 9, 9]
    empty = build_input_ids([], 2, audio_start_id=1, audio_end_id=2, audio_pad_id=3, timestamp_id=9)
    assert empty == [1, 3, 3, 2, 9, 9]


def test_short_audio_is_not_padded(engine: Qwen3Aligner, parity_dir: Path) -> None:
    samples = load_audio(parity_dir / "audio/short_0p3s.wav")
    item = engine.runner.prepare(samples, ["yes"])
    assert item.n_feature_frames == samples.shape[0] // HOP_LENGTH
    assert item.n_audio_tokens == num_audio_tokens(item.n_feature_frames)
    assert item.n_audio_tokens < num_audio_tokens(8000 // HOP_LENGTH)


def test_import_does_not_load_torch() -> None:
    code = (
        "import sys, qalign.aligner, qalign.aligner.qwen3, qalign.aligner.qwen3.features,"
        " qalign.checkpoint; print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# -- results --------------------------------------------------------------------------


def test_alignment_keeps_the_transcript(engine: Qwen3Aligner, parity_dir: Path) -> None:
    text = "Author of “the Danger Trail”, Philip Steels. Etc.!"
    result = engine.align(parity_dir / ARCTIC, text, "en")
    assert isinstance(result, Alignment)
    assert [u.norm for u in result.units] == [
        "Author", "of", "the", "Danger", "Trail", "Philip", "Steels", "Etc",
    ]  # fmt: skip
    for unit in result.units:
        assert text[unit.char_start : unit.char_end] == unit.text
        assert 0.0 <= unit.start <= unit.end <= result.duration
        assert unit.score is not None and 0.0 <= unit.score <= 1.0
    assert result.units[3].text == "“the" or result.units[2].text.startswith("“")
    assert result.language == "English"
    assert result.duration == pytest.approx(49520 / 16000)
    assert result.source.engine == "qwen3"
    assert result.source.model == str(parity_dir / "fa-tiny-hf")
    assert result.source.decoder == "monotonic"
    assert [(s.unit_start, s.unit_end) for s in result.segments] == [(0, 7), (7, 8)]
    assert result.segments[0].text == text[: text.index("Steels.") + len("Steels.")]
    assert result.segments[0].start == result.units[0].start
    assert result.segments[-1].end == result.units[-1].end


def test_array_input_equals_file_input(engine: Qwen3Aligner, parity_dir: Path) -> None:
    samples = load_audio(parity_dir / ZH)
    from_file = engine.align(parity_dir / ZH, "经广州日报报道后，成为了社会热点。", "zh")
    from_array = engine.align(samples, "经广州日报报道后，成为了社会热点。", "Chinese")
    assert from_array == from_file
    assert len(from_file.units) == 15


def test_batch_goes_on_after_failures_and_equals_single_runs(
    engine: Qwen3Aligner, parity_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt garbage")
    requests = [
        AlignRequest(parity_dir / ARCTIC, "author of the danger trail", "English"),
        AlignRequest(broken, "hello world", "English"),
        AlignRequest(parity_dir / ARCTIC, " ... !!! ", "English", name="punct"),
        AlignRequest(parity_dir / ARCTIC, "goedemorgen", "Dutch"),
        AlignRequest(parity_dir / ZH, "经广州日报报道后", "Chinese"),
        AlignRequest(np.zeros(100, np.float32), "too short", "English", name="tiny"),
        AlignRequest(parity_dir / "audio/en_acoustic_corpus.wav", "this is", "English"),
    ]
    engine_batched = Qwen3Aligner(engine.loaded, batch_size=3)
    results = engine_batched.align_batch(requests)
    assert len(results) == len(requests)
    assert isinstance(results[1], AudioError) and str(broken) in str(results[1])
    assert isinstance(results[2], TranscriptError) and "punct" in str(results[2])
    assert isinstance(results[3], LanguageError)
    assert isinstance(results[5], AudioError) and "tiny" in str(results[5])
    assert "100 samples" in str(results[5])
    for i in (0, 4, 6):
        assert isinstance(results[i], Alignment)
        assert results[i] == engine.align_batch([requests[i]])[0]
    # a request list longer than the in-memory window gives the same results
    import qalign.aligner.qwen3.engine as qwen3_module

    monkeypatch.setattr(qwen3_module, "_WINDOW", 2)
    windowed = engine_batched.align_batch(requests)
    assert [type(r) for r in windowed] == [type(r) for r in results]
    assert all(windowed[i] == results[i] for i in (0, 4, 6))


def test_too_long_audio(engine: Qwen3Aligner, parity_dir: Path) -> None:
    strict = Qwen3Aligner(engine.loaded, max_duration=2.5)
    (result,) = strict.align_batch([AlignRequest(parity_dir / ARCTIC, "author", "en")])
    assert isinstance(result, AudioTooLongError)
    assert result.limit == 2.5 and result.duration == pytest.approx(49520 / 16000)
    assert "3.10 s" in str(result) and "2.50 s" in str(result)
    assert engine.max_duration == DEFAULT_MAX_DURATION
    head = engine.loaded.config.max_duration
    assert Qwen3Aligner(engine.loaded, max_duration=head).max_duration == head
    with pytest.raises(QalignError, match="max_duration"):
        Qwen3Aligner(engine.loaded, max_duration=head + 1)


def test_bad_array_inputs(engine: Qwen3Aligner) -> None:
    for audio, message in (
        (np.zeros((2, 4000), np.float32), "mono"),
        (np.zeros(4000, np.int16), "float"),
        (np.full(4000, np.nan, np.float32), "NaN"),
    ):
        with pytest.raises(AudioError, match=message):
            engine.align(audio, "hello", "English")


def test_loud_arrays_are_peak_normalised(engine: Qwen3Aligner, parity_dir: Path) -> None:
    samples = load_audio(parity_dir / ARCTIC)
    quiet = samples / np.abs(samples).max()
    loud = engine.align(quiet * 3.0, "author of", "en")
    plain = engine.align(quiet, "author of", "en")
    assert [(u.start, u.end) for u in loud.units] == [(u.start, u.end) for u in plain.units]
    assert [u.score for u in loud.units] == pytest.approx([u.score for u in plain.units], rel=1e-3)
    # the model itself is not scale-invariant: the normalisation is what makes them equal
    raw = engine.logits_for(quiet * 3.0, ["author", "of"])
    assert not np.array_equal(raw, engine.logits_for(quiet, ["author", "of"]))


def test_decoders_and_granularity(engine: Qwen3Aligner, parity_dir: Path) -> None:
    samples = load_audio(parity_dir / ARCTIC)
    ref = Qwen3Aligner(engine.loaded, decoder="reference").align(samples, "author of the", "en")
    mono = engine.align(samples, "author of the", "en")
    assert ref.source.decoder == "reference" and mono.source.decoder == "monotonic"
    chars = Qwen3Aligner(engine.loaded, granularity="char").align(samples, "ab c", "en")
    assert [u.norm for u in chars.units] == ["a", "b", "c"]
    with pytest.raises(QalignError, match="decoder"):
        Qwen3Aligner(engine.loaded, decoder="viterbi")
    with pytest.raises(QalignError, match="granularity"):
        Qwen3Aligner(engine.loaded, granularity="phone")


def test_raw_class_ids_are_the_logit_argmax(engine: Qwen3Aligner, parity_dir: Path) -> None:
    samples = load_audio(parity_dir / ARCTIC)
    logits = engine.logits_for(samples, ["author", "of"])
    assert logits.shape == (4, engine.loaded.config.num_labels)
    assert logits.dtype == np.float32
    assert engine.raw_class_ids(samples, ["author", "of"]) == logits.argmax(-1).tolist()


def test_align_convenience_uses_the_environment(monkeypatch, parity_dir: Path) -> None:
    from qalign.aligner import align

    monkeypatch.setenv("QALIGN_ALIGNER_MODEL", str(parity_dir / "fa-tiny-hf"))
    result = align(parity_dir / ARCTIC, "author of the danger trail", "English", device="cpu")
    assert result.source.model == str(parity_dir / "fa-tiny-hf")
    assert [u.norm for u in result.units] == ["author", "of", "the", "danger", "trail"]
    with pytest.raises(LanguageError):
        align(parity_dir / ARCTIC, "hallo", "Klingon", device="cpu")


def test_model_failure_costs_only_that_item(
    engine: Qwen3Aligner, parity_dir: Path, monkeypatch
) -> None:
    audio = parity_dir / "audio" / "en_arctic.wav"
    requests = [AlignRequest(audio, "one two three", "English", name=f"item{i}") for i in range(3)]
    real = engine.runner.slot_logits

    def flaky(items):
        if len(items) > 1:
            raise RuntimeError("out of memory")
        if items[0].input_ids == poisoned:
            raise RuntimeError("out of memory\nsecond line")
        return real(items)

    poisoned = engine.runner.prepare(load_audio(audio), ["one", "two", "three"]).input_ids
    requests[1] = AlignRequest(audio, "four five", "English", name="item1")
    requests[2] = AlignRequest(audio, "one two three", "English", name="item2")
    monkeypatch.setattr(engine.runner, "slot_logits", flaky)
    results = engine.align_batch(requests)
    assert isinstance(results[1], Alignment)
    for i in (0, 2):
        assert isinstance(results[i], QalignError)
        assert str(results[i]) == f"item{i}: alignment failed: out of memory"
