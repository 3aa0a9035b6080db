"""Advanced SubStation Alpha (``.ass``), plain and karaoke; also reads SSA (``.ssa``).

Times are ``H:MM:SS.cc`` in integer centiseconds, rounded half up as Aegisub
rounds milliseconds to centiseconds; cues come from :mod:`qalign.formats.cues`
(same keyword options as SRT) and are never zero-length or overlapping. The
script has ``[Script Info]`` (``PlayResX: 1920``, ``PlayResY: 1080``),
``[V4+ Styles]`` with one ``Default`` style and ``[Events]`` with one
``Dialogue`` per cue. Style options: ``ass_font`` (Arial), ``ass_size`` (72),
``ass_primary`` and ``ass_secondary`` (``#RRGGBB`` or ``&HAABBGGRR``).

Text escaping (ASS has no standard escape; these are the libass ones that
ffmpeg also writes): ``{`` and ``}`` become ``\\{`` and ``\\}``; a backslash is
followed by U+2060 WORD JOINER so that it never combines with the next
character into ``\\N``, ``\\n``, ``\\h`` or a brace escape; line breaks become
``\\N``; control characters become visible symbols.

Karaoke (format ``ass-karaoke``, ``karaoke=True``, or ``karaoke_tag`` = ``k``,
``kf`` or ``ko``): ``{\\kNN}`` before each unit, NN its length in centiseconds;
a pause before a unit gets its own empty ``{\\kNN}``, and the time the cue stays
up after its last unit a final empty one, so the k-times of a line add up to the
cue's duration exactly and the running sum before each unit equals its start
minus the cue start. Units are highlighted in the primary colour (yellow) from
the secondary (white).

Reader: ASS and SSA scripts through :mod:`qalign.formats.ass_script`; each
``Dialogue`` is a cue (override tags removed). When every dialogue carries
karaoke tags, the syllables become timed units (a round trip of our karaoke).
"""

from __future__ import annotations

import re
from typing import Any

from qalign.alignment import Alignment, Segment, Source, Unit
from qalign.errors import ValidationError
from qalign.formats.ass_script import karaoke_syllables, parse_script, plain_text
from qalign.formats.base import Format
from qalign.formats.cues import Cue, alignment_from_cues, timed_cues
from qalign.formats.registry import register
from qalign.formats.subtitle_text import visible_controls
from qalign.formats.timing import nonzero_spans

_TICK = 0.01
_STYLE_FORMAT = (
    "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
    "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, "
    "Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding"
)
# Colours are &HAABBGGRR: white text (yellow once sung in karaoke), black outline.
_PLAIN_COLOURS = ("&H00FFFFFF", "&H000000FF")
_KARAOKE_COLOURS = ("&H0000FFFF", "&H00FFFFFF")
_KARAOKE_TAGS = ("k", "kf", "ko")
_HEX_COLOUR = re.compile(r"^#([0-9A-Fa-f]{6})$")
_ASS_COLOUR = re.compile(r"^&H([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})&?$")


def parse_colour(value: str) -> str:
    """``&HAABBGGRR`` for ``#RRGGBB``, ``&HBBGGRR`` or ``&HAABBGGRR``.

    Raises:
        ValidationError: none of those.
    """
    m = _HEX_COLOUR.match(value.strip())
    if m:
        rgb = m.group(1).upper()
        return f"&H00{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"
    m = _ASS_COLOUR.match(value.strip())
    if m:
        return "&H" + m.group(1).upper().rjust(8, "0")
    raise ValidationError(f"ASS colour {value!r} is not #RRGGBB or &HAABBGGRR")


def format_cs(cs: int) -> str:
    """``H:MM:SS.cc`` for a time in integer centiseconds."""
    hours, rest = divmod(cs, 360_000)
    minutes, rest = divmod(rest, 6000)
    seconds, centis = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{centis:02d}"


def escape(text: str) -> str:
    """Dialogue text: literal braces and backslashes kept literal, newlines as ``\\N``."""
    text = visible_controls(text)
    text = text.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")
    return text.replace("\r\n", "\n").replace("\n", "\\N")


