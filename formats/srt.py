"""SubRip (``.srt``): numbered cue blocks with ``HH:MM:SS,mmm`` times.

Writer: cues from :mod:`qalign.formats.cues` (keyword options ``max_chars``,
``max_lines``, ``max_duration``, ``min_duration`` and the other
:class:`~qalign.formats.cues.CueOptions` fields); times in integer milliseconds
rounded half up, never zero-length or overlapping; blocks numbered from 1; LF
line ends. SubRip defines no escaping; text that readers would take as tags
(``<i>``, ``{\\b1}``), a timing line or a cue number is neutralised with an
invisible word joiner (:mod:`qalign.formats.subtitle_text`). With
``highlight_words=True`` each cue becomes one cue per word state, the word
being spoken in ``<font color="#ffff00">``.

Reader, tolerant of what real files contain: a BOM; CRLF, LF or CR line ends;
missing cue numbers; ``.`` or ``,`` before the fraction, which may have 0 to 3
or more digits (a decimal fraction: ``,04`` is 40 ms); text after the end time
(position hints); ``<b>``/``<i>``/``<u>``/``<s>``/``<font>`` tags and ``{\\...}``
override blocks, which are removed (entities such as ``&amp;`` are kept as
written). A block without a timing line raises ``ValueError`` naming the line.
Cues become the segments of an alignment without units; see
:func:`qalign.formats.cues.alignment_from_cues` for blank, overlapping and
unordered cues.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from qalign.alignment import Alignment
from qalign.formats.base import Format
from qalign.formats.cues import Cue, alignment_from_cues, timed_cues
from qalign.formats.registry import register
from qalign.formats.subtitle_text import drop_joiners, neutral_srt
from qalign.formats.timing import to_ms

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[,.](\d+))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s.*)?$")
_TAGS = re.compile(r"</?(?:b|i|u|s|font)(?:\s[^<>]*)?>|\{\\[^{}]*\}", re.IGNORECASE)


def format_ms(ms: int, fraction_sep: str) -> str:
    """``HH:MM:SS<sep>mmm`` for a time in integer milliseconds (hours grow past 99)."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{fraction_sep}{millis:03d}"


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` without a leading BOM; CRLF, CR and LF all end a line."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


#: Private-use marks around the highlighted word until the writer turns them into tags.
MARK_ON, MARK_OFF = "\ue000", "\ue001"
_HIGHLIGHT_SRT = ('<font color="#ffff00">', "</font>")


def cue_blocks(
    alignment: Alignment,
    fraction_sep: str,
    numbered: bool,
    payload: Callable[[Cue, int, int], str],
    options: dict[str, Any],
    highlight: Callable[[str], str] | None = None,
) -> str:
    """Cue blocks shared by SRT and WebVTT: ``[number]``, times, payload, blank line.

    ``payload(cue, start_ms, end_ms)`` renders the text; its blank lines are dropped
    because a blank line ends a cue in both formats. With ``highlight`` and
    ``highlight_words=True`` in ``options``, a cue with units becomes one cue per
    word state (:func:`word_states`), whose text ``highlight`` renders from the
    marked text.
    """
    blocks = []
    entries: list[tuple[int, int, str]] = []
    for start, end, cue in timed_cues(alignment, 0.001, **options):
        if highlight is not None and options.get("highlight_words") and cue.units:
            entries.extend((s, e, highlight(text)) for s, e, text in word_states(cue, start, end))
        else:
            entries.append((start, end, payload(cue, start, end)))
    for number, (start, end, body) in enumerate(entries, 1):
        text = "\n".join(line for line in body.split("\n") if line.strip())
        head = f"{number}\n" if numbered else ""
        blocks.append(
            f"{head}{format_ms(start, fraction_sep)} --> {format_ms(end, fraction_sep)}\n{text}\n"
        )
    return "\n".join(blocks)


def word_states(cue: Cue, start: int, end: int) -> list[tuple[int, int, str]]:
    """One ``(start_ms, end_ms, text)`` per unit of ``cue``: from the unit's start (the
    cue's start for the first unit) to the next unit's start (the cue's end for the
    last), the text with that unit between :data:`MARK_ON` and :data:`MARK_OFF`. A
    unit whose state would last less than a millisecond shares the next state."""
    n = len(cue.units)
    bounds = [start] + [min(max(to_ms(u.start), start), end) for u in cue.units[1:]] + [end]
    for k in range(1, n + 1):
        bounds[k] = max(bounds[k], bounds[k - 1])
    states = []
    for k in range(n):
        if bounds[k + 1] <= bounds[k]:
            continue
        parts = []
        for i, (sep, unit) in enumerate(zip(cue.seps, cue.units)):
            text = unit.text.replace(MARK_ON, "").replace(MARK_OFF, "")
            parts.append(sep + (MARK_ON + text + MARK_OFF if i == k else text))
        states.append((bounds[k], bounds[k + 1], "".join(parts) + cue.tail))
    return states


def _srt_highlight(text: str) -> str:
    return (
        neutral_srt(text).replace(MARK_ON, _HIGHLIGHT_SRT[0]).replace(MARK_OFF, _HIGHLIGHT_SRT[1])
    )


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str | None) -> float:
    if int(minutes) > 59 or int(seconds) > 59:
        raise ValueError("minutes or seconds above 59")
    millis = round(int(fraction) * 1000 / 10 ** len(fraction)) if fraction else 0
    return (int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)) + millis / 1000


def _timing(line: str) -> tuple[float, float] | None:
    m = _TIMING.match(line)
    if not m:
        return None
    g = m.groups()
    return _seconds(*g[:4]), _seconds(*g[4:])


def clean_srt_text(lines: list[str]) -> str:
    text = "\n".join(drop_joiners(_TAGS.sub("", line)).strip() for line in lines)
    return "\n".join(line for line in text.split("\n") if line)


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    """``(start, end, text)`` per cue, in file order.

    Raises:
        ValueError: a block has no timing line, or a timing line is out of range;
            the message gives the line number.
    """
    return [(start, end, body) for _line, start, end, body in srt_blocks(text)]


def srt_blocks(text: str) -> list[tuple[int, float, float, str]]:
    """``(timing line index from 0, start, end, text)`` per cue, in file order
    (:func:`parse_srt` with the line of each timing)."""
    lines = split_lines(text)
    cues: list[tuple[int, float, float, str]] = []
    pos = 0
    while pos < len(lines):
        line = lines[pos]
        if not line.strip():
            pos += 1
            continue
        try:
            times = _timing(line)
            if times is None and line.strip().isdigit() and pos + 1 < len(lines):
                pos += 1
                times = _timing(lines[pos])
        except ValueError as exc:
            raise ValueError(
                f"line {pos + 1}: bad cue timing {lines[pos].strip()!r} ({exc})"
            ) from None
        if times is None:
            raise ValueError(
                f"line {pos + 1}: expected a cue number or timing line, got {lines[pos].strip()[:60]!r}"
            )
        timing_at = pos
        pos += 1
        body: list[str] = []
        while pos < len(lines) and lines[pos].strip() and not _TIMING.match(lines[pos]):
            body.append(lines[pos])
            pos += 1
        if pos < len(lines) and _TIMING.match(lines[pos]) and body and body[-1].strip().isdigit():
            body.pop()  # the next cue's number, with no blank line before it
            pos -= 1
        cues.append((timing_at, times[0], times[1], clean_srt_text(body)))
    return cues


@register
class SrtFormat(Format):
    name = "srt"
    extensions = (".srt",)
    description = "SubRip subtitles (cues built from words; millisecond times)"

    def dumps(self, alignment: Alignment, **options: Any) -> str:
        document = options.pop("document", None)
        if document is not None and document.family == "srt":
            return document.render(alignment, **options)
        return cue_blocks(
            alignment, ",", True, lambda cue, _s, _e: neutral_srt(cue.text), options, _srt_highlight
        )

    def loads(self, text: str, **_: Any) -> Alignment:
        return alignment_from_cues(parse_srt(text), "srt")
