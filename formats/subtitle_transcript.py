"""A subtitle file (SRT, WebVTT, ASS/SSA, LRC) as the transcript: re-timing existing subtitles.

:func:`read_subtitle_document` keeps the file line by line and finds each cue's
timing (the timing line of SRT and WebVTT, the ``Dialogue`` line of ASS). The
transcript given to the aligner is the cues' plain text (markup removed), one cue
after another separated by a blank line; :meth:`SubtitleDocument.cue_spans`
locates each cue in it.

:func:`retime` gives every cue new times from its first and last placed word
(``aligned`` or ``uncertain``). A cue with no placed word (every word
``unaligned``, or nothing to align, such as ``♪``) keeps its old times where they
fit between its re-timed neighbours, else the span its neighbours leave it, and
is reported. With ``hints`` (seconds), a cue whose new times fall further than
that from its old ones is treated the same way: the old times are loose hints.

:meth:`SubtitleDocument.render` writes the file again with only the times
changed: cue numbers, identifiers, cue settings (WebVTT ``align:start``, SRT
position hints), line breaks, ``<i>`` tags, ASS styles, fields and override tags,
comments, ``NOTE`` and ``STYLE`` blocks are kept as they were, except that ASS
karaoke tags get durations from the words (summing to the new cue length). The new times
follow the cue rules (:mod:`qalign.formats.cue_timing`) in ``lines`` mode. An LRC
file is written again by the LRC writer, one line per lyric line (a line shown
several times, ``[00:12.00][01:30.00]``, is one line per time), after its ID tags
(``[offset:]`` left out: the new times are absolute); word tags are written when
the file had them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qalign.alignment import Alignment, Segment, Unit
from qalign.errors import TranscriptError
from qalign.formats.transcript_lines import placed_span

logger = logging.getLogger("qalign")

#: Extensions read as subtitle transcripts, and their family.
SUBTITLE_EXTENSIONS = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ass", ".lrc": "lrc"}
_CUE_SEPARATOR = "\n\n"
_SRT_TIMING = re.compile(
    r"^(\s*)(?:\d+:)?\d{1,2}:\d{1,2}(?:[,.]\d+)?(\s*-->\s*)(?:\d+:)?\d{1,2}:\d{1,2}(?:[,.]\d+)?(.*)$"
)
_VTT_TIMING = re.compile(r"^([ \t]*)[\d:.]+([ \t]*-->[ \t]*)[\d:.]+(.*)$")


@dataclass(frozen=True, slots=True)
class SourceCue:
    """One cue of a subtitle file: its old times (seconds), plain text and timing line."""

    start: float
    end: float
    text: str
    line: int


@dataclass(frozen=True)
class SubtitleDocument:
    """A subtitle file kept line by line (see the module docstring).

    Attributes:
        path: where it was read from (for messages).
        family: ``srt``, ``vtt``, ``ass`` (SSA is read and written as it is, with
            the ``ass`` family's times) or ``lrc``.
        lines: the file's lines, line ends removed, BOM removed (LRC: its ID tags).
        cues: the cues in file order (LRC: timed lines with text, in time order).
        script: the parsed ASS script (``ass``); whether the LRC had word tags (``lrc``).
    """

    path: str
    family: str
    lines: tuple[str, ...]
    cues: tuple[SourceCue, ...]
    script: Any = field(default=None, compare=False)

    @property
    def transcript(self) -> str:
        """The plain text of the cues, separated by blank lines."""
        return _CUE_SEPARATOR.join(c.text for c in self.cues)

    def cue_spans(self) -> list[tuple[int, int]]:
        """``[start, end)`` character offsets of each cue in :attr:`transcript`."""
        spans, pos = [], 0
        for cue in self.cues:
            spans.append((pos, pos + len(cue.text)))
            pos += len(cue.text) + len(_CUE_SEPARATOR)
        return spans

    def render(self, alignment: Alignment, **options: Any) -> str:
        """The file with new times: ``alignment`` must have one segment per cue (as
        :func:`retime` returns); cue ``options`` as for the writers."""
        from qalign.formats.ass import format_cs
        from qalign.formats.cues import timed_cues
        from qalign.formats.srt import format_ms

        if self.family == "lrc":
            from qalign.formats.lrc import render as render_lrc

            enhanced = bool(self.script)
            clear_gap = float(options.pop("clear_gap", 1.0))
            body = render_lrc(alignment, enhanced, clear_gap, {**options, "cues": "lines"})
            return "".join(line + "\n" for line in self.lines) + body
        tick = 0.01 if self.family == "ass" else 0.001
        timed = timed_cues(alignment, tick, **{**options, "cues": "lines"})
        times = {cue.segment: (s, e) for s, e, cue in timed if cue.segment is not None}
        lines = list(self.lines)
        if self.family == "ass":
            from qalign.formats.ass_script import render_script

            by_line = {
                self.cues[k].line: (format_cs(s), format_cs(e)) for k, (s, e) in times.items()
            }
            texts = {
                self.cues[k].line: _karaoke_text(self, alignment, k, s, e)
                for k, (s, e) in times.items()
            }
            script = render_script(self.script, by_line, texts)
            return script + ("" if lines[-1] == "" else "\n")
        pattern, sep = (_SRT_TIMING, ",") if self.family == "srt" else (_VTT_TIMING, ".")
        for k, (s, e) in times.items():
            line = lines[self.cues[k].line]
            m = pattern.match(line)
            if m:  # always, for a file we parsed; guard against surprises anyway
                lead, arrow, rest = m.groups()
                lines[self.cues[k].line] = (
                    f"{lead}{format_ms(s, sep)}{arrow}{format_ms(e, sep)}{rest}"
                )
        text = "\n".join(lines)
        return text if text.endswith("\n") else text + "\n"


def _karaoke_text(
    document: SubtitleDocument, alignment: Alignment, k: int, start_cs: int, end_cs: int
) -> str | None:
    """The ASS event text of cue ``k`` with its karaoke tags re-timed from the words
    (each syllable starts where its first character falls in its word's span, a pause
    syllable where the syllable before it ends), summing to the new duration; ``None``
    when the event has no karaoke tags."""
    from qalign.formats.ass_script import karaoke_blocks, set_karaoke

    event = next(e for e in document.script.events if e.line == document.cues[k].line)
    blocks = karaoke_blocks(event.text)
    if not blocks:
        return None
    seg = alignment.segments[k]
    units = alignment.units[seg.unit_start : seg.unit_end]
    base = document.cue_spans()[k][0]
    text = document.cues[k].text

    def time_at(offset: int, end: bool) -> float:
        at = base + offset
        for u in units:
            lo, hi = u.char_start or 0, u.char_end or 0
            if lo <= at < hi or (end and lo < at <= hi):
                return u.start + (u.end - u.start) * (at - lo) / max(1, hi - lo)
            if at < lo:
                return u.start
        return units[-1].end if units else start_cs / 100

    starts, pos, previous_end = [], 0, start_cs / 100
    for _s, _e, syllable in blocks:
        word = syllable.strip()
        found = text.find(word, pos) if word else -1
        if found < 0:
            starts.append(previous_end)
            continue
        starts.append(time_at(found, False))
        pos = found + len(word)
        previous_end = time_at(pos, True)
    ticks = [min(max(round(t * 100) - start_cs, 0), end_cs - start_cs) for t in starts]
    for i in range(1, len(ticks)):
        ticks[i] = max(ticks[i], ticks[i - 1])
    ticks[0] = 0
    durations = [b - a for a, b in zip(ticks, ticks[1:] + [end_cs - start_cs])]
    return set_karaoke(event.text, durations)


def is_subtitle_path(path: str | Path) -> bool:
    """Whether ``path`` names a subtitle file read as a transcript (by its extension)."""
    return Path(str(path)).suffix.lower() in SUBTITLE_EXTENSIONS


def read_subtitle_document(path: str | Path) -> SubtitleDocument:
    """Read an SRT, WebVTT, ASS or SSA file as a transcript.

    Raises:
        TranscriptError: missing, undecodable or invalid file, or no cue with text;
            the message names the file.
    """
    from qalign.formats.base import decode_text

    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise TranscriptError(name, "no such file") from None
    except OSError as exc:
        raise TranscriptError(name, exc.strerror or str(exc)) from None
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise TranscriptError(name, f"is not UTF-8 or UTF-16 text (byte {exc.start})") from None
    family = SUBTITLE_EXTENSIONS[Path(name).suffix.lower()]
    try:
        return parse_subtitle_document(text, family, name)
    except ValueError as exc:
        raise TranscriptError(name, f"is not a valid {family.upper()} file: {exc}") from None


def parse_subtitle_document(text: str, family: str, name: str = "<text>") -> SubtitleDocument:
    """:func:`read_subtitle_document` on text already decoded.

    Raises:
        ValueError: the text is not valid in ``family``, or has no cue with text.
    """
    from qalign.formats.srt import split_lines, srt_blocks
    from qalign.formats.vtt import vtt_blocks

    script = None
    lines = tuple(split_lines(text))
    if family == "srt":
        blocks = srt_blocks(text)
    elif family == "vtt":
        blocks = vtt_blocks(text)
    elif family == "lrc":
        from qalign.formats.lrc import has_word_tags, id_tag_lines, parse_lrc, plain_line

        entries = parse_lrc(text)
        lines = tuple(id_tag_lines(text))
        script = any(has_word_tags(raw) for _t, raw in entries)  # enhanced: words keep tags
        blocks = [
            (-1, t, entries[k + 1][0] if k + 1 < len(entries) else t, plain_line(raw))
            for k, (t, raw) in enumerate(entries)
            if plain_line(raw)
        ]
    else:
        from qalign.formats.ass_script import parse_script, plain_text

        script = parse_script(text)
        lines = script.lines
        blocks = [(e.line, e.start, e.end, plain_text(e.text)) for e in script.dialogues]
    cues = tuple(
        SourceCue(start, end, _one_line_per_line(body), line) for line, start, end, body in blocks
    )
    if not any(c.text.strip() for c in cues):
        raise ValueError("no cue with text")
    return SubtitleDocument(name, family, lines, cues, script)


def _one_line_per_line(text: str) -> str:
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


@dataclass(frozen=True)
class Retimed:
    """What :func:`retime` returns.

    Attributes:
        alignment: the aligner's units with one segment per cue (new times).
        kept: indices of the cues that kept (or were squeezed near) their old times.
    """

    alignment: Alignment
    kept: tuple[int, ...]


def retime(document: SubtitleDocument, alignment: Alignment, hints: float | None = None) -> Retimed:
    """New cue times from the words aligned to :attr:`SubtitleDocument.transcript`.

    ``alignment`` must come from aligning that transcript (units carry character
    offsets into it). Cues that keep old times are logged, one line for all of
    them, and listed in :attr:`Retimed.kept`.
    """
    units = alignment.units
    spans = document.cue_spans()
    ranges: list[tuple[int, int]] = []
    k = 0
    for _lo, hi in spans:
        first = k
        while k < len(units) and (units[k].char_start is None or units[k].char_start < hi):
            k += 1
        ranges.append((first, k))
    new: list[tuple[float, float] | None] = []
    for cue, (a, b) in zip(document.cues, ranges):
        span = placed_span(units[a:b])
        if (
            span
            and hints is not None
            and (span[1] < cue.start - hints or span[0] > cue.end + hints)
        ):
            span = None
        new.append(span)
    times = _fill_kept(document.cues, new, alignment.duration, ranges, units)
    kept = tuple(i for i, span in enumerate(new) if span is None)
    segments = tuple(
        Segment(cue.text, s, e, a, b) for cue, (s, e), (a, b) in zip(document.cues, times, ranges)
    )
    if kept:
        shown = ", ".join(str(i + 1) for i in kept[:12]) + (" ..." if len(kept) > 12 else "")
        logger.warning(
            "%s: %d of %d cues had no aligned word and kept their old times (cues %s)",
            document.path,
            len(kept),
            len(document.cues),
            shown,
        )
    return Retimed(replace(alignment, segments=segments), kept)


def _fill_kept(
    cues: Sequence[SourceCue],
    new: Sequence[tuple[float, float] | None],
    duration: float,
    ranges: Sequence[tuple[int, int]],
    units: Sequence[Unit],
) -> list[tuple[float, float]]:
    """Times for every cue: the new span, else the old times clipped between the
    re-timed neighbours, else the (interpolated) span of its units, else the gap."""
    n = len(cues)
    out: list[tuple[float, float]] = []
    for i in range(n):
        span = new[i]
        if span is not None:
            out.append(span)
            continue
        lo = out[-1][1] if out else 0.0
        hi = next((nxt[0] for nxt in new[i + 1 :] if nxt is not None), duration)
        lo, hi = min(lo, duration), max(min(hi, duration), min(lo, duration))
        start, end = max(cues[i].start, lo), min(cues[i].end, hi)
        if end <= start:
            a, b = ranges[i]
            if b > a and lo <= units[a].start and units[b - 1].end <= hi:
                start, end = units[a].start, units[b - 1].end
            else:
                start, end = lo, hi
        out.append((start, max(start, end)))
    return out
