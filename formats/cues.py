"""Subtitle cues built from an alignment, shared by the SRT, WebVTT, ASS and LRC writers.

A cue is what a subtitle shows at once: one to ``max_lines`` lines of text over
a span of float seconds. :func:`build_cues` groups an alignment's units (their
transcript text, punctuation included) into cues a subtitler would accept. The
defaults of :class:`CueOptions` follow Netflix's English guidelines:

* lines of at most ``max_chars`` columns (42, or 32 = 16 full-width characters
  when most of the text is CJK); a full-width character counts two columns, a
  combining mark none; at most ``max_lines`` lines (2);
* at most ``max_duration`` seconds of speech per cue (7 s); a cue stays up for
  ``min_duration`` (5/6 s) where the gap to the next cue allows;
* reading speed above ``max_cps`` columns per second (20) is penalised and eased
  by holding the cue up to ``linger`` seconds after its last word; it is a soft
  rule, because speech fixes the times;
* a gap shorter than ``chain`` seconds (0.5 s) before the next cue is closed to
  ``min_gap`` (two frames at 24 fps), so cues do not flicker; holding never
  brings a cue closer than ``min_gap`` to the next one.

Cue and line breaks are chosen by dynamic programming over break costs: best
after sentence-ending punctuation, then clause punctuation, then before a
conjunction, worst after an article or preposition; a pause makes a break
cheaper and a long pause inside a cue costs. A unit is never split; one too wide
for a line sits alone on its line. Cues never straddle two segments (sentences)
and never overlap. Units join with a space when the transcript had one between
them (``char_start``/``char_end``), else with none around CJK characters.

An alignment without units (say, one read from a subtitle file) gives one cue
per segment with its text and times, except that an end running into the next
segment is clipped to that segment's start.

Writers call :func:`timed_cues`, which rounds cue times to integer ticks with
:func:`qalign.formats.timing.nonzero_spans`: no written cue is zero-length.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from qalign.alignment import Alignment, Segment, Source, Unit
from qalign.errors import ValidationError
from qalign.formats.timing import nonzero_spans

_SENTENCE_END = frozenset(".!?…。！？‼⁇⁈⁉")
_CLAUSE_END = frozenset(",;:—–、，；：")
_CLOSERS = "\"'”’»)]}」』）】〕》〉"
# Ending a cue or line on these leaves a dangling article or preposition.
_WEAK_END = frozenset(
    "a an the of to in on at for with from by into my your his her its our their "
    "this these those mr mrs ms dr st".split()
)
_ABBREVIATIONS = frozenset("mr mrs ms dr st vs etc jr sr prof".split())
# Breaking before these reads naturally.
_GOOD_BEFORE = frozenset(
    "and but or nor so because which who whom whose when while where if than".split()
)
_CUE_COST = 1.0  # per cue: prefer fewer, fuller cues
_ORPHAN_COST = 2.0  # a cue under a third of a line that is not a whole sentence
_BALANCE_WEIGHT = 8.0  # line balance against break quality
_CUE_BREAK_WEIGHT = 2.0  # a poor cue break hurts more than a poor line break
_STRADDLE_COST = 2.0  # a cue that starts a new sentence inside and carries it over


@dataclass(frozen=True, slots=True)
class CueOptions:
    """How :func:`build_cues` groups units; times in seconds, widths in columns.

    Writers accept each field as a keyword option (``max_chars=32``); ``None`` keeps
    the default.
    """

    max_chars: int | None = None
    max_lines: int = 2
    max_duration: float = 7.0
    min_duration: float = 5 / 6
    max_cps: float = 20.0
    linger: float = 0.5
    chain: float = 0.5
    min_gap: float = 2 / 24

    def __post_init__(self) -> None:
        if self.max_chars is not None and not (
            isinstance(self.max_chars, int) and self.max_chars >= 1
        ):
            raise ValidationError(
                f"cue option max_chars must be a positive integer, got {self.max_chars!r}"
            )
        if not (isinstance(self.max_lines, int) and self.max_lines >= 1):
            raise ValidationError(
                f"cue option max_lines must be a positive integer, got {self.max_lines!r}"
            )
        if not self.max_duration > 0 or not self.max_cps > 0:
            raise ValidationError(
                f"cue options max_duration ({self.max_duration}) and max_cps ({self.max_cps}) must be positive"
            )
        for name in ("min_duration", "linger", "chain", "min_gap"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value >= 0 and math.isfinite(value)):
                raise ValidationError(
                    f"cue option {name} must be a number >= 0 seconds, got {value!r}"
                )

    @classmethod
    def from_options(cls, options: Mapping[str, Any], **defaults: Any) -> CueOptions:
        """Options from a writer's keyword options; keys that are not fields are ignored."""
        names = {f.name for f in fields(cls)}
        values = dict(defaults)
        values.update({k: v for k, v in options.items() if k in names and v is not None})
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle: ``text`` (lines joined by ``"\\n"``) shown from ``start`` to ``end`` seconds.

    ``units`` are the units shown, each preceded by ``seps[i]`` (``""``, ``" "`` or
    ``"\\n"``; ``seps[0] == ""``) so that ``text == "".join(seps[i] + units[i].text)``.
    A cue made from a segment without units has both empty.
    """

    start: float
    end: float
    text: str
    units: tuple[Unit, ...] = ()
    seps: tuple[str, ...] = ()

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


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


def _ends_sentence(unit: Unit) -> bool:
    tail = unit.text.rstrip(_CLOSERS)[-1:]
    return tail in _SENTENCE_END and not (tail == "." and _word(unit) in _ABBREVIATIONS)


def _break_cost(prev: Unit, nxt: Unit) -> float:
    """Cost of a cue or line break between two units: 0 (after a sentence) to ~6."""
    tail = prev.text.rstrip(_CLOSERS)[-1:]
    word = _word(prev)
    if _ends_sentence(prev):
        cost = 0.0
    elif tail in _CLAUSE_END:
        cost = 1.0
    elif _word(nxt) in _GOOD_BEFORE:
        cost = 2.0
    else:
        cost = 3.0
    if word in _WEAK_END and (tail.isalnum() or word in _ABBREVIATIONS):
        cost += 3.0
    pause = max(0.0, nxt.start - prev.end)
    return max(0.0, cost - min(1.5, 3.0 * pause))


def _default_width(units: Sequence[Unit]) -> int:
    chars = [ch for u in units for ch in u.text if not ch.isspace()]
    wide = sum(1 for ch in chars if unicodedata.east_asian_width(ch) in ("W", "F"))
    return 32 if 2 * wide > len(chars) else 42


# -- building ------------------------------------------------------------------------


def build_cues(alignment: Alignment, options: CueOptions | None = None) -> list[Cue]:
    """Cues for ``alignment``, in time order, never overlapping (see the module docstring)."""
    opts = options or CueOptions()
    if not alignment.units:
        return _segment_cues(alignment.segments)
    max_chars = opts.max_chars or _default_width(alignment.units)
    cues: list[Cue] = []
    for lo, hi in _blocks(alignment):
        block = [u for u in alignment.units[lo:hi] if u.text.strip()]
        if block:
            cues.extend(_split_block(block, opts, max_chars))
    return _hold(cues, opts, alignment.duration)


def timed_cues(alignment: Alignment, tick: float, **options: Any) -> list[tuple[int, int, Cue]]:
    """Cues with times in whole ticks of ``tick`` seconds (rounded half up), never
    zero-length or overlapping; ``options`` are :class:`CueOptions` fields (others ignored)."""
    cues = build_cues(alignment, CueOptions.from_options(options))
    spans = nonzero_spans([(c.start, c.end) for c in cues], tick, alignment.duration)
    return [(s, e, c) for (s, e), c in zip(spans, cues)]


def _segment_cues(segments: Sequence[Segment]) -> list[Cue]:
    kept = [s for s in segments if s.text.strip()]
    cues = []
    for i, seg in enumerate(kept):
        end = seg.end
        if i + 1 < len(kept) and end > kept[i + 1].start:
            end = max(seg.start, kept[i + 1].start)
        cues.append(Cue(seg.start, end, seg.text))
    return cues


def _blocks(alignment: Alignment) -> list[tuple[int, int]]:
    """Unit ranges no cue may straddle: each segment's, and the runs between them."""
    ranges = sorted(
        (s.unit_start, s.unit_end) for s in alignment.segments if s.unit_end > s.unit_start
    )
    blocks: list[tuple[int, int]] = []
    pos = 0
    for lo, hi in ranges:
        lo = max(lo, pos)
        if hi <= lo:
            continue
        if lo > pos:
            blocks.append((pos, lo))
        blocks.append((lo, hi))
        pos = hi
    if pos < len(alignment.units):
        blocks.append((pos, len(alignment.units)))
    return blocks


