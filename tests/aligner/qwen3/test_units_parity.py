"""Units match the official qwen-asr 0.0.6 word lists recorded in the parity fixtures.

Deliberate differences, each asserted below rather than skipped:

* ``ko_basic``, ``ko_mixed``, ``batchC_0_ko``: the reference splits Korean words
  with soynlp and a dictionary bundled in its package; qalign keeps every
  whitespace-separated word whole (what soynlp's ``LTokenizer`` does without
  that dictionary, and what transformers 5.24 does). Same characters, fewer
  boundaries.
* ``lang_unsupported`` (Dutch): the reference does not check the language;
  qalign raises :class:`~qalign.errors.LanguageError`.

Empty transcripts (``en_empty``, ``batchC_3_empty``) match: no units. The
caller, not the splitter, turns that into a ``TranscriptError``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qalign.aligner.languages import resolve_language
from qalign.aligner.qwen3.units import split_units
from qalign.errors import LanguageError

KOREAN_DICTIONARY_CASES = {"ko_basic", "ko_mixed", "batchC_0_ko"}
UNSUPPORTED_LANGUAGE_CASES = {"lang_unsupported"}
EMPTY_CASES = {"en_empty", "batchC_3_empty"}


def _cases(parity_dir: Path) -> list[dict]:
    path = parity_dir / "fa_cases.jsonl"
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _mismatches(cases: list[dict]) -> list[tuple[str, list[str], list[str]]]:
    out = []
    for case in cases:
        got = [u.norm for u in split_units(case["text"], resolve_language(case["language"]))]
        if got != case["word_list"]:
            out.append((case["case_id"], got, case["word_list"]))
    return out


def _is_japanese(case: dict) -> bool:
    return case["language"].lower() == "japanese"


def test_fixture_has_the_expected_cases(parity_dir: Path) -> None:
    cases = _cases(parity_dir)
    ids = {case["case_id"] for case in cases}
    assert len(cases) == 41
    assert KOREAN_DICTIONARY_CASES | UNSUPPORTED_LANGUAGE_CASES | EMPTY_CASES <= ids


def test_word_lists_match_except_korean_and_japanese(parity_dir: Path) -> None:
    cases = [
        case
        for case in _cases(parity_dir)
        if not _is_japanese(case)
        and case["case_id"] not in KOREAN_DICTIONARY_CASES | UNSUPPORTED_LANGUAGE_CASES
    ]
    assert len(cases) == 33
    assert _mismatches(cases) == []


def test_japanese_word_lists_match(parity_dir: Path) -> None:
    pytest.importorskip("nagisa", reason="nagisa (the ja extra) is not installed")
    cases = [case for case in _cases(parity_dir) if _is_japanese(case)]
    assert len(cases) == 4
    assert _mismatches(cases) == []


def test_aligner_input_text_is_rebuilt_from_norms(parity_dir: Path) -> None:
    for case in _cases(parity_dir):
        if (
            _is_japanese(case)
            or case["case_id"] in KOREAN_DICTIONARY_CASES | UNSUPPORTED_LANGUAGE_CASES
        ):
            continue
        units = split_units(case["text"], resolve_language(case["language"]))
        rebuilt = "<|audio_start|><|audio_pad|><|audio_end|>" + "".join(
            u.norm + "<timestamp><timestamp>" for u in units
        )
        if not units:
            rebuilt += "<timestamp><timestamp>"
        assert rebuilt == case["aligner_input_text"], case["case_id"]


def test_empty_transcripts_give_no_units(parity_dir: Path) -> None:
    for case in _cases(parity_dir):
        if case["case_id"] in EMPTY_CASES:
            assert case["word_list"] == []
            assert split_units(case["text"], resolve_language(case["language"])) == []


def test_korean_differs_only_where_the_dictionary_splits_a_word(parity_dir: Path) -> None:
    cases = [case for case in _cases(parity_dir) if case["case_id"] in KOREAN_DICTIONARY_CASES]
    assert len(cases) == 3
    for case in cases:
        units = split_units(case["text"], resolve_language(case["language"]))
        got = [u.norm for u in units]
        reference = case["word_list"]
        assert got != reference, f"{case['case_id']} now matches: update this test"
        # Same characters in the same order; only the reference has extra boundaries.
        assert "".join(got) == "".join(reference)
        assert len(got) < len(reference)
        assert len(got) == len(case["text"].split())  # one unit per eojeol
        # Every reference boundary of ours is one of the reference's boundaries.
        ours = _boundaries(got)
        assert ours <= _boundaries(reference)


def _boundaries(words: list[str]) -> set[int]:
    out, at = set(), 0
    for word in words:
        at += len(word)
        out.add(at)
    return out


def test_unsupported_language_is_rejected(parity_dir: Path) -> None:
    cases = [case for case in _cases(parity_dir) if case["case_id"] in UNSUPPORTED_LANGUAGE_CASES]
    assert [case["language"] for case in cases] == ["Dutch"]
    for case in cases:
        assert case["word_list"]  # the reference aligned it anyway
        with pytest.raises(LanguageError, match="Dutch"):
            resolve_language(case["language"])
