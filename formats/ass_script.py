"""Reading Advanced SubStation Alpha (``.ass``) and SubStation Alpha (``.ssa``) scripts.

A script is kept line by line so that a re-timed copy changes nothing but the
times (:func:`render_script`): ``[Script Info]``, styles, fonts, comments and
every event field stay as they were. Events are read with the section's own
``Format:`` line (so both ``[V4+ Styles]`` scripts and SSA v4 scripts with
``Marked=`` read); the last field, ``Text``, may hold commas.

Plain text of an event (:func:`plain_text`): override blocks ``{...}`` are
removed, ``\\N`` and ``\\n`` are line breaks, ``\\h`` a no-break space, and the
escapes our writer uses (``\\{``, ``\\}``, a backslash followed by U+2060) are
undone. Karaoke tags (``\\k``, ``\\K``, ``\\kf``, ``\\ko``, centiseconds) give
syllable times (:func:`karaoke_syllables`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_TIME = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?\s*$")
_OVERRIDE = re.compile(r"(?<!\\)\{[^{}]*\}")
_KARAOKE = re.compile(r"\\(?:kf|ko|k|K)(\d+)")


@dataclass(frozen=True, slots=True)
class AssEvent:
    """One ``Dialogue:`` or ``Comment:`` line.

    Attributes:
        kind: ``Dialogue`` or ``Comment``.
        fields: the values in the order of the ``Format:`` line.
        names: the lower-case field names of that ``Format:`` line.
        line: index of the line in the script (from 0).
    """

    kind: str
    fields: tuple[str, ...]
    names: tuple[str, ...]
    line: int

    def get(self, name: str) -> str:
        return self.fields[self.names.index(name)]

    @property
    def start(self) -> float:
        return parse_time(self.get("start"))

    @property
    def end(self) -> float:
        return parse_time(self.get("end"))

    @property
    def text(self) -> str:
        return self.get("text")


@dataclass(frozen=True, slots=True)
class AssScript:
    """A script's lines (line ends removed) and its events in file order."""

    lines: tuple[str, ...]
    events: tuple[AssEvent, ...]

    @property
    def dialogues(self) -> list[AssEvent]:
        return [e for e in self.events if e.kind == "Dialogue"]


def parse_time(value: str) -> float:
    """Seconds from ``H:MM:SS.cc`` (any number of fraction digits, a decimal fraction).

    Raises:
        ValueError: not a time.
    """
    m = _TIME.match(value)
    if not m:
        raise ValueError(f"bad time {value.strip()!r} (expected H:MM:SS.cc)")
    hours, minutes, seconds, fraction = m.groups()
    if int(minutes) > 59 or int(seconds) > 59:
        raise ValueError(f"bad time {value.strip()!r} (minutes or seconds above 59)")
    frac = int(fraction) / 10 ** len(fraction) if fraction else 0.0
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + round(frac, 6)