def _split_block(units: list[Unit], opts: CueOptions, max_chars: int) -> list[Cue]:
    """Split one block into cues by dynamic programming over break positions."""
    n = len(units)
    widths = [text_width(u.text) for u in units]
    seps = [""] + [_joiner(units[i - 1], units[i]) for i in range(1, n)]
    breaks = [_break_cost(units[i], units[i + 1]) for i in range(n - 1)] + [0.0]
    prefix = [0]  # prefix[b] - prefix[a] - len(seps[a]): width of units[a:b] on one line
    for k in range(n):
        prefix.append(prefix[-1] + len(seps[k]) + widths[k])

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
                sentence_inside = sentence_inside or _ends_sentence(units[i])
            cost = best[i] + _CUE_COST + _CUE_BREAK_WEIGHT * breaks[j - 1] + 3.0 * pauses
            if sentence_inside and j < n and not _ends_sentence(units[j - 1]):
                cost += _STRADDLE_COST
            total_w = prefix[j] - prefix[i] - len(seps[i])
            if total_w * 3 < max_chars and not (i == 0 and j == n):
                cost += _ORPHAN_COST
            shown = units[j - 1].end - units[i].start + opts.linger
            if total_w > opts.max_cps * shown:
                cost += 2.0 * (total_w / (opts.max_cps * shown) - 1.0) if shown > 0 else 2.0
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
    cues = []
    for i, j in reversed(spans):
        cue_seps = _layout(widths[i:j], seps[i:j], breaks[i:j], max_chars)[1]
        cue_units = tuple(units[i:j])
        text = "".join(s + u.text for s, u in zip(cue_seps, cue_units))
        cues.append(Cue(cue_units[0].start, cue_units[-1].end, text, cue_units, tuple(cue_seps)))
    return cues


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


