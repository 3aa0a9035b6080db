"""Japanese transcripts quoting other scripts: nagisa never sees the foreign words."""

from __future__ import annotations

import pytest

pytest.importorskip("nagisa", reason='nagisa is not installed (pip install "qalign[ja]")')

from qalign.aligner.qwen3.units import split_units  # noqa: E402


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("今日は Привет мир です", ["今日", "は", "Привет", "мир", "です"]),
        ("今日はПриветです", ["今日", "は", "Привет", "です"]),
        ("ひらがな Москва это город", ["ひらがな", "Москва", "это", "город"]),
        ("Ελλάδα と 日本", ["Ελλάδα", "と", "日本"]),
    ],
)
def test_foreign_words_stay_whole(text, words):
    units = split_units(text, "Japanese")
    assert [u.text for u in units] == words
    for unit in units:  # spans point back into the transcript
        assert text[unit.char_start : unit.char_end] == unit.text
