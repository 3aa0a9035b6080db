"""Line breaking for subtitle cues: display widths, break costs, and the dynamic
programme that cuts a run of units into cues and each cue into lines.

A break is best after a sentence end (the rules of :mod:`qalign.aligner.sentences`),
then after clause punctuation, then before a conjunction, and worst after an
article, a preposition or an abbreviation such as ``Mr.``; a pause makes a break
cheaper and a long pause inside a cue costs. Lines are as few as the width
allows, then balanced. A unit is never split; one too wide for a line sits alone
on its line.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

from qalign.aligner.sentences import ends_sentence, is_abbreviation, strip_closers
from qalign.alignment import Unit
from qalign.formats.cue_options import CueOptions

_CLAUSE_END = frozenset(",;:—–、，；：")
# Ending a cue or line on these leaves a dangling article or preposition.
_WEAK_END = frozenset(
    "a an the of to in on at for with from by into my your his her its our their "
    "this these those mr mrs ms dr st".split()
)
# Breaking before these reads naturally.
_GOOD_BEFORE = frozenset(
    "and but or nor so because which who whom whose when while where if than".split()
)
_CUE_COST = 1.0  # per cue: prefer fewer, fuller cues
_ORPHAN_COST = 2.0  # a cue under a third of a line that is not a whole sentence
_BALANCE_WEIGHT = 8.0  # line balance against break quality
_CUE_BREAK_WEIGHT = 2.0  # a poor cue break hurts more than a poor line break
_STRADDLE_COST = 2.0  # a cue that starts a new sentence inside and carries it over
_JOIN_COST = 20.0  # sentence_cues: a cue holding the end of one sentence and more


# -- text measures -------------------------------------------------------------------


def text_width(text: str) -> int:
    """Display columns: full-width (East Asian W/F) characters 2, combining marks 0, others 1."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _is_hangul(ch: str) -> bool:
    cp = ord(ch)
    return 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F or 0xAC00 <= cp <= 0xD7AF


def _spaceless(ch: str) -> bool:
    """Scripts written without spaces between words (Han, kana, CJK punctuation)."""
    return unicodedata.east_asian_width(ch) in ("W", "F") and not _is_hangul(ch)


def _joiner(prev: Unit, nxt: Unit) -> str:
    if prev.char_end is not None and nxt.char_start is not None:
        return " " if nxt.char_start > prev.char_end else ""
    if _spaceless(prev.text[-1]) or _spaceless(nxt.text[0]):
        return ""
    return " "


def _word(unit: Unit) -> str:
    return "".join(ch for ch in unit.text if ch.isalnum() or ch == "'").lower()


def is_cased(units: Sequence[Unit]) -> bool:
    """The text uses capital letters (the sentence rules then read lower case as 'no end')."""
    return any(ch.isupper() for u in units for ch in u.text)


def unit_ends_sentence(unit: Unit, following: Unit | None, cased: bool) -> bool:
    """A sentence ends after ``unit`` (see :func:`qalign.aligner.sentences.ends_sentence`)."""
    glued = (
        following is not None
        and unit.char_end is not None
        and following.char_start == unit.char_end
        and following.text[:1].isalnum()
    )
    return ends_sentence(unit.text, following.text if following else "", cased, glued)


def _break_cost(prev: Unit, nxt: Unit, cased: bool) -> float:
    """Cost of a cue or line break between two units: 0 (after a sentence) to ~6."""
    tail = strip_closers(prev.text)[-1:]
    word = _word(prev)
    if unit_ends_sentence(prev, nxt, cased):
        cost = 0.0
    elif tail in _CLAUSE_END:
        cost = 1.0
    elif _word(nxt) in _GOOD_BEFORE:
        cost = 2.0
    else:
        cost = 3.0
    if word in _WEAK_END and (tail.isalnum() or is_abbreviation(prev.text)):
        cost += 3.0
    pause = max(0.0, nxt.start - prev.end)
    return max(0.0, cost - min(1.5, 3.0 * pause))


def default_width(units: Sequence[Unit]) -> int:
    chars = [ch for u in units for ch in u.text if not ch.isspace()]
    wide = sum(1 for ch in chars if unicodedata.east_asian_width(ch) in ("W", "F"))
    return 32 if 2 * wide > len(chars) else 42


# -- cutting -------------------------------------------------------------------------


