"""LRC lyrics (``.lrc``): ``[mm:ss.xx]line``, and enhanced LRC with ``<mm:ss.xx>`` per word; writers only.

Times are integer centiseconds rounded half up; minutes grow past 99. Lines are
the lines of the cues from :mod:`qalign.formats.cues` with ``max_lines=1`` by
default (so one cue is one lyric line; the other cue options apply). A line
starts at its first unit. An empty timed line clears the display after a line
that is followed by at least ``clear_gap`` seconds (1 s) of silence, and after
the last line.

Enhanced (format ``lrc-enhanced``, or ``enhanced=True``): each unit is preceded by
its start, ``[00:01.00]<00:01.00>Hello <00:01.50>world<00:02.10>``, and the
line ends with the end of its last unit. Cues without units (read from a
subtitle file) are written as plain lines. LRC has no escaping; line breaks
inside a cue's text become spaces.
"""

from __future__ import annotations

from typing import Any

from qalign.alignment import Alignment
from qalign.formats.base import Format
from qalign.formats.cues import timed_cues
from qalign.formats.registry import register
from qalign.formats.timing import nonzero_spans, to_ticks

_TICK = 0.01


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
            out.append(f"[{format_cs(start)}]{' '.join(cue.lines)}")
        else:
            line: list[str] = []
            line_start = -1
            for sep, unit in zip(cue.seps, cue.units):
                s, e = next(unit_spans)
                line_start = s if line_start < 0 else line_start
                if sep == "\n":
                    out.append(f"[{format_cs(line_start)}]{''.join(line)}")
                    line, line_start, sep = [], s, ""
                line.append(f"{sep}<{format_cs(s)}>{unit.text}" if enhanced else sep + unit.text)
            if enhanced:
                line.append(f"<{format_cs(e)}>")
            out.append(f"[{format_cs(line_start)}]{''.join(line)}")
        following = timed[k + 1][0] if k + 1 < len(timed) else None
        speech_end = to_ticks(cue.units[-1].end, _TICK) if cue.units else end
        if following is None or cue.stanza_end or following - min(end, speech_end) >= gap_ticks:
            out.append(f"[{format_cs(end)}]")
    return "\n".join(out) + "\n" if out else ""


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
        return render(alignment, enhanced, clear_gap, options)


@register
class LrcEnhancedFormat(Format):
    name = "lrc-enhanced"
    extensions = ()
    description = "Enhanced LRC: <mm:ss.xx> before each word"

    def dumps(self, alignment: Alignment, *, clear_gap: float = 1.0, **options: Any) -> str:
        options.pop("enhanced", None)
        return render(alignment, True, clear_gap, options)
