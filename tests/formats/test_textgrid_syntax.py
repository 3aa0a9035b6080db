"""TextGrids read as Praat reads them: labels holding TextGrid syntax, exponent times,
comments, errors with line numbers; checked against Praat itself when installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from qalign import formats
from qalign.alignment import Alignment, Unit
from qalign.errors import ReadError
from qalign.formats.praat_text import parse_textgrid
from qalign.formats.safetext import visible

TRICKY = [
    "item [2]:",
    '"IntervalTier"',
    'class = "TextTier"',
    "intervals: size = 99",
    "two\nlines",
    "bell\x07 and nul\x00",
    '""',
    "<exists>",
    "! not a comment",
]


def _tricky() -> Alignment:
    units = [Unit(t, "x", 0.1 + i * 0.2, 0.25 + i * 0.2) for i, t in enumerate(TRICKY)]
    return Alignment(tuple(units), duration=2.0)


@pytest.mark.parametrize("name", ["textgrid", "textgrid-short"])
def test_labels_holding_textgrid_syntax_read_back(name):
    back = formats.loads(formats.dumps(_tricky(), name), "textgrid")
    assert [u.text for u in back.units] == [visible(t) for t in TRICKY]


def test_praat_exponent_times_and_comments():
    text = (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\n'
        "xmin = 0 ! a comment\nxmax = 2 \ntiers? <exists> \nsize = 1 \nitem []: \n"
        '    item [1]:\n        class = "IntervalTier" \n        name = "words" \n'
        "        xmin = 0 \n        xmax = 2 \n        intervals: size = 2 \n"
        "        intervals [1]:\n            xmin = 0 \n            xmax = 1.5e-05 \n"
        '            text = "" \n        intervals [2]:\n            xmin = 1.5e-05 \n'
        '            xmax = 2 \n            text = "hi" \n'
    )
    (unit,) = formats.loads(text, "textgrid").units
    assert (unit.text, unit.start, unit.end) == ("hi", 1.5e-05, 2.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = "oops"\n',
            "line 5: expected the grid's xmax",
        ),
        (
            'File type = "ooTextFile"\nObject class = "TextGrid"\n0\n2\n<exists>\n1\n"IntervalTier"\n'
            '"w"\n0\n2\n2\n0\n1\n"a"\n0.5\n1.5\n"b"\n',
            "line 17: tier 'w': 'b' starts",
        ),
        (
            'File type = "ooTextFile"\nObject class = "TextGrid"\n0\n2\n<exists>\n1\n"IntervalTier"\n'
            '"w"\n0\n2\n1\n1\n0.5\n"a"\n',
            "line 14: tier 'w': 'a' ends",
        ),
        (
            'File type = "ooTextFile"\nObject class = "TextGrid"\n0\n2\n<exists>\n1\n"IntervalTier"\n'
            '"w"\n0\n2\n3\n0\n1\n"a"\n',
            "the file ends where an interval's start was expected",
        ),
        (
            'File type = "ooTextFile"\nObject class = "TextGrid"\n0\n2\n<exists>\n1\n"Circle"\n',
            "line 7: unknown tier class 'Circle'",
        ),
        ("hello world", "not a TextGrid"),
        ('File type = "ooBinaryFile"', "binary TextGrid"),
    ],
)
def test_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "bad.TextGrid"
    path.write_text(text)
    with pytest.raises(ReadError) as info:
        formats.load(path)
    assert str(info.value).startswith(f"{path}: invalid textgrid: ")
    assert message in str(info.value)


@pytest.mark.parametrize(
    "junk", [" ", "x", '"', "[", "[a", "<", "<a", "!", '"x', "1", "=", ":"], ids=repr
)
def test_hostile_text_is_scanned_in_linear_time(junk):
    import time

    start = time.perf_counter()
    with pytest.raises(ValueError):
        parse_textgrid('File type = "ooTextFile"\nObject class = "TextGrid"\n' + junk * 100_000)
    assert time.perf_counter() - start < 2.0  # quadratic scanning takes minutes here


_DUMP = """\
form Dump
    sentence path
endform
Read from file: path$
n = Get number of intervals: 1
for i from 1 to n
    label$ = Get label of interval: 1, i
    if label$ <> ""
        appendInfoLine: replace$(label$, newline$, "\\n", 0)
    endif
endfor
"""


@pytest.mark.clients
@pytest.mark.skipif(shutil.which("praat") is None, reason="praat is not installed")
@pytest.mark.parametrize("name", ["textgrid", "textgrid-short"])
def test_praat_reads_the_same_labels(tmp_path, name):
    path = tmp_path / "tricky.TextGrid"
    path.write_text(formats.dumps(_tricky(), name), encoding="utf-8")
    script = tmp_path / "dump.praat"
    script.write_text(_DUMP)
    out = subprocess.run(
        ["praat", "--run", str(script), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "null" not in out.stderr.lower()
    expected = [visible(t).replace("\n", "\\n") for t in TRICKY]
    assert out.stdout.splitlines() == expected
