"""--cues lines: transcript lines as segments, one cue per line, stanzas."""

from __future__ import annotations

from qalign import formats
from qalign.alignment import Alignment, Unit
from qalign.formats.transcript_lines import line_segments

LYRICS = "Twinkle twinkle little star,\nHow I wonder what you are!\n\nUp above the world so high\n"


def _aligned(text: str) -> Alignment:
    units, pos, t = [], 0, 0.5
    for word in text.split():
        at = text.index(word, pos)
        pos = at + len(word)
        units.append(Unit(word, word.strip(",!").lower(), t, t + 0.3, None, at, pos))
        t += 0.4
    return Alignment(tuple(units), duration=t + 1)


def test_each_line_is_one_cue_and_a_blank_line_ends_a_stanza():
    a = line_segments(_aligned(LYRICS), LYRICS)
    texts = [s.text for s in a.segments]
    assert texts == [
        "Twinkle twinkle little star,",
        "How I wonder what you are!",
        "",
        "Up above the world so high",
    ]
    srt = formats.dumps(a, "srt", cues="lines")
    assert srt.count("-->") == 3
    assert "How I wonder what you are!\n" in srt
    lrc = formats.dumps(a, "lrc-enhanced", cues="lines", min_duration=0)
    lines = lrc.splitlines()
    # The stanza's last line is followed by a clear line, though the pause is short.
    k = next(i for i, line in enumerate(lines) if "wonder" in line)
    assert lines[k + 1].endswith("]") and lines[k + 1].count("[") == 1
    assert "<00:00.50>Twinkle <00:00.90>twinkle" in lrc


def test_lines_mode_keeps_words_with_unplaced_units_out_of_the_times():
    a = _aligned("one two\nthree four\n")
    units = list(a.units)
    units[3] = Unit(
        "four",
        "four",
        units[3].start,
        units[3].end,
        None,
        units[3].char_start,
        units[3].char_end,
        "unaligned",
    )
    a = line_segments(Alignment(tuple(units), duration=a.duration), "one two\nthree four\n")
    assert a.segments[1].end == units[2].end  # the unaligned "four" does not stretch the line
