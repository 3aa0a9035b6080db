"""Control characters never reach a written file raw; times beyond the bound are refused."""

from __future__ import annotations

import json
import re

import pytest

from qalign import formats
from qalign.alignment import MAX_SECONDS, Alignment, Unit
from qalign.errors import ReadError, ValidationError
from qalign.formats.safetext import json_escape_controls, visible

RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
NASTY = "a\x00b\x1b[31mc\x07d\x08e\x7ff\x9bg"


def test_visible_keeps_the_text():
    assert visible(NASTY) == "a\u2400b\u241b[31mc\u2407d\u2408e\u2421f\ufffdg"
    assert visible("tab\tand\nnewline") == "tab\tand\nnewline"
    assert visible("plain") == "plain"
    assert visible("lone \ud800") == "lone \ufffd"


def test_json_escapes_are_lossless():
    text = json_escape_controls(json.dumps({"t": "x\x7f\x85\ud800"}, ensure_ascii=False))
    assert not RAW.search(text) and json.loads(text) == {"t": "x\x7f\x85\ud800"}


@pytest.mark.parametrize("name", ["tsv", "ctm", "audacity", "eaf", "json", "textgrid"])
def test_word_formats_write_no_raw_controls(name):
    a = Alignment((Unit(NASTY, "abcdefg", 0.1, 0.5), Unit("ok", "ok", 0.6, 0.9)), duration=1.0)
    text = formats.dumps(a, name)
    assert not RAW.search(text)
    back = formats.loads(text, name)
    assert [u.text for u in back.units][-1] == "ok"
    first = back.units[0].text
    assert first == (NASTY if name == "json" else visible(NASTY))


@pytest.mark.parametrize("line", ["a 1 0.5 1e308 hello\n", "a 1 1e307 1 hello\n"])
def test_huge_times_are_a_read_error(tmp_path, line):
    path = tmp_path / "huge.ctm"
    path.write_text(line)
    with pytest.raises(ReadError, match=r"huge.ctm: .*largest time qalign handles"):
        formats.load(path)


def test_data_model_bound():
    with pytest.raises(ValidationError):
        Unit("x", "x", 0.0, MAX_SECONDS * 2)
    with pytest.raises(ValidationError):
        Alignment((), duration=MAX_SECONDS * 2)
