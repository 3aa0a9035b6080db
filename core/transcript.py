"""Reading transcripts, guessing their language from the script they use, and the
rule that a transcript must be in proportion to its audio.

Limits (see the README, "What qalign does with bad input"):

* a transcript file holds at most :data:`MAX_TRANSCRIPT_BYTES` (checked before it is
  read; standard input is read up to the limit);
* :func:`check_rate`: at most :data:`MAX_UNITS_PER_SECOND` words per second of audio
  (CJK characters count one each) plus :data:`RATE_SLACK` words, checked against the
  container's duration before any decoding or model; above
  :data:`WARN_UNITS_PER_SECOND` a warning says the transcript may not match.
"""

from __future__ import annotations

import logging
import sys
import unicodedata
from pathlib import Path

from qalign.errors import TranscriptError

logger = logging.getLogger("qalign")

MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024
"""Largest transcript read (64 MiB: a day of fast speech is under 20 MiB)."""

MAX_UNITS_PER_SECOND = 20.0
"""Words (or CJK characters) per second of audio beyond which a transcript is refused.
Fast speech is 3-5 words or 6-9 CJK characters per second."""

WARN_UNITS_PER_SECOND = 10.0
"""Words per second above which a warning says the transcript may not fit the audio."""

RATE_SLACK = 20
"""Words always allowed on top of the rate, so that very short clips are not refused."""


def read_transcript(path: str | Path) -> str:
    """Read a transcript: UTF-8 (BOM tolerated) or UTF-16 with a BOM, CRLF tolerated;
    ``-`` reads standard input. At most :data:`MAX_TRANSCRIPT_BYTES`.

    Raises:
        TranscriptError: missing file, too large, not UTF-8/UTF-16, nothing but whitespace,
            or no letter or digit at all.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    limit = MAX_TRANSCRIPT_BYTES
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            size = Path(path).stat().st_size
            if size > limit:
                raise TranscriptError(
                    name,
                    f"is {size / 2**20:.0f} MiB; a transcript may hold at most {limit // 2**20} MiB",
                )
            with open(path, "rb") as handle:  # a pipe has no size: read one byte past the limit
                data = handle.read(limit + 1)
    except FileNotFoundError:
        raise TranscriptError(name, "no such file") from None
    except IsADirectoryError:
        raise TranscriptError(name, "is a folder, not a transcript") from None
    except OSError as exc:
        raise TranscriptError(name, exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise TranscriptError(
            name, f"holds more than {limit // 2**20} MiB; a transcript may hold at most that"
        )
    from qalign.formats.base import decode_text

    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise TranscriptError(
            name, f"is not UTF-8 or UTF-16 text (bad byte at offset {exc.start})"
        ) from None
    del data
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise TranscriptError(name, "is empty")
    require_letters(text, name)
    return text


def require_letters(text: str, name: str) -> None:
    """Refuse a transcript with no letter or digit (only punctuation, symbols such as
    ``♪``): no engine has anything to align in it, and the problem is the transcript's.

    Raises:
        TranscriptError: naming ``name``.
    """
    if not any(ch.isalnum() for ch in text):
        raise TranscriptError(name, "has no letters or digits to align")


def guess_language(text: str) -> str:
    """A language name from the script that dominates ``text``.

    Hangul means Korean, Han Chinese, Cyrillic Russian; anything else is taken
    as English. Kana with Han counts as Japanese (Japanese mixes them), but only
    when that is the largest group: a Russian or English text quoting one
    Japanese word stays Russian or English. It only picks the word splitter:
    pass the language explicitly for German, French and the other Latin-script
    languages so the output records it.
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
    if counts["Japanese"]:  # Japanese mixes kana with Han characters
        counts["Japanese"] += counts.pop("Chinese")
    best = max(counts, key=lambda k: counts[k])
    return "English" if best == "Latin" or counts[best] == 0 else best


def count_units(text: str) -> int:
    """Roughly how many units an engine will time in ``text``: its blank-separated
    words, with each CJK ideograph, kana or Hangul syllable counted as one."""
    units = 0
    for word in text.split():
        wide = sum(1 for ch in word if _is_wide(ch))
        units += wide if wide else 1
    return units


def _is_wide(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x9FFF  # CJK ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
    )


def check_rate(text: str, duration: float, name: str, *, warn: bool = True) -> None:
    """Refuse a transcript out of proportion to ``duration`` seconds of audio (from the
    container, before decoding), and warn on an implausible rate (unless ``warn`` is
    false: an early check before the aligner, which checks and warns again).

    Raises:
        TranscriptError: more than ``MAX_UNITS_PER_SECOND * duration + RATE_SLACK`` units.
    """
    if duration <= 0:  # unknown length (some streams): the engines bound the work
        return
    units = count_units(text)
    if units > MAX_UNITS_PER_SECOND * duration + RATE_SLACK:
        raise TranscriptError(
            name,
            f"has {units} words for {duration:.1f} s of audio ({units / duration:.0f} per second); "
            f"qalign refuses more than {MAX_UNITS_PER_SECOND:g} per second: is it the right transcript?",
        )
    if warn and units > WARN_UNITS_PER_SECOND * duration + RATE_SLACK:
        logger.warning(
            "%s: %d words for %.1f s of audio (%.0f per second) is faster than speech; "
            "is it the right transcript?",
            name,
            units,
            duration,
            units / duration,
        )
