"""Sentence spans over units: terminators, line breaks, abbreviations, decimals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qalign.aligner.qwen3.units import split_units
from qalign.aligner.sentences import sentence_spans


def sentences(transcript: str, language: str = "English", granularity: str = "word") -> list[str]:
    """The sentences as the transcript's own text (first unit start to last unit end)."""
    units = split_units(transcript, language, granularity)
    return [
        transcript[units[a].char_start : units[b - 1].char_end]
        for a, b in sentence_spans(transcript, units)
    ]


def test_terminators() -> None:
    assert sentences("Hello there. How are you? Fine! Good") == [
        "Hello there.",
        "How are you?",
        "Fine!",
        "Good",
    ]


def test_spans_are_index_ranges() -> None:
    transcript = "One two. Three."
    units = split_units(transcript, "English")
    assert sentence_spans(transcript, units) == [(0, 2), (2, 3)]


def test_no_units_no_spans() -> None:
    assert sentence_spans("", []) == []
    assert sentence_spans("...", split_units("...", "English")) == []


def test_closing_quotes_after_the_terminator() -> None:
    assert sentences('"Stop." She left. (Really?) Yes.') == [
        '"Stop."',
        "She left.",
        "(Really?)",
        "Yes.",
    ]


def test_line_breaks_and_blank_lines_end_sentences() -> None:
    assert sentences("one two\nthree four\n\nfive") == ["one two", "three four", "five"]
    assert sentences("no punctuation at all here") == ["no punctuation at all here"]


def test_cjk_terminators() -> None:
    assert sentences("你好。我很好！谢谢？好", "Chinese") == ["你好。", "我很好！", "谢谢？", "好"]
    assert sentences("佢話：「好啊！」你呢", "Cantonese") == ["佢話：「好啊！」", "你呢"]


def test_abbreviations_do_not_end_sentences() -> None:
    assert sentences("Mr. Smith met Dr. Jones. They talked.") == [
        "Mr. Smith met Dr. Jones.",
        "They talked.",
    ]
    assert sentences("Das ist z.B. Herr Nr. 5. Gut.", "German") == [
        "Das ist z.B. Herr Nr. 5.",
        "Gut.",
    ]


def test_initials_and_dotted_letters() -> None:
    assert sentences("J. R. R. Tolkien lived in the U.S. Then he died.") == [
        "J. R. R. Tolkien lived in the U.S. Then he died.",
    ]


def test_number_abbreviations_only_before_numbers() -> None:
    assert sentences("See No. 5 please. He said no. Then left.") == [
        "See No. 5 please.",
        "He said no.",
        "Then left.",
    ]


def test_lower_case_continuation_in_cased_text() -> None:
    assert sentences("We're just... y'know? Apples, pears etc. and more. The end.") == [
        "We're just... y'know?",
        "Apples, pears etc. and more.",
        "The end.",
    ]


def test_lower_case_text_still_splits_on_periods() -> None:
    assert sentences("hello there. how are you. fine") == [
        "hello there.",
        "how are you.",
        "fine",
    ]


def test_ellipsis_before_a_capital_ends_a_sentence() -> None:
    assert sentences("Wait… Then go. Hmm... OK") == ["Wait…", "Then go.", "Hmm...", "OK"]


@pytest.mark.parametrize("granularity", ["word", "char"])
def test_decimals_do_not_end_sentences(granularity: str) -> None:
    assert sentences("Pi is 3.14 today. Yes.", granularity=granularity) == [
        "Pi is 3.14 today.",
        "Yes.",
    ]


def test_char_granularity_abbreviation() -> None:
    assert sentences("Mr. Li came. Ok.", granularity="char") == ["Mr. Li came.", "Ok."]


@settings(max_examples=200, deadline=None)
@given(
    transcript=st.text(alphabet=st.sampled_from(list('ab AB.!?\n…。你,"”')), max_size=50),
    granularity=st.sampled_from(["word", "char"]),
)
def test_spans_cover_every_unit_once(transcript: str, granularity: str) -> None:
    units = split_units(transcript, "Chinese", granularity)
    spans = sentence_spans(transcript, units)
    flat = [i for a, b in spans for i in range(a, b)]
    assert flat == list(range(len(units)))
    assert all(a < b for a, b in spans)


def test_sentence_segments_from_timed_units():
    from qalign.aligner.qwen3.units import split_units
    from qalign.aligner.sentences import sentence_segments
    from qalign.alignment import Unit

    text = "Hello, world! This is it.\nNext line"
    units = [
        Unit(u.text, u.norm, 0.5 * i, 0.5 * i + 0.4, None, u.char_start, u.char_end)
        for i, u in enumerate(split_units(text, "English"))
    ]
    segments = sentence_segments(text, units)
    assert [s.text for s in segments] == ["Hello, world!", "This is it.", "Next line"]
    assert [(s.unit_start, s.unit_end) for s in segments] == [(0, 2), (2, 5), (5, 7)]
    assert segments[1].start == units[2].start and segments[1].end == units[4].end
    no_offsets = [Unit("a", "a", 0, 1)]
    assert sentence_segments("a", no_offsets) == ()


@pytest.mark.parametrize(
    "token, following, expected",
    [
        ("done.", "Next", True),
        ('done."', "Next", True),
        ("好啊！」", "", True),
        ("Mr.", "Smith", False),
        ("U.S.", "Army", False),
        ("J.", "Tolkien", False),
        ("No.", "5", False),
        ("etc.", "and", False),
        ("wait...", "What", True),
        ("wait...", "what", False),
    ],
)
def test_one_rule_for_words_and_cues(token, following, expected):
    """The subtitle cue builder asks the same function the sentence splitter uses."""
    from qalign.aligner.sentences import ends_sentence
    from qalign.alignment import Unit
    from qalign.formats.line_breaking import unit_ends_sentence

    assert ends_sentence(token, following, cased=True) is expected
    unit, nxt = Unit(token, "x", 0.0, 0.1), Unit(following or "x", "x", 0.2, 0.3)
    assert unit_ends_sentence(unit, nxt if following else None, True) is expected
