import io
import sys

import pytest

from qalign.errors import TranscriptError
from qalign.transcript import guess_language, read_transcript


def test_bom_and_crlf_tolerated(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(b"\xef\xbb\xbfHello,\r\nworld!\r\n")
    assert read_transcript(p) == "Hello,\nworld!\n"


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("héllo".encode())))
    assert read_transcript("-") == "héllo"


@pytest.mark.parametrize(
    "content, needle",
    [(None, "no such file"), (b"  \n\t", "is empty"), (b"\xff\xfe\x00bad", "not UTF-8")],
)
def test_bad_transcripts_name_the_file(tmp_path, content, needle):
    p = tmp_path / "t.txt"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(TranscriptError, match=needle) as info:
        read_transcript(p)
    assert str(p) in str(info.value)


@pytest.mark.parametrize(
    "text, language",
    [
        ("Hello there, friend.", "English"),
        ("今日はいい天気ですね", "Japanese"),
        ("안녕하세요 여러분", "Korean"),
        ("我们今天去公园", "Chinese"),
        ("Привет, мир", "Russian"),
        ("1234 !!", "English"),
    ],
)
def test_guess_language(text, language):
    assert guess_language(text) == language