def split_block(
    units: Sequence[Unit], opts: CueOptions, max_chars: int
) -> list[tuple[int, int, list[str]]]:
    """Cut one block of units into cues by dynamic programming over break positions.

    Returns:
        ``(i, j, seps)`` per cue, in order: the cue shows ``units[i:j]``, each preceded
        by its separator (``""``, ``" "`` or ``"\n"`` for a line break; ``seps[0] == ""``).
    """
    n = len(units)
    cased = is_cased(units)
    ends = [
        unit_ends_sentence(units[k], units[k + 1] if k + 1 < n else None, cased) for k in range(n)
    ]
    widths = [text_width(u.text) for u in units]
    seps = [""] + [_joiner(units[i - 1], units[i]) for i in range(1, n)]
    breaks = [_break_cost(units[i], units[i + 1], cased) for i in range(n - 1)] + [0.0]
    prefix = [0]  # prefix[b] - prefix[a] - len(seps[a]): width of units[a:b] on one line
    chars = [0]  # the same in characters, for the reading speed
    for k in range(n):
        prefix.append(prefix[-1] + len(seps[k]) + widths[k])
        chars.append(chars[-1] + len(seps[k]) + len(units[k].text))

    def two_lines(i: int, j: int) -> float:
        """Cost of the best two-line layout of units[i:j]."""
        best_cost = math.inf
        for a in range(i + 1, j):
            w1 = prefix[a] - prefix[i] - len(seps[i])
            w2 = prefix[j] - prefix[a] - len(seps[a])
            if (w1 > max_chars and a - i > 1) or (w2 > max_chars and j - a > 1):
                continue
            c = breaks[a - 1] + _BALANCE_WEIGHT * ((w1 - w2) / (2 * max_chars)) ** 2 * 2
            best_cost = min(best_cost, c)
        return best_cost

    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        # Grow the cue units[i:j] leftwards, laying lines greedily from the right
        # (greedy wrapping gives the fewest lines, from either end).
        lines, line_w, pauses, sentence_inside = 1, widths[j - 1], 0.0, False
        for i in range(j - 1, -1, -1):
            if i < j - 1:
                sep_w = len(seps[i + 1])
                if line_w + sep_w + widths[i] <= max_chars:
                    line_w += sep_w + widths[i]
                else:
                    lines, line_w = lines + 1, widths[i]
                if lines > opts.max_lines or units[j - 1].end - units[i].start > opts.max_duration:
                    break
                pauses += max(0.0, units[i + 1].start - units[i].end - 1.0)
                sentence_inside = sentence_inside or ends[i]
            cost = best[i] + _CUE_COST + _CUE_BREAK_WEIGHT * breaks[j - 1] + 3.0 * pauses
            if sentence_inside and j < n and not ends[j - 1]:
                cost += _STRADDLE_COST
            if sentence_inside and opts.sentence_cues:
                cost += _JOIN_COST
            total_w = prefix[j] - prefix[i] - len(seps[i])
            if total_w * 3 < max_chars and not (i == 0 and j == n):
                cost += _ORPHAN_COST
            shown = units[j - 1].end - units[i].start + opts.linger
            need = opts.reading_time(chars[j] - chars[i] - len(seps[i]), j - i)
            if need > shown:
                cost += 2.0 * (need / shown - 1.0) if shown > 0 else 2.0
            if cost >= best[j]:
                continue  # layout costs are never negative
            if lines == 2:
                cost += two_lines(i, j)
            elif lines > 2:
                cost += _layout(widths[i:j], seps[i:j], breaks[i:j], max_chars)[0]
            if cost < best[j]:
                best[j], back[j] = cost, i
    spans = []
    j = n
    while j > 0:
        spans.append((back[j], j))
        j = back[j]
    out = []
    for i, j in reversed(spans):
        out.append((i, j, _layout(widths[i:j], seps[i:j], breaks[i:j], max_chars)[1]))
    return out


def _layout(
    widths: Sequence[int], seps: Sequence[str], breaks: Sequence[float], max_chars: int
) -> tuple[float, list[str]]:
    """Line breaks for one cue: the fewest lines, then balanced widths and good break
    points. Returns the layout's cost and the separators before each unit (the
    first is ``""``, a line break is ``"\\n"``)."""
    n = len(widths)
    out = [""] + list(seps[1:])
    prefix = [0]
    for k in range(n):
        prefix.append(prefix[-1] + widths[k] + (len(seps[k]) if k else 0))

    def width(a: int, b: int) -> int:  # units[a:b] on one line
        return prefix[b] - prefix[a] - (len(seps[a]) if a else 0)

    count, line_w = 1, widths[0]
    for k in range(1, n):
        if line_w + len(seps[k]) + widths[k] <= max_chars:
            line_w += len(seps[k]) + widths[k]
        else:
            count, line_w = count + 1, widths[k]
    if count == 1:
        return 0.0, out
    mean = width(0, n) / count

    def line_cost(a: int, b: int) -> float:
        w = width(a, b)
        if w > max_chars and b - a > 1:
            return math.inf
        return _BALANCE_WEIGHT * ((w - mean) / max_chars) ** 2 + (breaks[b - 1] if b < n else 0.0)

    # cost[k][b]: best cost of units[:b] on k lines; start[k][b]: where line k starts.
    cost = [[math.inf] * (n + 1) for _ in range(count + 1)]
    start = [[0] * (n + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0
    for k in range(1, count + 1):
        ends = [n] if k == count else range(k, n)
        for b in ends:
            firsts = [0] if k == 1 else range(k - 1, b)
            for a in firsts:
                if cost[k - 1][a] < math.inf:
                    c = cost[k - 1][a] + line_cost(a, b)
                    if c < cost[k][b]:
                        cost[k][b], start[k][b] = c, a
    b = n
    for k in range(count, 1, -1):
        b = start[k][b]
        out[b] = "\n"
    return cost[count][n], out
