"""WebVTT (``.vtt``): SubRip's cue blocks with a ``WEBVTT`` header and ``.`` before milliseconds.

Writer: the SRT writer's cues and millisecond rounding (see :mod:`qalign.formats.srt`),
without cue numbers; ``&``, ``<`` and ``>`` in text become ``&amp;``, ``&lt;``,
``&gt;``. With ``word_timestamps=True`` each unit after a cue's first carries
its start as a karaoke timestamp, ``<00:00:01.200><c>word</c>``; a timestamp
that would not fall strictly inside the cue, after the previous one, is left out
(the specification requires that order). Word timestamps are on by default
with ``cues="lines"`` (lyrics). With ``highlight_words=True`` each cue becomes
one cue per word state, the word being spoken in ``<u>``.

Reader, after https://www.w3.org/TR/webvtt1/#file-parsing: the file must start
with ``WEBVTT`` (after an optional BOM) followed by the end of the line, a space
or a tab; header lines up to the first blank line are skipped; ``NOTE``,
``STYLE`` and ``REGION`` blocks are skipped, as is any other block without a
timing line before the first cue; cue identifiers and cue settings are
ignored; ``mm:ss.ttt`` times (no hours) are accepted; a line containing
``-->`` ends the cue before it. Tags (``<c>``, ``<v Name>``, ``<b>``, inline
timestamps) are removed, ``<rt>`` ruby text dropped and character references
decoded. Where a browser would silently drop a cue (a malformed time, text
without a timing line after the first cue) the reader raises ``ValueError``
naming the line instead of losing text.
"""

from __future__ import annotations

import html
import re
from typing import Any

from qalign.alignment import Alignment
from qalign.formats.base import Format
from qalign.formats.cues import Cue, alignment_from_cues
from qalign.formats.registry import register
from qalign.formats.srt import MARK_OFF, MARK_ON, cue_blocks, format_ms, split_lines
from qalign.formats.subtitle_text import visible_controls
from qalign.formats.timing import to_ms

_TIME = r"(\d+):(\d{2})(?::(\d{2}))?\.(\d{3})"
_TIMING = re.compile(rf"^{_TIME}[ \t]*-->[ \t]*{_TIME}")
_SIGNATURE = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_SKIPPED_BLOCK = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t].*)?$")
_RUBY_TEXT = re.compile(r"<rt(?:[ \t.][^<>]*)?>.*?</rt>", re.DOTALL)
_TAG = re.compile(r"<[^<>\n]*>")


def escape(text: str) -> str:
    """Cue text with ``&``, ``<`` and ``>`` as character references, controls visible."""
    text = visible_controls(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _highlight(text: str) -> str:
    return escape(text).replace(MARK_ON, "<u>").replace(MARK_OFF, "</u>")


def _payload(cue: Cue, start: int, end: int, word_timestamps: bool) -> str:
    if not (word_timestamps and cue.units):
        return escape(cue.text)
    parts = []
    last = start
    for k, (sep, unit) in enumerate(zip(cue.seps, cue.units)):
        at = to_ms(unit.start)
        if k and last < at < end:
            parts.append(f"{escape(sep)}<{format_ms(at, '.')}><c>{escape(unit.text)}</c>")
            last = at
        else:
            parts.append(escape(sep + unit.text))
    return "".join(parts) + escape(cue.tail)


def _seconds(first: str, second: str, third: str | None, millis: str) -> float:
    """Seconds from the fields of ``hh:mm:ss.ttt`` or ``mm:ss.ttt`` (two-digit minutes)."""
    if third is None:
        if len(first) != 2:
            raise ValueError("minutes must have two digits")
        hours, minutes, seconds = 0, int(first), int(second)
    else:
        hours, minutes, seconds = int(first), int(second), int(third)
    if minutes > 59 or seconds > 59:
        raise ValueError("minutes or seconds above 59")
    return hours * 3600 + minutes * 60 + seconds + int(millis) / 1000


def _timing(line: str, number: int) -> tuple[float, float]:
    m = _TIMING.match(line.strip(" \t"))
    try:
        if not m:
            raise ValueError("expected 'start --> end' with [hh:]mm:ss.ttt times")
        g = m.groups()
        return _seconds(*g[:4]), _seconds(*g[4:])
    except ValueError as exc:
        raise ValueError(f"line {number}: bad cue timing {line.strip()!r} ({exc})") from None


def clean_vtt_text(lines: list[str]) -> str:
    text = _TAG.sub("", _RUBY_TEXT.sub("", "\n".join(lines)))
    text = "\n".join(html.unescape(line).strip() for line in text.split("\n"))
    return "\n".join(line for line in text.split("\n") if line)


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    """``(start, end, text)`` per cue, in file order.

    Raises:
        ValueError: no ``WEBVTT`` signature, a cue timing inside the header, a
            malformed timing, or text without a timing line after the first cue.
    """
    return [(start, end, body) for _line, start, end, body in vtt_blocks(text)]


def vtt_blocks(text: str) -> list[tuple[int, float, float, str]]:
    """``(timing line index from 0, start, end, text)`` per cue, in file order
    (:func:`parse_vtt` with the line of each timing)."""
    lines = [line.replace("\0", "\ufffd") for line in split_lines(text)]
    if not _SIGNATURE.match(lines[0]):
        raise ValueError(f"line 1: missing the 'WEBVTT' signature (got {lines[0][:40]!r})")
    pos = 1
    while pos < len(lines) and lines[pos]:
        if "-->" in lines[pos]:
            raise ValueError(
                f"line {pos + 1}: cue timing inside the header; a blank line must follow it"
            )
        pos += 1
    cues: list[tuple[int, float, float, str]] = []
    while pos < len(lines):
        line = lines[pos]
        if not line.strip():
            pos += 1
            continue
        if "-->" in line:
            timing_at = pos
        elif pos + 1 < len(lines) and "-->" in lines[pos + 1] and not _SKIPPED_BLOCK.match(line):
            timing_at = pos + 1  # after a cue identifier
        else:
            if cues and not _SKIPPED_BLOCK.match(line):
                raise ValueError(
                    f"line {pos + 1}: text without a cue timing line: {line.strip()[:60]!r}"
                )
            while pos < len(lines) and lines[pos].strip():
                pos += 1
            continue
        start, end = _timing(lines[timing_at], timing_at + 1)
        pos = timing_at + 1
        body = []
        while pos < len(lines) and lines[pos].strip() and "-->" not in lines[pos]:
            body.append(lines[pos])
            pos += 1
        cues.append((timing_at, start, end, clean_vtt_text(body)))
    return cues


@register
class VttFormat(Format):
    name = "vtt"
    extensions = (".vtt",)
    description = "WebVTT subtitles (cues built from words; optional word timestamps)"

    def dumps(
        self, alignment: Alignment, *, word_timestamps: bool | None = None, **options: Any
    ) -> str:
        document = options.pop("document", None)
        if document is not None and document.family == "vtt":
            return document.render(alignment, **options)
        if word_timestamps is None:  # lyrics and scripts (not re-timed subtitles): word times
            lyrics = options.get("cues") == "lines" or options.get("preset") == "karaoke"
            word_timestamps = lyrics and document is None

        def payload(cue: Cue, start: int, end: int) -> str:
            return _payload(cue, start, end, bool(word_timestamps))

        body = cue_blocks(alignment, ".", False, payload, options, _highlight)
        return "WEBVTT\n\n" + body

    def loads(self, text: str, **_: Any) -> Alignment:
        return alignment_from_cues(parse_vtt(text), "vtt")
