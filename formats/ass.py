"""Advanced SubStation Alpha (``.ass``), plain and karaoke; writers only.

Times are ``H:MM:SS.cc`` in integer centiseconds, rounded half up as Aegisub
rounds milliseconds to centiseconds; cues come from :mod:`qalign.formats.cues`
(same keyword options as SRT) and are never zero-length or overlapping. The
script has ``[Script Info]`` (``PlayResX: 1920``, ``PlayResY: 1080``),
``[V4+ Styles]`` with one ``Default`` style and ``[Events]`` with one
``Dialogue`` per cue.

Text escaping (ASS has no standard escape; these are the libass ones that
ffmpeg also writes): ``{`` and ``}`` become ``\\{`` and ``\\}``; a backslash is
followed by U+2060 WORD JOINER so that it never combines with the next
character into ``\\N``, ``\\n``, ``\\h`` or a brace escape; line breaks become ``\\N``.

Karaoke (format ``ass-karaoke``, or ``karaoke=True``): ``{\\kNN}`` before each
unit, NN its length in centiseconds; a pause before a unit gets its own empty
``{\\kNN}``, so the running sum of k-times before each unit equals its start
minus the cue start. Units are highlighted in the primary colour (yellow) from
the secondary (white).
"""

from __future__ import annotations

from typing import Any

from qalign.alignment import Alignment
from qalign.formats.base import Format
from qalign.formats.cues import Cue, timed_cues
from qalign.formats.registry import register
from qalign.formats.timing import nonzero_spans

_TICK = 0.01
_STYLE_FORMAT = (
    "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
    "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, "
    "Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding"
)
# Colours are &HAABBGGRR: white text (yellow once sung in karaoke), black outline.
_PLAIN_COLOURS = "&H00FFFFFF,&H000000FF"
_KARAOKE_COLOURS = "&H0000FFFF,&H00FFFFFF"


def format_cs(cs: int) -> str:
    """``H:MM:SS.cc`` for a time in integer centiseconds."""
    hours, rest = divmod(cs, 360_000)
    minutes, rest = divmod(rest, 6000)
    seconds, centis = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{centis:02d}"


def escape(text: str) -> str:
    """Dialogue text: literal braces and backslashes kept literal, newlines as ``\\N``."""
    text = text.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")
    return text.replace("\r\n", "\n").replace("\n", "\\N")


def karaoke_text(cue: Cue, start: int, end: int) -> str:
    """Cue text with ``{\\kNN}`` before each unit (see the module docstring)."""
    if not cue.units:
        return escape(cue.text)
    spans = nonzero_spans([(u.start, u.end) for u in cue.units], _TICK)
    parts = []
    pos = start
    for (s, e), sep, unit in zip(spans, cue.seps, cue.units):
        s = min(max(s, pos), end)
        e = min(max(e, s), end)
        parts.append(escape(sep))
        if s > pos:
            parts.append(f"{{\\k{s - pos}}}")
        parts.append(f"{{\\k{e - s}}}{escape(unit.text)}")
        pos = e
    return "".join(parts)


def render(alignment: Alignment, karaoke: bool, options: dict[str, Any]) -> str:
    colours = _KARAOKE_COLOURS if karaoke else _PLAIN_COLOURS
    head = [
        "[Script Info]",
        "; Written by qalign",
        "ScriptType: v4.00+",
        "PlayResX: 1920",
        "PlayResY: 1080",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        f"Format: {_STYLE_FORMAT}",
        f"Style: Default,Arial,72,{colours},&H00000000,&H80000000,"
        "0,0,0,0,100,100,0,0,1,3,0,2,60,60,60,1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = []
    for start, end, cue in timed_cues(alignment, _TICK, **options):
        text = karaoke_text(cue, start, end) if karaoke else escape(cue.text)
        events.append(f"Dialogue: 0,{format_cs(start)},{format_cs(end)},Default,,0,0,0,,{text}")
    return "\n".join(head + events) + "\n"


@register
class AssFormat(Format):
    name = "ass"
    extensions = (".ass",)
    description = "Advanced SubStation Alpha subtitles (karaoke=True for \\k word timing)"

    def dumps(self, alignment: Alignment, *, karaoke: bool = False, **options: Any) -> str:
        return render(alignment, karaoke, options)


@register
class AssKaraokeFormat(Format):
    name = "ass-karaoke"
    extensions = ()
    description = "ASS karaoke: {\\k} tags time each word inside its cue"

    def dumps(self, alignment: Alignment, **options: Any) -> str:
        options.pop("karaoke", None)
        return render(alignment, True, options)
