"""Language names and codes resolve to the eleven canonical names, and nothing else does."""

from __future__ import annotations

import pytest

from qalign.aligner.languages import SUPPORTED, resolve_language
from qalign.errors import LanguageError, QalignError

ELEVEN = (
    "Chinese",
    "Cantonese",
    "English",
    "German",
    "Spanish",
    "French",
    "Italian",
    "Portuguese",
    "Russian",
    "Korean",
    "Japanese",
)


def test_supported_is_the_eleven_model_languages() -> None:
    assert sorted(SUPPORTED) == sorted(ELEVEN)
    assert len(set(SUPPORTED)) == 11


@pytest.mark.parametrize("name", ELEVEN)
def test_names_in_any_case(name: str) -> None:
    assert resolve_language(name) == name
    assert resolve_language(name.lower()) == name
    assert resolve_language(name.upper()) == name
    assert resolve_language(f"  {name.swapcase()}\n") == name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("zh", "Chinese"),
        ("zho", "Chinese"),
        ("cmn", "Chinese"),
        ("mandarin", "Chinese"),
        ("yue", "Cantonese"),
        ("en", "English"),
        ("eng", "English"),
        ("de", "German"),
        ("deu", "German"),
        ("es", "Spanish"),
        ("spa", "Spanish"),
        ("fr", "French"),
        ("fra", "French"),
        ("it", "Italian"),
        ("ita", "Italian"),
        ("pt", "Portuguese"),
        ("por", "Portuguese"),
        ("ru", "Russian"),
        ("rus", "Russian"),
        ("ko", "Korean"),
        ("kor", "Korean"),
        ("ja", "Japanese"),
        ("jpn", "Japanese"),
        ("JA", "Japanese"),
        ("日本語", "Japanese"),
        ("한국어", "Korean"),
        ("Français", "French"),
        ("Deutsch", "German"),
    ],
)
def test_codes_and_aliases(code: str, name: str) -> None:
    assert resolve_language(code) == name


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("en-US", "English"),
        ("en_GB", "English"),
        ("pt-BR", "Portuguese"),
        ("zh-Hans-CN", "Chinese"),
        ("zh-HK", "Chinese"),
        ("yue-HK", "Cantonese"),
        ("zh-yue", "Cantonese"),
        ("ja-JP", "Japanese"),
    ],
)
def test_region_tags_reduce_to_the_language(tag: str, name: str) -> None:
    assert resolve_language(tag) == name


@pytest.mark.parametrize("bad", ["Dutch", "nl", "klingon", "", "   ", "xx-US", "hindi"])
def test_unknown_language_raises_and_lists_the_eleven(bad: str) -> None:
    with pytest.raises(LanguageError) as info:
        resolve_language(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in ELEVEN:
        assert name in message
    assert info.value.language == bad
    assert info.value.supported == SUPPORTED
    assert isinstance(info.value, QalignError) and isinstance(info.value, ValueError)