def karaoke_text(cue: Cue, start: int, end: int, tag: str = "k") -> str:
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
            parts.append(f"{{\\{tag}{s - pos}}}")
        parts.append(f"{{\\{tag}{e - s}}}{escape(unit.text)}")
        pos = e
    parts.append(escape(cue.tail))
    if end > pos:
        parts.append(f"{{\\{tag}{end - pos}}}")
    return "".join(parts)


def render(alignment: Alignment, karaoke: bool, options: dict[str, Any]) -> str:
    tag = options.get("karaoke_tag") or "k"
    if tag not in _KARAOKE_TAGS:
        raise ValidationError(f"karaoke tag {tag!r} is not one of {', '.join(_KARAOKE_TAGS)}")
    primary, secondary = _KARAOKE_COLOURS if karaoke else _PLAIN_COLOURS
    primary = parse_colour(options["ass_primary"]) if options.get("ass_primary") else primary
    if options.get("ass_secondary"):
        secondary = parse_colour(options["ass_secondary"])
    font = str(options.get("ass_font") or "Arial").replace(",", " ")
    size = int(options.get("ass_size") or 72)
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
        f"Style: Default,{font},{size},{primary},{secondary},&H00000000,&H80000000,"
        "0,0,0,0,100,100,0,0,1,3,0,2,60,60,60,1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    events = []
    for start, end, cue in timed_cues(alignment, _TICK, **options):
        text = karaoke_text(cue, start, end, tag) if karaoke else escape(cue.text)
        events.append(f"Dialogue: 0,{format_cs(start)},{format_cs(end)},Default,,0,0,0,,{text}")
    return "\n".join(head + events) + "\n"


def load_script(text: str, engine: str) -> Alignment:
    """An alignment from an ASS/SSA script: dialogues as segments; karaoke syllables as
    units when every dialogue has karaoke tags."""
    dialogues = parse_script(text).dialogues
    syllables = [karaoke_syllables(e.text) for e in dialogues]
    if not dialogues or any(s is None for s in syllables):
        return alignment_from_cues(
            [(e.start, e.end, plain_text(e.text)) for e in dialogues], engine
        )
    units: list[Unit] = []
    segments = []
    for event, sylls in sorted(zip(dialogues, syllables), key=lambda p: p[0].start):
        first = len(units)
        t = event.start
        for cs, raw in sylls or ():
            word = raw.strip()
            if word:
                norm = "".join(ch for ch in word if ch.isalnum() or ch == "'").lower()
                units.append(Unit(word, norm or word, round(t, 6), round(t + cs / 100, 6)))
            t += cs / 100
        segments.append(Segment(plain_text(event.text), event.start, event.end, first, len(units)))
    duration = max([s.end for s in segments] + [u.end for u in units])
    return Alignment(tuple(units), tuple(segments), duration, source=Source(engine))


@register
class AssFormat(Format):
    name = "ass"
    extensions = (".ass",)
    description = "Advanced SubStation Alpha subtitles (karaoke=True for \\k word timing)"

    def dumps(self, alignment: Alignment, *, karaoke: bool = False, **options: Any) -> str:
        document = options.pop("document", None)
        if (
            document is not None
            and document.family == "ass"
            and not (karaoke or options.get("karaoke_tag"))
        ):
            return document.render(alignment, **options)
        return render(alignment, karaoke or bool(options.get("karaoke_tag")), options)

    def loads(self, text: str, **_: Any) -> Alignment:
        return load_script(text, "ass")


@register
class SsaFormat(Format):
    name = "ssa"
    extensions = (".ssa",)
    description = "SubStation Alpha v4 subtitles (read)"

    def loads(self, text: str, **_: Any) -> Alignment:
        return load_script(text, "ssa")


@register
class AssKaraokeFormat(Format):
    name = "ass-karaoke"
    extensions = ()
    description = "ASS karaoke: {\\k} tags time each word inside its cue"

    def dumps(self, alignment: Alignment, **options: Any) -> str:
        options.pop("karaoke", None)
        options.pop("document", None)
        return render(alignment, True, options)

    def loads(self, text: str, **_: Any) -> Alignment:
        return load_script(text, "ass")
