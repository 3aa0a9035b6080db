"""Praat TextGrid writer and reader (formats/textgrid.py)."""

from __future__ import annotations

import codecs
import logging
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import ReadError
from qalign.formats.textgrid import MIN_INTERVAL, positive_spans

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "tg_sample.json")


def _units(texts_times, duration=3.0, **kw) -> Alignment:
    units = [Unit(t, t.lower(), s, e) for t, s, e in texts_times]
    return Alignment(tuple(units), duration=duration, **kw)


# -- writer ---------------------------------------------------------------------------


def test_long_form_matches_golden(sample):
    assert formats.dumps(sample, "textgrid") == (GOLDEN / "tg_sample.long.TextGrid").read_text(
        "utf-8"
    )


def test_short_form_matches_golden(sample):
    expected = (GOLDEN / "tg_sample.short.TextGrid").read_text("utf-8")
    assert formats.dumps(sample, "textgrid", short=True) == expected
    assert formats.dumps(sample, "textgrid-short") == expected


def test_full_precision_and_widened_zero_length_unit(sample):
    grid = formats.loads(formats.dumps(sample, "textgrid"), "textgrid")
    assert grid.units[0].start == 0.30000000000000004  # repr precision kept
    cafe = grid.units[2]
    assert cafe.text == "café!" and cafe.start == 1.12
    assert cafe.end == pytest.approx(1.12 + MIN_INTERVAL)


def test_tiers_in_order_with_gaps_filled(sample):
    from praatio.utilities import textgrid_io

    parsed = textgrid_io.parseTextgridStr(
        formats.dumps(sample, "textgrid"), includeEmptyIntervals=True
    )
    assert [t["name"] for t in parsed["tiers"]] == ["words", "phones", "segments"]
    for tier in parsed["tiers"]:
        entries = [(float(s), float(e)) for s, e, _ in tier["entries"]]
        assert entries[0][0] == 0 and entries[-1][1] == 3.0
        assert all(s < e for s, e in entries)
        assert all(a[1] == b[0] for a, b in zip(entries, entries[1:]))  # contiguous


def test_chars_tier_for_cjk_units():
    chars = _units([("你", 0.0, 0.2), ("好。", 0.2, 0.4)], 1.0, language="Chinese")
    chars = Alignment(
        tuple(Unit(u.text, u.text[0], u.start, u.end) for u in chars.units), duration=1.0
    )
    text = formats.dumps(chars, "textgrid")
    assert 'name = "chars"' in text and 'name = "words"' not in text
    mixed = Alignment(
        (Unit("我", "我", 0.0, 0.2), Unit("iPhone", "iphone", 0.2, 0.6)), duration=1.0
    )
    assert 'name = "words"' in formats.dumps(mixed, "textgrid")
    # The reader takes a chars tier as the unit tier.
    assert [u.text for u in formats.loads(text, "textgrid").units] == ["你", "好。"]


def test_segments_only_alignment_writes_a_segment_tier():
    cues = Alignment((), (Segment("Hello there.", 0.5, 1.5), Segment("Bye.", 2.0, 2.0)), 3.0)
    text = formats.dumps(cues, "textgrid")
    assert 'name = "segments"' in text and 'name = "words"' not in text
    back = formats.loads(text, "textgrid")
    assert back.units == ()
    assert [(s.text, s.start) for s in back.segments] == [("Hello there.", 0.5), ("Bye.", 2.0)]
    assert back.segments[1].end > back.segments[1].start


def test_empty_alignment_still_gives_a_valid_grid():
    text = formats.dumps(Alignment(()), "textgrid")
    back = formats.loads(text, "textgrid")
    assert back.units == () and back.duration == MIN_INTERVAL


def test_overlapping_segments_are_cut_not_overlapping():
    cues = Alignment((), (Segment("a", 0.0, 2.0), Segment("b", 1.5, 3.0)), 3.0)
    back = formats.loads(formats.dumps(cues, "textgrid"), "textgrid")
    assert [(s.start, s.end) for s in back.segments] == [(0.0, 1.5), (1.5, 3.0)]


def test_quotes_and_newlines_survive(tmp_path):
    a = _units([('say "hi"', 0.1, 0.5), ("two\nlines", 0.5, 0.9)], 1.0)
    for short in (False, True):
        back = formats.loads(formats.dumps(a, "textgrid", short=short), "textgrid")
        assert [u.text for u in back.units] == ['say "hi"', "two\nlines"]


def test_tiny_times_are_not_written_in_exponent_form():
    a = _units([("x", 0.00003, 0.5)], 1.0)
    text = formats.dumps(a, "textgrid")
    assert "e-0" not in text
    assert formats.loads(text, "textgrid").units[0].start == 0.0


# -- positive_spans -------------------------------------------------------------------


