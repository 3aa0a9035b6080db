"""A window's agreement from its kept units: the leading run and the holes in its text."""

from qalign.aligner.longform.anchors import BACK_OFF, MIN_RUN, agreed, leading_run, long_holes
from qalign.aligner.longform.stitch import SHORT_GAP, Kept


def _kept(*indexes: int) -> list[Kept]:
    return [Kept(i, float(i), i + 0.5, 0.9) for i in indexes]


def test_leading_run_gives_back_its_last_units_and_needs_an_anchor_run():
    got = _kept(*range(10, 10 + MIN_RUN + BACK_OFF), 30, 31)
    assert [k.index for k in leading_run(got, 10)] == list(range(10, 10 + MIN_RUN))
    assert leading_run(got[: MIN_RUN + BACK_OFF - 1], 10) == []  # too short once given back
    assert leading_run(got, 9) == []  # the window's first unit was not kept


def test_long_holes_are_the_units_after_more_than_a_short_gap():
    late = SHORT_GAP + 1  # the first unit after a hole of SHORT_GAP + 1 units
    got = _kept(0, 1, 2 + SHORT_GAP, 3 + SHORT_GAP, 4 + SHORT_GAP + late)
    assert list(long_holes(got, 0)) == [4]
    assert list(long_holes(got, -late)) == [0, 4]  # a hole before the first kept unit
    assert agreed(got[:4], 0)
    assert not agreed(got, 0)
    assert agreed([], 5)