def parse_script(text: str) -> AssScript:
    """Split a script into lines and events.

    Raises:
        ValueError: no ``[Events]`` section, an event before its ``Format:`` line, an
            event with too few fields or a bad time; the message gives the line number.
    """
    lines = tuple(text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    section = ""
    names: tuple[str, ...] | None = None
    events = []
    seen_events = False
    for number, line in enumerate(lines):
        m = _SECTION.match(line)
        if m:
            section = m.group(1).strip().lower()
            seen_events = seen_events or section == "events"
            continue
        if section != "events" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        key = key.strip()
        if key.lower() == "format":
            names = tuple(n.strip().lower() for n in value.split(","))
            if "text" not in names or names[-1] != "text":
                raise ValueError(f"line {number + 1}: the events' Format must end with Text")
            continue
        if key not in ("Dialogue", "Comment"):
            continue
        if names is None:
            raise ValueError(f"line {number + 1}: {key} before the events' Format line")
        fields = value.lstrip(" ").split(",", len(names) - 1)
        if len(fields) < len(names):
            raise ValueError(
                f"line {number + 1}: {key} has {len(fields)} fields, the Format names {len(names)}"
            )
        event = AssEvent(key, tuple(fields), names, number)
        try:
            event.start, event.end  # noqa: B018 - checked here, so later reads cannot fail
        except ValueError as exc:
            raise ValueError(f"line {number + 1}: {exc}") from None
        events.append(event)
    if not seen_events:
        raise ValueError("no [Events] section: not an ASS/SSA script")
    return AssScript(lines, tuple(events))


def plain_text(text: str) -> str:
    """The visible text of an event's ``Text`` field (module docstring)."""
    text = _OVERRIDE.sub("", text)
    text = text.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", "\u00a0")
    text = text.replace("\\{", "{").replace("\\}", "}").replace("\\\u2060", "\\")
    return "\n".join(line.strip() for line in text.split("\n")).strip("\n")


def karaoke_syllables(text: str) -> list[tuple[int, str]] | None:
    """``(centiseconds, plain text)`` per karaoke syllable, or ``None`` without ``\\k`` tags.

    Text before the first tag is a syllable of 0 cs. A line break inside a
    syllable stays in its text.
    """
    pieces: list[tuple[int, str]] = []
    duration, pos, found = 0, 0, False
    for block in _OVERRIDE.finditer(text):
        tags = _KARAOKE.findall(block.group(0))
        if not tags:
            continue
        pieces.append((duration, text[pos : block.start()]))
        duration, pos, found = sum(int(t) for t in tags), block.end(), True
    if not found:
        return None
    pieces.append((duration, text[pos:]))
    out = [(cs, _syllable_text(raw)) for cs, raw in pieces]
    if out and not out[0][1] and out[0][0] == 0:
        out.pop(0)
    return out


def karaoke_blocks(text: str) -> list[tuple[int, int, str]]:
    """``(block start, block end, plain text up to the next block)`` for each override
    block of ``text`` that holds karaoke tags, in order; empty without any."""
    blocks = [m for m in _OVERRIDE.finditer(text) if _KARAOKE.search(m.group(0))]
    out = []
    for k, m in enumerate(blocks):
        stop = blocks[k + 1].start() if k + 1 < len(blocks) else len(text)
        out.append((m.start(), m.end(), _syllable_text(text[m.end() : stop])))
    return out


def set_karaoke(text: str, durations: list[int]) -> str:
    """``text`` with the karaoke blocks' durations (centiseconds) replaced, in order: the
    first karaoke tag of each block gets the duration, any further one in it 0."""
    blocks = karaoke_blocks(text)
    parts, pos = [], 0
    for (start, end, _syllable), cs in zip(blocks, durations, strict=True):
        block, value = text[start:end], cs
        out, at = [], 0
        for m in _KARAOKE.finditer(block):
            out.append(block[at : m.start(1)] + str(value))
            at, value = m.end(1), 0
        parts.append(text[pos:start] + "".join(out) + block[at:])
        pos = end
    return "".join(parts) + text[pos:]


def _syllable_text(raw: str) -> str:
    text = _OVERRIDE.sub("", raw)
    text = text.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", "\u00a0")
    return text.replace("\\{", "{").replace("\\}", "}").replace("\\\u2060", "\\")


def render_script(
    script: AssScript,
    times: dict[int, tuple[str, str]],
    texts: dict[int, str | None] | None = None,
) -> str:
    """The script with the ``Start``/``End`` of the events at the given line indices
    replaced by the given time strings (and their ``Text`` by ``texts`` where given and
    not ``None``); every other byte of every line kept."""
    lines = list(script.lines)
    for event in script.events:
        if event.line not in times:
            continue
        fields = list(event.fields)
        fields[event.names.index("start")], fields[event.names.index("end")] = times[event.line]
        new_text = (texts or {}).get(event.line)
        if new_text is not None:
            fields[-1] = new_text
        lines[event.line] = f"{event.kind}: " + ",".join(fields)
    return "\n".join(lines)