def test_positive_spans_widen_into_free_time():
    assert positive_spans([(0.5, 0.5)], 1.0) == [(0.5, 0.5 + MIN_INTERVAL)]
    # No room after (the audio ends): grow backwards.
    assert positive_spans([(1.0, 1.0)], 1.0) == [(1.0 - MIN_INTERVAL, 1.0)]
    # Between two touching words: take from the next one.
    out = positive_spans([(0.0, 0.5), (0.5, 0.5), (0.5, 1.0)], 1.0)
    assert out[0] == (0.0, 0.5) and out[1] == (0.5, 0.5 + MIN_INTERVAL)
    assert out[2] == (0.5 + MIN_INTERVAL, 1.0)


def test_positive_spans_keep_valid_spans_exactly():
    spans = [(0.1 + 0.2, 0.7), (0.7, 1.2345678901234567), (2.0, 2.5)]
    assert positive_spans(spans, 3.0) == spans


@st.composite
def _spans(draw):
    times = sorted(draw(st.lists(st.floats(0, 5, allow_subnormal=False), max_size=40)))
    if len(times) % 2:
        times = times[:-1]
    return [(times[i], times[i + 1]) for i in range(0, len(times), 2)]


@given(_spans())
def test_positive_spans_are_positive_ordered_and_bounded(spans):
    out = positive_spans(spans, 5.0)
    assert len(out) == len(spans)
    for i, (s, e) in enumerate(out):
        assert 0 <= s < e <= 5.0
        if i:
            assert out[i - 1][1] <= s


# -- reader ---------------------------------------------------------------------------

_SHORT = dedent(
    """\
    File type = "ooTextFile"
    Object class = "TextGrid"

    0
    2
    <exists>
    3
    "IntervalTier"
    "Words"
    0
    2
    5
    0
    0.3
    ""
    0.3
    0.8
    "Hello,"
    0.8
    1.0
    "<eps>"
    1.0
    1.5
    "World!"
    1.5
    2
    "sp"
    "TextTier"
    "tones"
    0
    2
    1
    0.5
    "H*"
    "IntervalTier"
    "phone"
    0
    2
    3
    0
    0.3
    "sil"
    0.3
    0.5
    "HH"
    0.5
    2
    "AH"
    """
)


def test_reader_picks_word_tier_and_skips_silence_and_points(caplog):
    with caplog.at_level(logging.WARNING, logger="qalign"):
        a = formats.loads(_SHORT, "textgrid")
    assert [(u.text, u.norm, u.start, u.end) for u in a.units] == [
        ("Hello,", "hello", 0.3, 0.8),
        ("World!", "world", 1.0, 1.5),
    ]
    assert [p.label for p in a.phones] == ["HH", "AH"]
    assert a.duration == 2.0
    assert "tones" in caplog.text


def test_reader_tier_option():
    a = formats.loads(_SHORT, "textgrid", tier="phone")
    assert [u.text for u in a.units] == ["HH", "AH"]
    assert a.phones == ()  # the phone tier was taken as the unit tier


def test_unknown_tier_lists_the_tiers():
    with pytest.raises(ValueError, match=r"no tier named 'nope'.*'Words'.*'tones'.*'phone'"):
        formats.loads(_SHORT, "textgrid", tier="nope")


def test_point_tier_cannot_be_the_word_tier():
    with pytest.raises(ValueError, match="point tier"):
        formats.loads(_SHORT, "textgrid", tier="tones")


def test_segments_from_phrase_tier_cover_their_words():
    text = formats.dumps(
        Alignment(
            (Unit("a", "a", 0.0, 0.5), Unit("b", "b", 0.5, 1.0), Unit("c", "c", 1.5, 2.0)),
            (Segment("a b", 0.0, 1.0, 0, 2), Segment("c", 1.5, 2.0, 2, 3)),
            2.0,
        ),
        "textgrid",
    ).replace('name = "segments"', 'name = "phrase"')
    a = formats.loads(text, "textgrid")
    assert [(s.text, s.unit_start, s.unit_end) for s in a.segments] == [("a b", 0, 2), ("c", 2, 3)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le"])
def test_encodings_read_through_load(tmp_path, sample, encoding):
    path = tmp_path / "a.TextGrid"
    path.write_bytes(formats.dumps(sample, "textgrid").encode(encoding))
    assert [u.text for u in formats.load(path).units] == [u.text for u in sample.units]
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(codecs.BOM_UTF8)


def test_missing_final_newline_keeps_last_interval(sample):
    text = formats.dumps(sample, "textgrid", short=True).rstrip("\n")
    assert formats.loads(text, "textgrid").segments[-1].text == sample.segments[-1].text


def test_overlapping_intervals_raise_read_error(tmp_path):
    bad = _SHORT.replace('1.0\n1.5\n"World!"', '0.7\n1.5\n"World!"')
    path = tmp_path / "bad.TextGrid"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ReadError, match="bad.TextGrid"):
        formats.load(path)


