"""The one-line summary of a long-form alignment, for people.

``aligned 41,802 of 42,010 words (35 uncertain); 208 unaligned in 3 stretches:
00:12:03-00:12:41 (text not heard), ...``
"""

from __future__ import annotations

from qalign.alignment import Alignment

#: Stretches listed by name in the summary; more are counted.
MAX_LISTED = 5


def clock(seconds: float) -> str:
    """``HH:MM:SS`` (whole seconds, rounded down)."""
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def summary_line(alignment: Alignment, noun: str = "words") -> str:
    """One line: how many units were placed, and where the unaligned stretches are."""
    n = len(alignment.units)
    unaligned = alignment.count("unaligned")
    uncertain = alignment.count("uncertain")
    line = f"aligned {n - unaligned:,} of {n:,} {noun}"
    if uncertain:
        line += f" ({uncertain:,} uncertain)"
    problems = [st for st in alignment.stretches if st.status == "unaligned"]
    if not problems:
        return line
    with_units = [st for st in problems if st.unit_end > st.unit_start]
    others = len(problems) - len(with_units)
    if with_units:
        plural = "es" if len(with_units) != 1 else ""
        line += f"; {unaligned:,} unaligned in {len(with_units)} stretch{plural}"
        if others:
            line += f" and {others} of audio with no text"
    else:
        line += f"; {others} stretch{'es' if others != 1 else ''} of audio with no text"
    listed = [f"{clock(st.start)}-{clock(st.end)} ({st.reason})" for st in problems[:MAX_LISTED]]
    line += ": " + ", ".join(listed)
    if len(problems) > MAX_LISTED:
        line += f", and {len(problems) - MAX_LISTED} more"
    return line
