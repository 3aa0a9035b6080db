"""Answer parsing and repetition collapsing, against the reference's recorded outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qalign.asr.parse import collapse_repetitions, parse_answer


def _parse_cases(parity_dir: Path) -> list[dict]:
    lines = (parity_dir / "asr_parse_cases.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_reference_parse_case(parity_dir: Path) -> None:
    cases = _parse_cases(parity_dir)
    assert len(cases) == 18
    for case in cases:
        got = parse_answer(case["raw"], case["user_language"])
        assert got == (case["language"], case["text"]), case["raw"]


def test_no_speech_answer_is_empty_not_an_error() -> None:
    assert parse_answer("language None<asr_text>") == ("", "")
    assert parse_answer("  language NONE<asr_text>  \n") == ("", "")
    assert parse_answer(None) == ("", "")


def test_language_name_is_normalised_and_text_stripped() -> None:
    assert parse_answer("language gERMAN<asr_text> Guten Tag. ") == ("German", "Guten Tag.")


def test_forced_language_keeps_whole_answer_as_text() -> None:
    assert parse_answer("Bonjour<asr_text>x", "French") == ("French", "Bonjour<asr_text>x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x" * 21 + "y", "xy"),  # a run of 21 > 20 collapses
        ("x" * 20 + "y", "x" * 20 + "y"),  # too short overall (< 40 chars) for the pattern pass
        ("ab" * 25 + "!", "ab!"),
        ("ab" * 19 + "!" * 3, "ab" * 19 + "!!!"),
        ("start " + "la " * 30 + "end", "start la end"),
    ],
)
def test_collapse_repetitions(text: str, expected: str) -> None:
    assert collapse_repetitions(text) == expected


def test_collapse_leaves_ordinary_text_alone() -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 3
    assert collapse_repetitions(text) == text


def test_collapse_handles_several_runs() -> None:
    text = "a" * 30 + " mid " + "xyz" * 25 + " tail"
    assert collapse_repetitions(text) == "a mid xyz tail"