def _hold(cues: list[Cue], opts: CueOptions, duration: float) -> list[Cue]:
    """Extend cue ends for minimum duration, reading speed and chaining; never shorten."""
    out = []
    for k, cue in enumerate(cues):
        speech_end = cue.end
        want = max(
            speech_end,
            cue.start + opts.min_duration,
            min(cue.start + text_width(cue.text) / opts.max_cps, speech_end + opts.linger),
        )
        limit = min(duration, cue.start + max(opts.max_duration, speech_end - cue.start))
        if k + 1 < len(cues):
            nxt = cues[k + 1].start
            if nxt - want < opts.chain:
                want = nxt - opts.min_gap
            limit = min(limit, nxt - opts.min_gap)
        end = max(speech_end, min(want, limit))
        out.append(Cue(cue.start, end, cue.text, cue.units, cue.seps))
    return out


# -- reading -------------------------------------------------------------------------


def alignment_from_cues(cues: Iterable[tuple[float, float, str]], engine: str) -> Alignment:
    """An alignment whose segments are subtitle cues read from a file; no units.

    Cues with blank text are dropped. Cues are sorted by start time (stable); a cue
    starting at the same time as the one before merges into it (texts joined by a
    line break, the later end kept); a cue starting before the previous one ends
    clips that one's end to its start. ``duration`` is the last end.

    Raises:
        ValidationError: a cue ends before it starts.
    """
    kept = []
    for start, end, text in cues:
        if end < start:
            raise ValidationError(f"cue {text!r} ends at {end} s, before its start {start} s")
        if text.strip():
            kept.append((start, end, text))
    kept.sort(key=lambda c: c[0])
    merged: list[list[Any]] = []
    for start, end, text in kept:
        if merged and start == merged[-1][0]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] += "\n" + text
            continue
        if merged and start < merged[-1][1]:
            merged[-1][1] = start
        merged.append([start, end, text])
    segments = tuple(Segment(text, start, end) for start, end, text in merged)
    duration = max((s.end for s in segments), default=0.0)
    return Alignment(units=(), segments=segments, duration=duration, source=Source(engine))
