from hypothesis import given
from hypothesis import strategies as st

from qalign.formats.timing import nonzero_spans, to_ms, to_ticks


def test_rounding_half_up():
    assert to_ms(1.0005) == 1001
    assert to_ms(1.0004) == 1000
    assert to_ticks(1.005, 0.01) == 101
    assert to_ms(0.0) == 0


def test_zero_length_spans_widen_into_gaps():
    assert nonzero_spans([(0.5, 0.5)], 0.001, 1.0) == [(500, 501)]
    assert nonzero_spans([(1.0, 1.0)], 0.001, 1.0) == [(999, 1000)]


@st.composite
def _spans(draw):
    times = sorted(draw(st.lists(st.floats(0, 5, allow_subnormal=False), min_size=0, max_size=40)))
    if len(times) % 2:
        times = times[:-1]
    return [(times[i], times[i + 1]) for i in range(0, len(times), 2)]


@given(_spans(), st.sampled_from([0.001, 0.01]))
def test_spans_are_positive_ordered_and_bounded(spans, tick):
    out = nonzero_spans(spans, tick, 5.0)
    assert len(out) == len(spans)
    limit = to_ticks(5.0, tick)
    for i, (s, e) in enumerate(out):
        assert s < e
        if len(spans) <= limit:
            assert e <= limit
        if i:
            assert out[i - 1][1] <= s
