"""LRC lyrics (``.lrc``): ``[mm:ss.xx]line``, and enhanced LRC with ``<mm:ss.xx>`` per word.

Times are integer centiseconds rounded half up; minutes grow past 99. Lines are
the lines of the cues from :mod:`qalign.formats.cues` with ``max_lines=1`` by
default (so one cue is one lyric line; the other cue options apply). A line
starts at its first unit. An empty timed line clears the display after a line
that is followed by at least ``clear_gap`` seconds (1 s) of silence, and after
the last line.

Enhanced (format ``lrc-enhanced``, ``enhanced=True`` or ``word_timestamps=True``): each unit is preceded by
its start, ``[00:01.00]<00:01.00>Hello <00:01.50>world<00:02.10>``, and the
line ends with the end of its last unit. Cues without units (read from a
subtitle file) are written as plain lines. LRC has no escaping: ``[`` and
``<`` that a reader would take for a tag get an invisible word joiner
(:mod:`qalign.formats.subtitle_text`); line breaks inside a line become spaces.

Reader (both kinds): ID tags (``[ar:...]``, ``[offset:+250]``, which shifts
every time earlier by that many ms) are read or skipped; a line may carry several
time tags (``[00:12.00][01:30.00]chorus``); ``mm:ss``, ``mm:ss.x`` to
``mm:ss.xxx`` and ``mm:ss:xx`` are accepted. Lines are sorted by time; each
shows until the next timed line (an empty one clears the display), the last
until its last word tag, else for ``last_line`` seconds (5). Word tags make
timed units (a word lasts until the next tag), so enhanced LRC round-trips. A
non-blank line without a tag raises ``ValueError`` naming the line.
"""

from __future__ import annotations

import re
from typing import Any

from qalign.alignment import Alignment, Segment, Source, Unit
from qalign.formats.base import Format
from qalign.formats.cues import alignment_from_cues, timed_cues
from qalign.formats.registry import register
from qalign.formats.subtitle_text import drop_joiners, neutral_lrc
from qalign.formats.timing import nonzero_spans, to_ticks

_TICK = 0.01
_TIME = r"(\d+):(\d{1,2})(?:[.:](\d{1,3}))?"
_LINE_TAG = re.compile(rf"^\s*\[{_TIME}\]")
_WORD_TAG = re.compile(rf"<{_TIME}>")
_ID_TAG = re.compile(r"^\s*\[([A-Za-z#][\w#-]*):([^\]]*)\]\s*$")


def format_cs(cs: int) -> str:
    """``mm:ss.xx`` for a time in integer centiseconds."""
    minutes, rest = divmod(cs, 6000)
    seconds, centis = divmod(rest, 100)
    return f"{minutes:02d}:{seconds:02d}.{centis:02d}"


def render(alignment: Alignment, enhanced: bool, clear_gap: float, options: dict[str, Any]) -> str:
    options = {"max_lines": 1, **{k: v for k, v in options.items() if v is not None}}
    timed = timed_cues(alignment, _TICK, **options)
    units = [u for _s, _e, cue in timed for u in cue.units]
    unit_spans = iter(nonzero_spans([(u.start, u.end) for u in units], _TICK))
    gap_ticks = to_ticks(clear_gap, _TICK)
    out = []
    for k, (start, end, cue) in enumerate(timed):
        if not cue.units:
            out.append(f"[{format_cs(start)}]{neutral_lrc(' '.join(cue.lines))}")
        else:
            line: list[str] = []
            line_start = -1
            for sep, unit in zip(cue.seps, cue.units):
                s, e = next(unit_spans)
                line_start = s if line_start < 0 else line_start
                if "\n" in sep:
                    out.append(f"[{format_cs(line_start)}]{''.join(line).rstrip()}")
                    line, line_start, sep = [], s, sep.rsplit("\n", 1)[1]
                word = neutral_lrc(unit.text)
                line.append(
                    f"{neutral_lrc(sep)}<{format_cs(s)}>{word}"
                    if enhanced
                    else neutral_lrc(sep) + word
                )
            if enhanced:
                line.append(f"<{format_cs(e)}>")
            line.append(neutral_lrc(cue.tail.replace("\n", " ")))
            out.append(f"[{format_cs(line_start)}]{''.join(line).rstrip()}")
        following = timed[k + 1][0] if k + 1 < len(timed) else None
        speech_end = to_ticks(cue.units[-1].end, _TICK) if cue.units else end
        if following is None or cue.stanza_end or following - min(end, speech_end) >= gap_ticks:
            out.append(f"[{format_cs(end)}]")
    return "\n".join(out) + "\n" if out else ""


def _seconds(minutes: str, seconds: str, fraction: str | None) -> float:
    if int(seconds) > 59:
        raise ValueError(f"seconds {seconds} above 59")
    frac = int(fraction) / 10 ** len(fraction) if fraction else 0.0
    return int(minutes) * 60 + int(seconds) + frac


