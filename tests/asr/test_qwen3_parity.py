"""Qwen3-ASR on the tiny parity checkpoints: inputs, greedy ids and parsed results.

Both checkpoint layouts (``asr-tiny`` original, ``asr-tiny-hf`` native) must
reproduce the reference's recorded outputs. qalign follows the *windowed*
encoder attention (what FlashAttention computes), so each case is compared
with its ``windowed`` fields (equal to the top level for audio of 8 s or less).

Cases not compared id for id, and why:

* ``asr_ja_context``, ``asr_en_context_forced``: the reference tokenised their
  context with a swapped split regex (parity README, finding 1); qalign keeps the
  checkpoint's regex, so their prompts differ. Their structure is checked in
  ``test_prompt.py``; here the reference's own prompt ids are fed to our model
  path and must give the reference's 32 ids, and our prompt must give 32 tokens
  that parse.
* ``asr_batch_3`` was decoded inside a batch whose padding made the reference
  count 207 mel frames instead of the 206 a single call counts (finding 3);
  qalign computes each clip alone (206 frames). The greedy ids still agree.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from qalign.aligner.qwen3.features import num_feature_frames  # noqa: E402
from qalign.asr.base import TranscribeRequest  # noqa: E402
from qalign.asr.decoding import greedy_decode  # noqa: E402
from qalign.asr.qwen3 import Answer, Qwen3Transcriber  # noqa: E402

REGEX_SWAP_CASES = {"asr_ja_context", "asr_en_context_forced"}
BATCH_FRAME_CASES = {"asr_batch_3"}


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        data = w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


@pytest.fixture(scope="module")
def cases(parity_dir: Path) -> list[dict]:
    lines = (parity_dir / "asr_cases.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def audio(parity_dir: Path, cases: list[dict]) -> dict[str, np.ndarray]:
    return {c["audio"]: _read_wav(parity_dir / c["audio"]) for c in cases}


@pytest.fixture(scope="module", params=["asr-tiny", "asr-tiny-hf"])
def transcriber(request: pytest.FixtureRequest, parity_dir: Path) -> Qwen3Transcriber:
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    return Qwen3Transcriber.from_pretrained(
        parity_dir / request.param, device="cpu", dtype="fp32", max_new_tokens=32
    )


def _expected(case: dict) -> tuple[list[int], dict]:
    windowed = case.get("windowed") or {}
    return windowed.get("generated_ids", case["generated_ids"]), windowed.get(
        "result", case["result"]
    )


def _request(case: dict, audio: dict[str, np.ndarray]) -> TranscribeRequest:
    return TranscribeRequest(
        audio[case["audio"]], case["language"], case["context"], case["case_id"]
    )


@pytest.fixture(scope="module")
def answers(transcriber: Qwen3Transcriber, cases, audio) -> list[Answer]:
    # All 14 cases in ONE call: batching must not change any result.
    out = transcriber.answer_batch([_request(c, audio) for c in cases])
    assert all(isinstance(a, Answer) for a in out)
    return out  # type: ignore[return-value]


def test_inputs_match_reference(cases, audio, answers) -> None:
    for case, answer in zip(cases, answers):
        frames = num_feature_frames(audio[case["audio"]].shape[0])
        if case["case_id"] in BATCH_FRAME_CASES:
            assert (frames, case["n_feature_frames"]) == (206, 207)
        else:
            assert frames == case["n_feature_frames"], case["case_id"]
        assert answer.n_audio_tokens == case["n_audio_tokens"], case["case_id"]
        if case["case_id"] in REGEX_SWAP_CASES:
            continue
        expected_ids = (
            case["input_ids_through_audio_start"]
            + [answer.input_ids[len(case["input_ids_through_audio_start"])]]
            * case["n_audio_tokens"]
            + case["input_ids_from_audio_end"]
        )
        assert list(answer.input_ids) == expected_ids, case["case_id"]


def test_generated_ids_and_results_match_reference(transcriber, cases, answers) -> None:
    compared = 0
    for case, answer in zip(cases, answers):
        ids, result = _expected(case)
        if case["case_id"] in REGEX_SWAP_CASES:
            assert len(answer.generated_ids) == 32
            continue
        assert list(answer.generated_ids) == ids, case["case_id"]
        assert answer.raw_text == case.get("windowed", {}).get(
            "generated_text_raw", case["generated_text_raw"]
        )
        transcript = transcriber._transcript(answer)
        assert (transcript.language or "", transcript.text) == (result["language"], result["text"])
        compared += 1
    assert compared == 12


def test_reference_prompt_ids_reproduce_context_cases(transcriber, cases, audio) -> None:
    """The regex-swap cases: feed the reference's own prompt ids through our model path."""
    for case in cases:
        if case["case_id"] not in REGEX_SWAP_CASES:
            continue
        emb = transcriber.audio_embeddings(audio[case["audio"]])
        pad = transcriber.loaded.config.audio_pad_token_id
        ids = (
            case["input_ids_through_audio_start"]
            + [pad] * emb.shape[0]
            + case["input_ids_from_audio_end"]
        )
        prompt = transcriber.prompt_embeddings(ids, emb)
        (got,) = greedy_decode(transcriber.loaded.model, [prompt], [32], transcriber.stop_ids, pad)
        assert got == _expected(case)[0], case["case_id"]


