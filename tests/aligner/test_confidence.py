"""Word confidence (aligner/confidence.py): the direction of every piece of evidence."""

from __future__ import annotations

import pytest

from qalign.aligner.confidence import (
    QWEN3_UNCERTAIN_BELOW,
    QWEN3_WEIGHTS,
    SLOT_SIGNS,
    UNCERTAIN_BELOW,
    SlotEvidence,
    WordEvidence,
    phone_agreement,
    slot_own_features,
    slot_word_scores,
    status_of,
    word_scores,
)


def good(frames: int = 24, phones: int = 3) -> WordEvidence:
    return WordEvidence(frames=frames, phones=phones, fit=0.0, posterior=0.97, agreement=1.0)


def test_a_clean_run_scores_high_and_is_aligned():
    scores = word_scores([good() for _ in range(10)])
    assert all(s is not None and s > 0.9 for s in scores)
    assert {status_of(s) for s in scores} == {"aligned"}


@pytest.mark.parametrize(
    "bad",
    [
        WordEvidence(
            24, 3, fit=-120.0, posterior=0.97, agreement=1.0
        ),  # the phone loop fits far better
        WordEvidence(24, 3, fit=0.0, posterior=0.97, agreement=0.0),  # no expected phone heard
        WordEvidence(24, 3, fit=0.0, posterior=0.2, agreement=1.0),  # the engine doubts it
        WordEvidence(140, 3, fit=0.0, posterior=0.97, agreement=1.0),  # swallowed a pause
    ],
)
def test_each_kind_of_bad_evidence_lowers_the_score(bad):
    words = [good() for _ in range(10)]
    base = word_scores(words)[5]
    words[5] = bad
    assert word_scores(words)[5] < base


def test_unplaced_words_drag_their_neighbours_down_and_stay_unscored():
    words = [good() for _ in range(10)]
    clean = word_scores(words)
    words[5] = None
    scores = word_scores(words)
    assert scores[5] is None
    assert scores[4] < clean[4] - 0.1 and scores[6] < clean[6] - 0.1
    assert clean[3] > scores[3] > scores[4]  # the nearer, the lower
    assert scores[0] == pytest.approx(clean[0])  # far away: unchanged


def test_phone_agreement_is_an_ordered_share():
    assert phone_agreement(["DH", "IH", "S"], ["DH", "IH", "S"]) == 1.0
    assert phone_agreement(["DH", "IH", "S"], ["S", "IH", "DH"]) == pytest.approx(1 / 3)
    assert phone_agreement(["DH", "IH", "S"], ["DH", "AH", "Z", "S"]) == pytest.approx(2 / 3)
    assert phone_agreement(["K"], []) == 0.0


def test_status_threshold():
    assert status_of(UNCERTAIN_BELOW - 1e-9) == "uncertain"
    assert status_of(UNCERTAIN_BELOW) == "aligned"
    assert status_of(None) == "aligned"


# -- the Qwen3 path ------------------------------------------------------------------------


def sure(**change: float) -> SlotEvidence:
    """A word the model placed sharply, at its argmax, of ordinary length, mid-window."""
    base = {"near": 0.95, "offset": 0.1, "repair": 0.0, "length": 0.0, "tail": 10}
    return SlotEvidence(**{**base, **change})


def test_a_sharply_placed_run_scores_above_the_qwen3_cut():
    scores = slot_word_scores([sure() for _ in range(8)])
    assert all(s is not None and s >= QWEN3_UNCERTAIN_BELOW for s in scores)


@pytest.mark.parametrize(
    "bad",
    [
        sure(length=-1.6),  # collapsed to one class where its letters need five
        sure(repair=6.0, near=0.3),  # the order constraints moved a slot off its peak
        sure(offset=0.5),  # the mass is split with the next class
        sure(pair=0.32),  # an overlapping window put it four classes away
        sure(near=0.05),  # the model is unsure: its mass is spread out
    ],
)
def test_each_kind_of_slot_evidence_lowers_the_score(bad):
    words = [sure() for _ in range(7)]
    base = slot_word_scores(words)[3]
    words[3] = bad
    assert slot_word_scores(words)[3] < base


def test_collapsed_and_moved_words_fall_below_the_qwen3_cut():
    for bad in (sure(length=-1.6), sure(repair=6.0, near=0.3)):
        assert slot_word_scores([sure(), bad, sure()])[1] < QWEN3_UNCERTAIN_BELOW


def test_two_placements_that_agree_raise_the_score_and_disagreement_lowers_it_steadily():
    alone = slot_word_scores([sure()])[0]
    scores = [slot_word_scores([sure(pair=d)])[0] for d in (0.0, 0.08, 0.16, 0.32)]
    assert scores[0] > alone
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1] + 0.05


def test_the_fitted_qwen3_weights_push_each_way_they_are_known_to():
    assert len(QWEN3_WEIGHTS) == len(SLOT_SIGNS) + 1 == len(slot_own_features(sure())) + 1
    assert all(w * sign >= 0 for w, sign in zip(QWEN3_WEIGHTS[1:], SLOT_SIGNS, strict=True))


def test_unplaced_qwen3_words_stay_unscored():
    scores = slot_word_scores([sure(), None, sure()])
    assert scores[1] is None and scores[0] is not None and scores[2] is not None
