"""Forced-language spellings for Qwen3-ASR."""

from __future__ import annotations

import pytest

from qalign.asr.languages import ASR_LANGUAGES, normalize_language_name, resolve_asr_language
from qalign.errors import LanguageError


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("chinese", "Chinese"),
        ("en", "English"),
        ("pt-BR", "Portuguese"),
        ("nl", "Dutch"),
        ("Nederlands", "Dutch"),
        ("fil", "Filipino"),
        ("  HUNGARIAN ", "Hungarian"),
        ("yue", "Cantonese"),
    ],
)
def test_spellings_resolve(given: str, expected: str) -> None:
    assert resolve_asr_language(given) == expected


def test_every_canonical_name_resolves_to_itself() -> None:
    assert len(ASR_LANGUAGES) == 30
    for name in ASR_LANGUAGES:
        assert resolve_asr_language(name.upper()) == name


def test_unknown_language_lists_the_supported_ones() -> None:
    with pytest.raises(LanguageError) as info:
        resolve_asr_language("Klingon")
    assert "Macedonian" in str(info.value)


def test_checkpoint_list_restricts_the_choice() -> None:
    with pytest.raises(LanguageError):
        resolve_asr_language("Dutch", supported=("English", "Chinese"))
    assert resolve_asr_language("en", supported=("English",)) == "English"


def test_model_spelling_normalisation() -> None:
    assert normalize_language_name("  cHINese ") == "Chinese"
