"""Pronunciations for words missing from the dictionary, and transcript words for sphinx."""

from __future__ import annotations

import pytest

from qalign.aligner.sphinx.dictionary import Lexicon, dictionary_form, spoken_words
from qalign.aligner.sphinx.g2p import (
    VOWELS,
    cardinal_words,
    guess_pronunciation,
    guess_pronunciations,
    letter_to_sound,
    number_readings,
    number_words,
)

# A toy dictionary: enough to exercise the analogy steps without pocketsphinx.
TOY = {
    "align": "AH L AY N",
    "hope": "HH OW P",
    "hop": "HH AA P",
    "speech": "S P IY CH",
    "wise": "W AY Z",
    "cat": "K AE T",
    "dog": "D AO G",
    "house": "HH AW S",
    "b": "B IY",
    "c": "S IY",
    "e": "IY",
    "mail": "M EY L",
    "twenty": "T W EH N T IY",
    "fourteen": "F AO R T IY N",
    "two": "T UW",
    "thousand": "TH AW Z AH N D",
    "three": "TH R IY",
    "point": "P OY N T",
    "five": "F AY V",
}


def toy(word: str) -> str | None:
    return TOY.get(word)


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("42", ["forty", "two"]),
        ("1,203", ["one", "thousand", "two", "hundred", "three"]),
        ("1984", ["nineteen", "eighty", "four"]),
        ("2005", ["two", "thousand", "five"]),
        ("2014", ["twenty", "fourteen"]),
        ("1900", ["nineteen", "hundred"]),
        ("1906", ["nineteen", "oh", "six"]),
        ("3.14", ["three", "point", "one", "four"]),
        ("21st", ["twenty", "first"]),
        ("12th", ["twelfth"]),
        ("1990s", ["nineteen", "nineties"]),
        ("007", ["zero", "zero", "seven"]),
    ],
)
def test_numbers_spelled_out(token: str, words: list[str]) -> None:
    assert number_words(token) == words


def test_years_have_alternative_readings() -> None:
    readings = number_readings("1984")
    assert readings[0] == ["nineteen", "eighty", "four"]
    assert ["nineteen", "hundred", "eighty", "four"] in readings
    assert cardinal_words(1984) in readings
    assert number_readings("cat") == []


def test_analogy_with_suffix_prefix_and_compound() -> None:
    assert guess_pronunciation("aligner", toy) == ("AH", "L", "AY", "N", "ER")
    assert guess_pronunciation("hoping", toy) == ("HH", "OW", "P", "IH", "NG")  # hope - e + ing
    assert guess_pronunciation("hopping", toy) == ("HH", "AA", "P", "IH", "NG")  # hop + p + ing
    assert guess_pronunciation("cats", toy) == ("K", "AE", "T", "S")  # voiceless: S
    assert guess_pronunciation("dogs", toy) == ("D", "AO", "G", "Z")  # voiced: Z
    assert guess_pronunciation("houses", toy) == ("HH", "AW", "S", "IH", "Z")  # sibilant: IH Z
    assert guess_pronunciation("unalign", toy) == ("AH", "N", "AH", "L", "AY", "N")
    assert guess_pronunciation("speechwise", toy) == ("S", "P", "IY", "CH", "W", "AY", "Z")


def test_pieces_numbers_and_letters() -> None:
    assert guess_pronunciation("e-mail", toy) == ("IY", "M", "EY", "L")
    assert guess_pronunciation("2014", toy) == (
        "T",
        "W",
        "EH",
        "N",
        "T",
        "IY",
        "F",
        "AO",
        "R",
        "T",
        "IY",
        "N",
    )
    assert guess_pronunciation("BBC", toy) == ("B", "IY", "B", "IY", "S", "IY")  # no vowel: letters
    assert guess_pronunciations("2014", toy)[1] == (
        "T",
        "UW",
        "TH",
        "AW",
        "Z",
        "AH",
        "N",
        "D",
        "F",
        "AO",
        "R",
        "T",
        "IY",
        "N",
    )


@pytest.mark.parametrize(
    "word", ["yknow", "qalign", "blorptastic", "zzyzx", "pocketsphinx", "aeiou"]
)
def test_rules_always_give_a_sayable_pronunciation(word: str) -> None:
    phones = letter_to_sound(word)
    assert phones and any(p in VOWELS for p in phones)
    assert all(p.isupper() and p.isalpha() for p in phones)


def test_rules_on_common_patterns() -> None:
    assert letter_to_sound("yknow") == ("Y", "N", "OW")
    assert letter_to_sound("make") == ("M", "EY", "K")
    assert letter_to_sound("station") == ("S", "T", "EY", "SH", "AH", "N")
    assert letter_to_sound("night") == ("N", "AY", "T")


def test_nothing_pronounceable_gives_empty() -> None:
    assert guess_pronunciation("", toy) == ()
    assert guess_pronunciations("'", toy) == ()


def test_dictionary_form() -> None:
    assert dictionary_form("“Don’t,") == "don't"
    assert dictionary_form("3.5%") == "3.5"
    assert dictionary_form("e-mail!") == "e-mail"
    assert dictionary_form("[laughter]") == ""
    assert dictionary_form("(Hello)") == "hello"


def test_markers_fold_into_neighbours_and_keep_all_text() -> None:
    text = "[noise] Hello, world [laughs loudly] it’s <VOCNOISE> done. {cough}"
    words = spoken_words(text)
    assert [w.norm for w in words] == ["hello", "world", "it's", "done"]
    assert words[0].text == "[noise] Hello,"
    assert words[1].text == "world [laughs loudly]"
    assert words[2].text == "it’s <VOCNOISE>"
    assert words[3].text == "done. {cough}"
    for w in words:
        assert text[w.char_start : w.char_end] == w.text
    assert spoken_words("[laughter] <noise>") == []


def test_lexicon_variants_abbreviations_and_guesses() -> None:
    entries = {
        "read": "R EH D",
        "read(2)": "R IY D",
        "doctor": "D AA K T ER",
        "dr": "D R AY V",
        "align": "AH L AY N",
    }
    lexicon = Lexicon(entries.get)
    assert lexicon.pronunciations("read") == (("R", "EH", "D"), ("R", "IY", "D"))
    assert lexicon.pronunciations("dr")[0] == ("D", "AA", "K", "T", "ER")
    assert lexicon.pronunciations("aligner") == (("AH", "L", "AY", "N", "ER"),)
    assert lexicon.guessed == {"aligner"}
