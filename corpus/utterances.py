"""TextGrid utterance tiers: reading them, and writing the aligned result back per speaker.

An utterance TextGrid has one interval tier per speaker (the tier name is the speaker);
each non-empty interval is an utterance whose text is aligned inside its own span.
Tiers whose names say they hold words or phones (``"anna - words"``) are ignored, so an
aligner's own output beside the audio is not mistaken for utterances.

The output TextGrid keeps each speaker's utterance tier (same name, same intervals)
and adds ``"SPEAKER - words"`` (and ``"SPEAKER - phones"`` when the engine times phones)
right after it, as Montreal Forced Aligner lays out its multi-speaker results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qalign.alignment import Alignment, Segment, Source


@dataclass(frozen=True)
class Utterance:
    """One interval of a speaker tier, in seconds of the whole audio file."""

    speaker: str
    start: float
    end: float
    text: str


def read_utterances(path: str | Path) -> tuple[list[Utterance], float]:
    """The utterances of every speaker tier, and the grid's end time (seconds).

    Raises:
        ReadError: the file is missing, not a TextGrid, or has no utterance tier.
    """
    from praatio.utilities import errors as praatio_errors
    from praatio.utilities import textgrid_io

    from qalign.errors import ReadError
    from qalign.formats.base import decode_text
    from qalign.formats.wordlist import tier_role

    try:
        text = decode_text(Path(path).read_bytes())
    except OSError as exc:
        raise ReadError(path, exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise ReadError(path, "not UTF-8 or UTF-16 text") from None
    if "TextGrid" not in text[:200]:
        raise ReadError(path, 'not a TextGrid (no "TextGrid" object class in the header)')
    try:
        grid = textgrid_io.parseTextgridStr(text + "\n", includeEmptyIntervals=False)
    except (praatio_errors.PraatioException, ValueError, IndexError, KeyError, TypeError) as exc:
        raise ReadError(path, f"not a valid TextGrid ({str(exc).splitlines()[0][:160]})") from None
    utterances: list[Utterance] = []
    tiers = 0
    for tier in grid.get("tiers", []):
        if tier.get("class") != "IntervalTier" or tier_role(tier["name"]) in ("words", "phones"):
            continue
        tiers += 1
        for start, end, label in tier["entries"]:
            words = " ".join(str(label).split())
            if words and end > start:
                utterances.append(Utterance(str(tier["name"]), float(start), float(end), words))
    if not tiers:
        raise ReadError(path, "has no utterance tier (interval tiers named after speakers)")
    return utterances, float(grid.get("xmax") or 0.0)


def shifted(alignment: Alignment, offset: float, duration: float) -> Alignment:
    """``alignment`` with every time moved ``offset`` seconds later, on a ``duration`` timeline."""

    def move(items: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(replace(x, start=x.start + offset, end=x.end + offset) for x in items)

    if offset == 0 and duration == alignment.duration:
        return alignment
    return replace(
        alignment,
        units=move(alignment.units),
        segments=move(alignment.segments),
        phones=move(alignment.phones),
        stretches=move(alignment.stretches),
        duration=duration,
    )


def merge_speaker(
    parts: Sequence[tuple[Utterance, Alignment | None]], duration: float, source: Source
) -> Alignment:
    """One alignment of a speaker from their utterances' alignments (file times).

    Each utterance becomes a segment over its words; an utterance with no alignment
    (nothing alignable in its text) becomes a segment without words.
    """
    units: list[Any] = []
    phones: list[Any] = []
    stretches: list[Any] = []
    segments: list[Segment] = []
    language = None
    for utt, part in parts:
        first = len(units)
        if part is not None:
            language = language or part.language
            units.extend(part.units)
            phones.extend(part.phones)
            stretches.extend(
                replace(st, unit_start=st.unit_start + first, unit_end=st.unit_end + first)
                for st in part.stretches
            )
        segments.append(Segment(utt.text, utt.start, utt.end, first, len(units)))
    return Alignment(
        units=tuple(units),
        segments=tuple(segments),
        duration=duration,
        language=language,
        source=source,
        phones=tuple(phones),
        stretches=tuple(stretches),
    )


def dumps_speakers(
    speakers: Sequence[tuple[str, Alignment]], duration: float, *, short: bool = False
) -> str:
    """A TextGrid with, per speaker, the utterance tier then ``"SPEAKER - words"``
    (and ``"SPEAKER - phones"``)."""
    from praatio.data_classes.interval_tier import IntervalTier
    from praatio.utilities import textgrid_io

    from qalign.formats.textgrid import MIN_INTERVAL, positive_spans

    def tier(name: str, rows: Sequence[tuple[str, float, float]], xmax: float) -> dict[str, Any]:
        spans = positive_spans([(s, e) for _, s, e in rows], xmax)
        entries = [(s, e, text) for (s, e), (text, _, _) in zip(spans, rows)]
        built = IntervalTier(name, entries, 0.0, max([xmax, *(e for _, e in spans)]))
        return {
            "class": built.tierType,
            "name": name,
            "xmin": 0.0,
            "xmax": built.maxTimestamp,
            "entries": built.entries,
        }

    xmax = max(duration, MIN_INTERVAL)
    tiers = []
    for speaker, alignment in speakers:
        tiers.append(tier(speaker, [(s.text, s.start, s.end) for s in alignment.segments], xmax))
        tiers.append(
            tier(f"{speaker} - words", [(u.text, u.start, u.end) for u in alignment.units], xmax)
        )
        if alignment.phones:
            tiers.append(
                tier(
                    f"{speaker} - phones",
                    [(p.label, p.start, p.end) for p in alignment.phones],
                    xmax,
                )
            )
    xmax = max([xmax, *(t["xmax"] for t in tiers)])
    for t in tiers:
        t["xmax"] = xmax
    return textgrid_io.getTextgridAsStr(
        {"xmin": 0.0, "xmax": xmax, "tiers": tiers},
        "short_textgrid" if short else "long_textgrid",
        includeBlankSpaces=True,
        minimumIntervalLength=None,
    )
