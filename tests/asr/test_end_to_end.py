"""Transcribe then align with the tiny parity checkpoints, on audio of several minutes.

The tiny models have random weights, so the words are gibberish; what is checked
is the plumbing: chunking, batching, global times and the merge.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("qalign.aligner.qwen3")

from qalign.aligner.base import AlignRequest  # noqa: E402
from qalign.alignment import Alignment  # noqa: E402
from qalign.asr.base import Transcript  # noqa: E402
from qalign.asr.chunk_merge import join_texts  # noqa: E402
from qalign.asr.chunking import plan_chunks  # noqa: E402
from qalign.asr.pipeline import transcribe_batch  # noqa: E402

SR = 16_000
CHUNK = 20.0


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768


@pytest.fixture(scope="module")
def long_audio(parity_dir: Path) -> np.ndarray:
    names = ["en_acoustic_corpus", "de_aeneas_20s", "es_mls", "en_arctic", "zh_aishell3"]
    pieces = []
    for _ in range(2):
        for name in names:
            pieces += [_read(parity_dir / "audio" / f"{name}.wav"), np.zeros(SR // 2, np.float32)]
    audio = np.concatenate(pieces)
    assert audio.size / SR > 120
    return audio


@pytest.fixture(scope="module")
def models(parity_dir: Path):
    import torch

    from qalign.aligner.qwen3 import Qwen3Aligner
    from qalign.asr.qwen3 import Qwen3Transcriber

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    asr = Qwen3Transcriber.from_pretrained(
        parity_dir / "asr-tiny", device="cpu", dtype="fp32", max_new_tokens=32
    )
    fa = Qwen3Aligner.from_pretrained(parity_dir / "fa-tiny", device="cpu", dtype="fp32")
    return asr, fa


def test_long_audio_merges_into_one_alignment(models, long_audio, parity_dir) -> None:
    asr, fa = models
    short = _read(parity_dir / "audio" / "ja_julius.wav")
    merged, alone = transcribe_batch(
        [long_audio, short],
        language="English",
        transcriber=asr,
        aligner=fa,
        chunk_seconds=CHUNK,
    )
    (text_only,) = transcribe_batch(
        [long_audio], language="en", transcriber=asr, align=False, chunk_seconds=CHUNK
    )
    assert isinstance(merged, Alignment) and isinstance(alone, Alignment)
    assert isinstance(text_only, Transcript)

    duration = long_audio.size / SR
    assert merged.duration == duration and merged.language == "English"
    spans = plan_chunks(long_audio, CHUNK)
    assert len(text_only.chunks) == len(spans) >= 7
    assert [(c.start, c.end) for c in text_only.chunks] == [
        (s.start_time, s.end_time) for s in spans
    ]

    # Times: monotonic, inside the audio, and each unit inside its own chunk.
    prev = 0.0
    for u in merged.units:
        assert prev <= u.start <= u.end <= duration
        prev = u.end

    # Every chunk's words appear once: the merged units are exactly the
    # chunk-by-chunk alignments, shifted to their chunk.
    requests = [
        AlignRequest(long_audio[s.start : s.end], c.text, "English")
        for s, c in zip(spans, text_only.chunks)
        if c.text.strip()
    ]
    starts = [s.start_time for s, c in zip(spans, text_only.chunks) if c.text.strip()]
    ends = [s.end_time for s, c in zip(spans, text_only.chunks) if c.text.strip()]
    pieces = fa.align_batch(requests)
    expected = []
    for piece, t0, t1 in zip(pieces, starts, ends):
        assert isinstance(piece, Alignment)
        expected += [(u.text, min(u.start + t0, t1), min(u.end + t0, t1)) for u in piece.units]
    got = [(u.text, u.start, u.end) for u in merged.units]
    assert [g[0] for g in got] == [e[0] for e in expected]
    assert np.allclose([g[1:] for g in got], [e[1:] for e in expected], atol=1e-9)

    # Character offsets point into the joined transcript.
    joined, _ = join_texts([c.text for c in text_only.chunks])
    assert joined == text_only.text
    for u in merged.units:
        if u.char_start is not None:
            assert joined[u.char_start : u.char_end] == u.text

    # No segment straddles a cut.
    for seg in merged.segments:
        assert any(s.start_time <= seg.start <= seg.end <= s.end_time for s in spans)

    # The short clip batched with the long one gets the same as alone.
    (single,) = transcribe_batch(
        [short], language="English", transcriber=asr, aligner=fa, chunk_seconds=CHUNK
    )
    assert single == alone


def test_cli_with_tiny_models(parity_dir: Path, long_audio, tmp_path: Path, monkeypatch) -> None:
    from qalign.cli import main as cli_main
    from qalign.cli.transcribe import transcribe

    if "transcribe" not in cli_main.cli.commands:  # until cli/main.py registers it
        monkeypatch.setitem(cli_main.cli.commands, "transcribe", transcribe)
    wav = tmp_path / "long.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.round(long_audio[: 70 * SR] * 32767)).astype("<i2").tobytes())
    code = cli_main.main(
        [
            "transcribe", str(wav), "-o", str(tmp_path / "{stem}.json"),
            "-o", str(tmp_path / "{stem}.TextGrid"), "-l", "en", "--chunk-seconds", "20",
            "--asr-model", str(parity_dir / "asr-tiny-hf"),
            "--aligner-model", str(parity_dir / "fa-tiny-hf"),
            "--device", "cpu", "--dtype", "fp32", "--max-new-tokens", "16", "-q",
        ]
    )  # fmt: skip
    assert code == 0
    data = json.loads((tmp_path / "long.json").read_text(encoding="utf-8"))
    assert data["language"] == "English" and data["duration"] == 70.0 and data["words"]
    assert max(w["end"] for w in data["words"]) <= 70.0
    assert (tmp_path / "long.TextGrid").is_file()
