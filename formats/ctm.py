"""NIST CTM (time-marked conversation), the word list sclite and Kaldi score.

One word per line: ``file channel start duration word [confidence]``, blank
separated; lines starting with ``;;`` are comments.
Spec: https://github.com/usnistgov/SCTK/blob/master/doc/infmts.htm

Writing (format id ``ctm``, extension ``.ctm``):

* Times are rounded once to integer milliseconds (half up) with
  :func:`qalign.formats.timing.nonzero_spans`, so no word lasts 0 ms, then
  printed as seconds with 3 decimals: ``start`` and ``duration``.
* ``file`` is the option ``file_id`` (default ``audio``; usually the audio's
  base name), ``channel`` the option ``channel`` (default ``1``, as Kaldi
  writes it; sclite only needs it to match the STM's channel, often ``A``).
* A word is the unit's original text (``norm=True`` writes the normalised
  form, better for scoring). CTM words cannot hold whitespace: each run of it
  becomes ``_``; a unit with no text left is skipped.
* The confidence column is written, with 3 decimals, for units with a score.
* A unit that is not confidently aligned is preceded by a comment
  ``;; status uncertain`` or ``;; status unaligned`` (sclite and Kaldi skip
  comments; this reader gives the status back to the next word).
* An alignment without units writes one line per segment (its text joined by
  ``_``), or without segments either, one per phone.

Reading: comment and blank lines are skipped; extra fields after the
confidence are ignored; of sclite's alternations (``<ALT_BEGIN>`` ...
``<ALT>`` ... ``<ALT_END>``) the first alternative is kept; a confidence that is not a number in [0, 1] is
dropped. A file may hold several recordings and channels: the reader keeps
the records of ``file_id`` and ``channel`` when given, else of the first
record's file and channel (others are left out with a warning), sorted by
start time. A word starting at most 1.5 ms before the previous one ends (the
rounding of start and duration to 3 decimals) is made to start at that end;
larger overlaps raise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from qalign.alignment import UNIT_STATUSES, Alignment
from qalign.formats.base import Format
from qalign.formats.registry import register
from qalign.formats.timing import nonzero_spans
from qalign.formats.wordlist import (
    Row,
    alignment_from_rows,
    in_chunks,
    join_small_overlaps,
    numbered_lines,
    one_line,
    rows_of,
)

logger = logging.getLogger("qalign")

_ALTERNATION = ("<ALT_BEGIN>", "<ALT>", "<ALT_END>")
_OVERLAP = 0.0015  # seconds: overlaps this small come from 3-decimal rounding


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def dumps_ctm(
    alignment: Alignment, *, file_id: str = "audio", channel: str = "1", norm: bool = False
) -> str:
    """Render ``alignment`` as CTM lines (see the module docstring)."""
    return "".join(iter_ctm(alignment, file_id=file_id, channel=channel, norm=norm))


def iter_ctm(
    alignment: Alignment, *, file_id: str = "audio", channel: str = "1", norm: bool = False
) -> Iterator[str]:
    """:func:`dumps_ctm` in chunks of lines."""
    return in_chunks(_ctm_lines(alignment, file_id, channel, norm))


def _ctm_lines(alignment: Alignment, file_id: str, channel: str, norm: bool) -> Iterator[str]:
    file_id = one_line(str(file_id), "_") or "audio"
    channel = one_line(str(channel), "_") or "1"
    if alignment.units and norm:
        rows = [Row(u.norm, u.start, u.end, u.score) for u in alignment.units]
    else:
        rows = rows_of(alignment)
    statuses = [u.status for u in alignment.units] if alignment.units else []
    spans = nonzero_spans([(r.start, r.end) for r in rows], 0.001, alignment.duration)
    for k, (row, (start, end)) in enumerate(zip(rows, spans)):
        word = one_line(row.text, "_")
        if not word:
            continue
        if statuses and statuses[k] != "aligned":
            yield f";; status {statuses[k]}"
        fields = [file_id, channel, _seconds(start), _seconds(end - start), word]
        if row.score is not None:
            fields.append(f"{row.score:.3f}")
        yield " ".join(fields)


def _score(fields: list[str]) -> float | None:
    if len(fields) < 6:
        return None
    try:
        value = float(fields[5])
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def loads_ctm(text: str, *, file_id: str | None = None, channel: str | None = None) -> Alignment:
    """Parse CTM text; see the module docstring for which records are kept.

    Raises:
        ValueError: a line with fewer than 5 fields or non-numeric times, no
            record for the requested file/channel, or overlapping words.
    """
    rows: list[Row] = []
    in_order = True
    chosen: tuple[str, str] | None = None
    left_out: set[tuple[str, str]] = set()
    alternative = 0  # inside <ALT_BEGIN> ... <ALT_END>: which alternative this is
    pending = "aligned"  # the status a ";; status X" comment gives the next word
    statuses: list[str] = []
    for number, line in numbered_lines(text):
        fields = line.split()
        if fields[:2] == [";;", "status"] and len(fields) == 3 and fields[2] in UNIT_STATUSES:
            pending = fields[2]
            continue
        if not fields or fields[0].startswith(";;"):
            continue
        if len(fields) < 5:
            raise ValueError(
                f"line {number}: expected 'file channel start duration word', got {line!r}"
            )
        key = (fields[0], fields[1])
        if chosen is None and file_id in (None, key[0]) and channel in (None, key[1]):
            chosen = key  # the first matching record fixes whatever was not asked for
        if key != chosen:
            left_out.add(key)
            continue
        marker = fields[4].upper()
        if marker in _ALTERNATION:
            alternative = {"<ALT_BEGIN>": 1, "<ALT>": alternative + 1, "<ALT_END>": 0}[marker]
            continue
        if alternative > 1:
            continue
        try:
            start, duration = float(fields[2]), float(fields[3])
        except ValueError:
            raise ValueError(f"line {number}: start/duration are not numbers in {line!r}") from None
        end = round(start + duration, 9)  # 11.851 + 0.204 is 12.055000000000001 in floats
        if rows and start < rows[-1].start:
            in_order = False
        rows.append(Row(fields[4], start, end, _score(fields)))
        statuses.append(pending)
        pending = "aligned"
    if chosen is None and left_out:
        found = ", ".join(f"{f} {c}" for f, c in sorted(left_out))
        raise ValueError(f"no records for file {file_id!r} channel {channel!r} (found: {found})")
    if left_out and chosen is not None:
        logger.warning(
            "CTM: read file %s channel %s only; left out %d other file/channel pairs",
            chosen[0],
            chosen[1],
            len(left_out),
        )
    if not in_order:  # stable: file order among equal starts
        order = sorted(range(len(rows)), key=lambda i: rows[i].start)
        rows = [rows[i] for i in order]
        statuses = [statuses[i] for i in order]
    # Start and duration are each rounded to the file's precision, so a word may
    # end up to one rounding step after the next one starts: join those.
    rows = join_small_overlaps(rows, _OVERLAP)
    count = len(rows)
    alignment = alignment_from_rows(rows, consume=True)  # each row dropped as its word is made
    if any(st != "aligned" for st in statuses) and len(alignment.units) == count:
        units = tuple(replace(u, status=st) for u, st in zip(alignment.units, statuses))
        alignment = replace(alignment, units=units)
    return alignment


@register
class CtmFormat(Format):
    name = "ctm"
    extensions = (".ctm",)
    description = (
        "NIST CTM word list (sclite, Kaldi): file channel start duration word [confidence]"
    )

    def dumps(self, alignment: Alignment, **options: Any) -> str:
        return "".join(self.iter_dumps(alignment, **options))

    def iter_dumps(self, alignment: Alignment, **options: Any) -> Iterator[str]:
        known = {k: options[k] for k in ("file_id", "channel", "norm") if k in options}
        return iter_ctm(alignment, **known)

    def loads(self, text: str, **options: Any) -> Alignment:
        known = {k: options[k] for k in ("file_id", "channel") if k in options}
        return loads_ctm(text, **known)