def test_batched_equals_single_call(transcriber, cases, audio, answers) -> None:
    batch = [c for c in cases if c["batch_id"] == "asr_batch"]
    assert len(batch) == 4
    for case in batch:
        (alone,) = transcriber.answer_batch([_request(case, audio)])
        batched = answers[cases.index(case)]
        assert alone.generated_ids == batched.generated_ids, case["case_id"]
        # One request, one batch: its steps after the first token are its answer's
        # length, plus the stop id's step when it stopped before the budget.
        stopped = len(alone.generated_ids) < 32
        assert transcriber.timings["batches"] == 1
        assert transcriber.timings["steps"] == len(alone.generated_ids) - 1 + stopped


def test_stop_ids_come_from_the_checkpoint(transcriber) -> None:
    tok = transcriber.loaded.tokenizer
    assert set(transcriber.stop_ids) == {
        tok.convert_tokens_to_ids("<|im_end|>"),
        tok.convert_tokens_to_ids("<|endoftext|>"),
    }
    assert 151645 not in transcriber.stop_ids


def test_decoding_stops_at_a_stop_id_and_at_each_budget(transcriber, cases, audio) -> None:
    case = next(c for c in cases if c["case_id"] == "asr_zh_auto")
    ids, _ = _expected(case)
    emb = transcriber.audio_embeddings(audio[case["audio"]])
    prompt_ids = transcriber.prompt_ids("", None).with_audio(emb.shape[0])
    prompt = transcriber.prompt_embeddings(prompt_ids, emb)
    model, pad = transcriber.loaded.model, transcriber.loaded.config.pad_token_id
    # ids[3] is the first token chosen that is not also chosen earlier.
    stop = ids[3]
    assert stop not in ids[:3]
    (cut,) = greedy_decode(model, [prompt], [32], [stop], pad)
    assert cut == ids[:3]
    short, full = greedy_decode(model, [prompt, prompt], [5, 32], transcriber.stop_ids, pad)
    assert (short, full) == (ids[:5], ids)


def test_timings_count_batches_and_the_steps_after_the_first_token(
    transcriber, cases, audio, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = next(c for c in cases if c["case_id"] == "asr_zh_auto")
    ids, _ = _expected(case)
    monkeypatch.setattr(transcriber, "stop_ids", (ids[3],))  # each answer stops after 3 ids
    monkeypatch.setattr(transcriber, "batch_size", 1)
    answers = transcriber.answer_batch([_request(case, audio), _request(case, audio)])
    assert [list(a.generated_ids) for a in answers] == [ids[:3], ids[:3]]
    # Per batch: 4 choices (3 ids and the stop id), so 3 steps after the first token.
    assert (transcriber.timings["batches"], transcriber.timings["steps"]) == (2, 6)
