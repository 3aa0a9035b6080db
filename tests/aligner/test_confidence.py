"""Word confidence (aligner/confidence.py): the direction of every piece of evidence."""

from __future__ import annotations

import pytest

from qalign.aligner.confidence import (
    UNCERTAIN_BELOW,
    WordEvidence,
    phone_agreement,
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