def test_float_noise_overlap_is_joined():
    noisy = _SHORT.replace('1.0\n1.5\n"World!"', '0.7999999\n1.5\n"World!"')
    assert formats.loads(noisy, "textgrid").units[1].start == 0.8


@pytest.mark.parametrize(
    "content",
    [
        "",
        "hello world\n",
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = oops\n',
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n1\n<exists>\n1\n"IntervalTier"\n"w"\n0\n1\n1\n0\nx\n"a"\n',
        'File type = "ooBinaryFile"\nObject class = "TextGrid"\n',
    ],
)
def test_garbage_raises_read_error(tmp_path, content):
    path = tmp_path / "g.TextGrid"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReadError, match="g.TextGrid"):
        formats.load(path)


# -- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("short", [False, True])
def test_round_trip_keeps_texts_times_segments_phones(sample, short):
    back = formats.loads(formats.dumps(sample, "textgrid", short=short), "textgrid")
    assert [u.text for u in back.units] == [u.text for u in sample.units]
    assert [u.norm for u in back.units] == [u.norm for u in sample.units]
    for got, want in zip(back.units, sample.units):
        assert got.start == want.start
        assert got.end == want.end or (want.end == want.start and got.end > got.start)
    assert [(s.text, s.start, s.end, s.unit_start, s.unit_end) for s in back.segments] == [
        (s.text, s.start, s.end, s.unit_start, s.unit_end) for s in sample.segments
    ]
    assert [(p.label, p.start, p.end) for p in back.phones] == [
        (p.label, p.start, p.end) for p in sample.phones
    ]
    assert back.duration == sample.duration


def test_json_textgrid_json_keeps_word_times(tmp_path, sample):
    from qalign.cli.main import main

    src = tmp_path / "in.json"
    formats.save(sample, src)
    assert main(["convert", str(src), str(tmp_path / "mid.TextGrid")]) == 0
    assert main(["convert", str(tmp_path / "mid.TextGrid"), str(tmp_path / "out.json")]) == 0
    back = formats.load(tmp_path / "out.json")
    want = [(u.text, u.start, u.end) for u in sample.units if u.end > u.start]
    assert [(u.text, u.start, u.end) for u in back.units if u.text != "café!"] == want


def test_segment_unit_ranges_follow_midpoints():
    from qalign.formats.wordlist import Row, alignment_from_rows

    a = alignment_from_rows(
        [Row("a", 0.0, 1.0), Row("b", 1.0, 2.0), Row("c", 2.5, 3.0), Row("z", 3.0, 3.0)],
        segments=[Row("x", 0.8, 2.0), Row("y", 2.2, 3.0)],
    )
    # "a" straddles the first segment's start with its midpoint outside: it belongs to none;
    # the zero-length "z" at the second segment's end still belongs to it.
    assert [(s.unit_start, s.unit_end) for s in a.segments] == [(1, 2), (2, 4)]


def _tiers_grid(tiers: dict[str, list[tuple[float, float, str]]], xmax: float = 4.0) -> str:
    """A short-form TextGrid of interval tiers that cover 0..xmax."""
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "0", str(xmax)]
    out += ["<exists>", str(len(tiers))]
    for name, rows in tiers.items():
        out += ['"IntervalTier"', f'"{name}"', "0", str(xmax), str(len(rows))]
        for start, end, text in rows:
            out += [str(start), str(end), f'"{text}"']
    return "\n".join(out) + "\n"


def test_a_speakers_word_tier_takes_that_speakers_phones_only() -> None:
    anna_words = [(0, 1, "hello"), (1, 2, "there"), (2, 4, "")]
    ben_words = [(0, 2, ""), (2, 3, "good"), (3, 4, "morning")]
    two = _tiers_grid(
        {
            "anna - words": anna_words,
            "anna - phones": [(0, 1, "H"), (1, 2, "T"), (2, 4, "")],
            "ben - words": ben_words,
            "ben - phones": [(0, 2, ""), (2, 3, "G"), (3, 4, "M")],
        }
    )
    ben = formats.loads(two, "textgrid", tier="ben - words")
    assert [u.text for u in ben.units] == ["good", "morning"]
    assert [p.label for p in ben.phones] == ["G", "M"]  # not anna's, which come first
    anna = formats.loads(two, "textgrid", tier="anna - words")
    assert [p.label for p in anna.phones] == ["H", "T"]
    # a phone tier of no speaker still goes with any speaker's words
    shared = _tiers_grid({"ben - words": ben_words, "phones": [(0, 2, "X"), (2, 4, "Y")]})
    assert [p.label for p in formats.loads(shared, "textgrid", tier="ben - words").phones] == [
        "X",
        "Y",
    ]
