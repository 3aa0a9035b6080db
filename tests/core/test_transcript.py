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
    [
        (None, "no such file"),
        (b"  \n\t", "is empty"),
        (b"\xff\xfe\x00ba", "not UTF-8 or UTF-16"),
        (b"\x80bad", "not UTF-8"),
    ],
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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_bom_transcripts(tmp_path, encoding):
    from qalign.transcript import read_transcript

    path = tmp_path / "t.txt"
    data = "Hello wörld\r\nsecond line\n".encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        data = ("\ufeff" + "Hello wörld\r\nsecond line\n").encode(encoding)  # with its BOM
    path.write_bytes(data)
    assert read_transcript(path) == "Hello wörld\nsecond line\n"


def test_transcript_size_limit(tmp_path, monkeypatch):
    from qalign import transcript

    monkeypatch.setattr(transcript, "MAX_TRANSCRIPT_BYTES", 100)
    path = tmp_path / "big.txt"
    path.write_text("word " * 30)
    with pytest.raises(TranscriptError, match=r"big.txt: is 0 MiB; a transcript may hold at most"):
        transcript.read_transcript(path)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Привет мир, это тест ひ", "Russian"),
        ("hello world this is a test カ", "English"),
        ("今日はいい天気ですね", "Japanese"),
        ("日本語の文章です", "Japanese"),
        ("我们今天去公园", "Chinese"),
    ],
)
def test_one_kana_does_not_make_a_text_japanese(text, language):
    from qalign.transcript import guess_language

    assert guess_language(text) == language


def test_rate_bound(caplog):
    from qalign.transcript import check_rate, count_units

    assert count_units("hello big world 今日は") == 6
    check_rate("word " * 40, 5.0, "t.txt")  # 8 per second: fine, no warning
    assert not caplog.records
    check_rate("word " * 90, 5.0, "t.txt")  # 18 per second: a warning
    assert "faster than speech" in caplog.text
    with pytest.raises(TranscriptError, match=r"t.txt: has 5000 words for 5.0 s of audio"):
        check_rate("word " * 5000, 5.0, "t.txt")
    check_rate("word " * 5000, 0.0, "t.txt")  # unknown duration: not judged here


@pytest.mark.parametrize("text", ["... !!! ???\n", "\u266a \u266a\n", "-- \u3002\n"])
def test_a_transcript_without_letters_or_digits_is_refused_by_name(tmp_path, text):
    """Named as the transcript's problem, before any audio is decoded or model loaded."""
    from qalign.errors import TranscriptError
    from qalign.transcript import read_transcript

    path = tmp_path / "p.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TranscriptError, match="p.txt.*no letters or digits to align"):
        read_transcript(path)
    path.write_text(text + "x\n", encoding="utf-8")
    assert read_transcript(path).endswith("x\n")
