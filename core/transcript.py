"""Reading transcripts, and guessing their language from the script they use."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

from qalign.errors import TranscriptError


def read_transcript(path: str | Path) -> str:
    """Read a UTF-8 transcript (BOM and CRLF tolerated); ``-`` reads standard input.

    Raises:
        TranscriptError: missing file, not UTF-8, or nothing but whitespace.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise TranscriptError(name, "no such file") from None
    except IsADirectoryError:
        raise TranscriptError(name, "is a folder, not a transcript") from None
    except OSError as exc:
        raise TranscriptError(name, exc.strerror or str(exc)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptError(name, f"is not UTF-8 text (bad byte at offset {exc.start})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TranscriptError(name, "is empty")
    return text


def guess_language(text: str) -> str:
    """A language name from the script that dominates ``text``.

    Kana means Japanese, Hangul Korean, Han Chinese, Cyrillic Russian; anything
    else is taken as English. It only picks the word splitter: pass the
    language explicitly for German, French and the other Latin-script languages
    so the output records it.
    """
    counts = {"Japanese": 0, "Korean": 0, "Chinese": 0, "Russian": 0, "Latin": 0}
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if name.startswith(("HIRAGANA", "KATAKANA")):
            counts["Japanese"] += 1
        elif name.startswith("HANGUL"):
            counts["Korean"] += 1
        elif name.startswith("CJK"):
            counts["Chinese"] += 1
        elif name.startswith("CYRILLIC"):
            counts["Russian"] += 1
        else:
            counts["Latin"] += 1
    if counts["Japanese"]:
        return "Japanese"  # Japanese mixes kana with Han characters
    best = max(counts, key=lambda k: counts[k])
    return "English" if best == "Latin" or counts[best] == 0 else best
