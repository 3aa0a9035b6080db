"""Transcript -> units: what the model sees (``norm``) and what outputs show (``text``)."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qalign.aligner.qwen3.units import TextUnit, is_cjk_ideograph, split_units
from qalign.errors import LanguageError, MissingDependencyError, QalignError


def norms(transcript: str, language: str = "English", granularity: str = "word") -> list[str]:
    return [u.norm for u in split_units(transcript, language, granularity)]


def texts(transcript: str, language: str = "English", granularity: str = "word") -> list[str]:
    return [u.text for u in split_units(transcript, language, granularity)]


def kept(ch: str) -> bool:
    return ch == "'" or unicodedata.category(ch)[0] in "LN"


def oracle_whitespace_norms(transcript: str, split_cjk: bool) -> list[str]:
    """The documented rule written the short way: split, clean, cut CJK ideographs out."""
    out: list[str] = []
    for token in transcript.split():
        cleaned = "".join(ch for ch in token if kept(ch))
        piece = ""
        for ch in cleaned:
            if split_cjk and is_cjk_ideograph(ch):
                out += [piece] if piece else []
                out.append(ch)
                piece = ""
            else:
                piece += ch
        out += [piece] if piece else []
    return out


# --- display text and offsets ----------------------------------------------


def test_hello_world_keeps_punctuation_and_casing() -> None:
    units = split_units("Hello, world!", "English")
    assert [u.text for u in units] == ["Hello,", "world!"]
    assert [u.norm for u in units] == ["Hello", "world"]
    assert [(u.char_start, u.char_end) for u in units] == [(0, 6), (7, 13)]


def test_leading_dash_goes_to_the_first_word() -> None:
    assert texts("— and") == ["— and"]
    assert norms("— and") == ["and"]


def test_free_standing_symbols_go_to_the_previous_word() -> None:
    assert texts("author — isn't it & more") == ["author —", "isn't", "it &", "more"]


def test_quotes_attach_to_their_word() -> None:
    assert texts("“Quoted” text") == ["“Quoted”", "text"]
    assert texts('He said "um" and (but) ¿La?') == ["He", "said", '"um"', "and", "(but)", "¿La?"]


def test_free_standing_opening_marks_go_to_the_next_word() -> None:
    assert texts("« Aujourd'hui », dit-il") == ["« Aujourd'hui »,", "dit-il"]
    assert texts("word ( next )") == ["word", "( next )"]


def test_cjk_one_unit_per_ideograph_with_punctuation_on_the_previous() -> None:
    units = split_units("你好，世界。", "Chinese")
    assert [u.norm for u in units] == ["你", "好", "世", "界"]
    assert [u.text for u in units] == ["你", "好，", "世", "界。"]


def test_cjk_opening_brackets_go_to_the_next_character() -> None:
    assert texts("佢話：「好啊！」", "Cantonese") == ["佢", "話：", "「好", "啊！」"]
    assert texts("年（全角）", "Chinese") == ["年", "（全", "角）"]


def test_cjk_ideographs_split_out_of_latin_runs() -> None:
    assert norms("我用iPhone15录", "Chinese") == ["我", "用", "iPhone15", "录"]
    assert norms("Qwen3-ASR很好用", "Chinese") == ["Qwen3ASR", "很", "好", "用"]
    assert norms("abc中def", "English") == ["abc", "中", "def"]


def test_compatibility_supplement_ideographs_are_not_split() -> None:
    # U+2F800/U+2F801 are outside the reference's CJK ranges; U+F900 is inside.
    assert norms("你\U0002f800\U0002f801世 \uf900\uf900", "Chinese") == [
        "你",
        "\U0002f800\U0002f801",
        "世",
        "\uf900",
        "\uf900",
    ]


def test_cleaning_keeps_letters_digits_and_ascii_apostrophe() -> None:
    units = split_units("e-mail 3.14% it’s O'Neill café", "English")
    assert [u.norm for u in units] == ["email", "314", "its", "O'Neill", "café"]
    assert [u.text for u in units] == ["e-mail", "3.14%", "it’s", "O'Neill", "café"]


def test_combining_marks_dropped_from_norm_but_kept_in_text() -> None:
    units = split_units("cafe\u0301 ok", "French")
    assert [u.norm for u in units] == ["cafe", "ok"]
    assert units[0].text == "cafe\u0301"


def test_lone_apostrophe_is_a_unit_like_the_reference() -> None:
    assert norms("... ' —") == ["'"]
    assert texts("... ' —") == ["... ' —"]


@pytest.mark.parametrize("empty", ["", "   \n\t", "... — !!! “” 🙂 &", "\ufeff"])
def test_nothing_to_align_gives_no_units(empty: str) -> None:
    assert split_units(empty, "English") == []
    assert split_units(empty, "Chinese", "char") == []


def test_bom_and_crlf_are_not_part_of_any_text() -> None:
    units = split_units("\ufeffone\r\ntwo\r\n", "English")
    assert [(u.text, u.char_start) for u in units] == [("one", 1), ("two", 6)]


def test_zero_width_space_joins_like_the_reference() -> None:
    # str.split does not split at U+200B, so the reference makes one word.
    units = split_units("fast\u200bhere \u200bnext", "English")
    assert [u.norm for u in units] == ["fasthere", "next"]
    assert [u.text for u in units] == ["fast\u200bhere", "next"]


def test_korean_keeps_whole_eojeols() -> None:
    units = split_units("안녕하세요. 저는 서울에서 왔습니다! 韓國語", "Korean")
    assert [u.norm for u in units] == ["안녕하세요", "저는", "서울에서", "왔습니다", "韓國語"]
    assert [u.text for u in units] == ["안녕하세요.", "저는", "서울에서", "왔습니다!", "韓國語"]


def test_other_languages_use_whitespace_words() -> None:
    assert norms("Съешь же ещё, да?", "Russian") == ["Съешь", "же", "ещё", "да"]
    assert norms("n'est-ce pas", "French") == ["n'estce", "pas"]


# --- char granularity ------------------------------------------------------


def test_char_granularity_every_letter_and_digit() -> None:
    units = split_units("Hi, 你好! 42", "English", "char")
    assert [u.norm for u in units] == ["H", "i", "你", "好", "4", "2"]
    assert [u.text for u in units] == ["H", "i,", "你", "好!", "4", "2"]


def test_char_granularity_apostrophe_and_hyphen_are_attached_not_units() -> None:
    units = split_units("don't e-mail", "English", "char")
    assert [u.norm for u in units] == list("dontemail")
    assert [u.text for u in units] == ["d", "o", "n'", "t", "e-", "m", "a", "i", "l"]


def test_char_granularity_korean_syllables() -> None:
    assert norms("저는 왔습니다.", "Korean", "char") == list("저는왔습니다")


def test_char_granularity_japanese_needs_no_nagisa(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nagisa", None)  # import nagisa -> ImportError
    units = split_units("東京、ＡＢ", "Japanese", "char")
    assert [u.norm for u in units] == ["東", "京", "Ａ", "Ｂ"]
    assert [u.text for u in units] == ["東", "京、", "Ａ", "Ｂ"]


def test_language_codes_are_resolved_and_unknown_ones_refused() -> None:
    assert norms("今日は", "ja", "char") == ["今", "日", "は"]
    assert norms("안녕하세요 저는", "ko") == ["안녕하세요", "저는"]
    with pytest.raises(LanguageError, match="Dutch"):
        split_units("Goedemorgen", "Dutch")


def test_unknown_granularity() -> None:
    with pytest.raises(QalignError, match="granularity 'syllable'"):
        split_units("hello", "English", "syllable")


# --- Japanese (nagisa) -----------------------------------------------------


def test_japanese_without_nagisa_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nagisa", None)
    with pytest.raises(MissingDependencyError) as info:
        split_units("今日はいい天気だ。", "Japanese")
    assert info.value.package == "nagisa"
    assert info.value.extra == "ja"
    assert "qalign[ja]" in str(info.value)
    assert "Japanese word splitting" in str(info.value)


def test_japanese_words_with_punctuation() -> None:
    pytest.importorskip("nagisa", reason="nagisa (the ja extra) is not installed")
    units = split_units("今日はいい天気だ。", "Japanese")
    assert [u.norm for u in units] == ["今日", "は", "いい", "天気", "だ"]
    assert [u.text for u in units] == ["今日", "は", "いい", "天気", "だ。"]


def test_japanese_norm_is_nfkc_but_text_is_the_transcript() -> None:
    pytest.importorskip("nagisa", reason="nagisa (the ja extra) is not installed")
    transcript = "ＡＢＣ全角ｶﾀｶﾅ！"
    units = split_units(transcript, "Japanese")
    assert "ABC" in [u.norm for u in units] and "カタカナ" in [u.norm for u in units]
    assert "".join(u.text for u in units) == transcript
    by_norm = {u.norm: u.text for u in units}
    assert by_norm["ABC"] == "ＡＢＣ"
    assert by_norm["カタカナ"] == "ｶﾀｶﾅ！"
    _check_invariants(transcript, units)


def test_japanese_half_width_voiced_marks_stay_with_their_kana() -> None:
    pytest.importorskip("nagisa", reason="nagisa (the ja extra) is not installed")
    transcript = "ｶﾞｷﾞｸﾞ ﾊﾟﾝ"
    units = split_units(transcript, "Japanese")
    assert "".join(u.norm for u in units) == "ガギグパン"
    assert "".join(u.text for u in units).replace(" ", "") == transcript.replace(" ", "")
    _check_invariants(transcript, units)


def test_japanese_expanding_characters_keep_offsets_valid() -> None:
    pytest.importorskip("nagisa", reason="nagisa (the ja extra) is not installed")
    import nagisa

    transcript = "㍻元年に½と㌔を買った。"
    units = split_units(transcript, "Japanese")
    expected = ["".join(c for c in w if kept(c)) for w in nagisa.tagging(transcript).words]
    assert [u.norm for u in units] == [w for w in expected if w]
    _check_invariants(transcript, units)


# --- invariants on random text ---------------------------------------------

ALPHABET = (
    list("abcXYZéßø019")
    + list(" \t\n\r\u3000\u00a0")
    + list(".,;:!?-—–'\"’“”‘«»()[]{}¿¡&%$#@/…")
    + list("你好世界中文丽")
    + list("。，！？、「」『』（）")
    + list("あいうカタｶﾞ한국어ＡＢ１２")
    + ["\u0301", "\u0308", "\u200b", "\ufeff", "🙂", "👍", "🏽", "\U0002f800", "\uf900", "½", "²"]
)
random_text = st.one_of(
    st.text(alphabet=st.sampled_from(ALPHABET), max_size=60),
    st.text(max_size=30),
)


def _check_invariants(transcript: str, units: list[TextUnit]) -> None:
    previous_end = 0
    for unit in units:
        assert transcript[unit.char_start : unit.char_end] == unit.text
        assert previous_end <= unit.char_start <= unit.char_end
        previous_end = unit.char_end
        assert unit.norm and all(kept(ch) for ch in unit.norm)
        if unit.text:
            assert not unit.text[0].isspace() and not unit.text[-1].isspace()
    if units:
        covered = set()
        for unit in units:
            covered.update(range(unit.char_start, unit.char_end))
        lost = [
            ch
            for i, ch in enumerate(transcript)
            if i not in covered and not ch.isspace() and ch not in "\ufeff\u200b\u2060"
        ]
        assert lost == [], f"characters left out of every unit: {lost!r}"


def _is_subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=random_text, language=st.sampled_from(["English", "Chinese", "Korean"]))
def test_word_units_invariants(transcript: str, language: str) -> None:
    units = split_units(transcript, language)
    _check_invariants(transcript, units)
    assert [u.norm for u in units] == oracle_whitespace_norms(transcript, language != "Korean")
    for unit in units:
        assert _is_subsequence(unit.norm, unit.text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=random_text, language=st.sampled_from(["English", "Korean", "Japanese"]))
def test_char_units_invariants(transcript: str, language: str) -> None:
    units = split_units(transcript, language, "char")
    _check_invariants(transcript, units)
    letters = [ch for ch in transcript if unicodedata.category(ch)[0] in "LN"]
    assert [u.norm for u in units] == letters
    for unit in units:
        assert unit.norm in unit.text


JAPANESE_ALPHABET = list(
    "今日は天気だ東京都に住んでいますカタｶﾅﾞＡＢabc12１２。、！？「」 \n・ー㍻½"
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcript=st.text(alphabet=st.sampled_from(JAPANESE_ALPHABET), max_size=40))
@example(transcript="½ 、")  # an expanded character's second word must not start with a blank
def test_japanese_units_match_nagisa_and_keep_offsets(transcript: str) -> None:
    nagisa = pytest.importorskip("nagisa", reason="nagisa (the ja extra) is not installed")
    units = split_units(transcript, "Japanese")
    _check_invariants(transcript, units)
    cleaned = ["".join(c for c in w if kept(c)) for w in nagisa.tagging(transcript).words]
    assert [u.norm for u in units] == [w for w in cleaned if w]


def test_text_unit_rejects_offsets_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="offsets 3..5"):
        TextUnit("ab", "abc", 3, 5)
    with pytest.raises(ValueError):
        TextUnit("ab", "ab", 5, 3)