def parse_lrc(text: str) -> list[tuple[float, str]]:
    """``(seconds, raw text)`` per timed line, sorted by time (see the module docstring).

    Raises:
        ValueError: a non-blank line without a time or ID tag, or a bad time.
    """
    return _parse(text)[0]


def id_tag_lines(text: str) -> list[str]:
    """The ID tag lines of an LRC file (``[ar:...]``...), in order, without ``[offset:]``."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [
        line.strip()
        for line in lines
        if (m := _ID_TAG.match(line))
        and not _LINE_TAG.match(line)
        and m.group(1).lower() != "offset"
    ]


def plain_line(raw: str) -> str:
    """The lyric of a timed line: word tags removed, our neutralising joiners dropped."""
    return drop_joiners(_WORD_TAG.sub("", raw)).strip()


def has_word_tags(raw: str) -> bool:
    return bool(_WORD_TAG.search(raw))


def _parse(text: str) -> tuple[list[tuple[float, str]], float]:
    """:func:`parse_lrc` and the ``[offset:]`` in seconds (already applied to line times)."""
    entries: list[tuple[float, str]] = []
    offset = 0.0
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        tagged = _ID_TAG.match(line)
        if tagged and not _LINE_TAG.match(line):
            if tagged.group(1).lower() == "offset":
                try:
                    offset = int(tagged.group(2).strip()) / 1000
                except ValueError:
                    raise ValueError(f"line {number}: bad offset {tagged.group(2)!r}") from None
            continue
        times = []
        rest = line
        try:
            while m := _LINE_TAG.match(rest):
                times.append(_seconds(*m.groups()))
                rest = rest[m.end() :]
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if not times:
            raise ValueError(f"line {number}: no [mm:ss.xx] time tag: {line.strip()[:60]!r}")
        entries.extend((t, rest) for t in times)
    entries.sort(key=lambda e: e[0])
    return [(max(0.0, round(t - offset, 6)), rest) for t, rest in entries], offset


def load_lrc(text: str, last_line: float = 5.0) -> Alignment:
    """An alignment from LRC text: lines as segments; word tags as timed units."""
    entries, offset = _parse(text)
    if not any(_WORD_TAG.search(rest) for _t, rest in entries):
        cues = []
        for k, (t, rest) in enumerate(entries):
            end = entries[k + 1][0] if k + 1 < len(entries) else t + last_line
            cues.append((t, end, drop_joiners(rest).strip()))
        return alignment_from_cues(cues, "lrc")
    units: list[Unit] = []
    segments = []
    for k, (t, rest) in enumerate(entries):
        line_end = entries[k + 1][0] if k + 1 < len(entries) else None
        tags = list(_WORD_TAG.finditer(rest))
        words = []
        for i, m in enumerate(tags):
            stop = tags[i + 1].start() if i + 1 < len(tags) else len(rest)
            at = max(0.0, round(_seconds(*m.groups()) - offset, 6))
            words.append((at, drop_joiners(rest[m.end() : stop]).strip()))
        first = len(units)
        for i, (start, word) in enumerate(words):
            if not word:
                continue
            following = words[i + 1][0] if i + 1 < len(words) else line_end
            end = start + last_line if following is None else following
            norm = "".join(ch for ch in word if ch.isalnum() or ch == "'").lower()
            units.append(Unit(word, norm or word, start, max(start, end)))
        plain = drop_joiners(_WORD_TAG.sub("", rest)).strip()
        if not plain:
            continue
        end = units[-1].end if len(units) > first else (line_end if line_end is not None else t)
        segments.append(Segment(plain, t, max(t, end), first, len(units)))
    duration = max([s.end for s in segments] + [u.end for u in units], default=0.0)
    return Alignment(tuple(units), tuple(segments), duration, source=Source("lrc"))


@register
class LrcFormat(Format):
    name = "lrc"
    extensions = (".lrc",)
    description = "LRC lyrics, one timed line per cue (enhanced=True for word times)"

    def dumps(
        self,
        alignment: Alignment,
        *,
        enhanced: bool = False,
        clear_gap: float = 1.0,
        **options: Any,
    ) -> str:
        document = options.pop("document", None)
        # --word-timestamps asks every format that can for word times: here, enhanced LRC
        enhanced = bool(options.pop("word_timestamps", None)) or enhanced
        if document is not None and document.family == "lrc":
            return document.render(alignment, clear_gap=clear_gap, **options)
        return render(alignment, enhanced, clear_gap, options)

    def loads(self, text: str, **_: Any) -> Alignment:
        return load_lrc(text)


@register
class LrcEnhancedFormat(Format):
    name = "lrc-enhanced"
    extensions = ()
    description = "Enhanced LRC: <mm:ss.xx> before each word"

    def dumps(self, alignment: Alignment, *, clear_gap: float = 1.0, **options: Any) -> str:
        options.pop("enhanced", None)
        options.pop("document", None)
        options.pop("word_timestamps", None)
        return render(alignment, True, clear_gap, options)

    def loads(self, text: str, **_: Any) -> Alignment:
        return load_lrc(text)
