"""The alignment data model: frozen dataclasses with times in float seconds.

* :class:`Unit` is one aligned unit of the transcript: a word, or one CJK
  character. It keeps the transcript's own text (punctuation and casing
  included) beside the normalised form the model saw.
* :class:`Phone` is one phone inside a word (engines that time phones).
* :class:`Segment` is a sentence or subtitle cue covering a run of units.
* :class:`Alignment` holds them all with the audio duration, the language and
  the :class:`Source` that produced them.

Validation happens at construction and the error message carries the
offending values. Times obey ``0 <= start <= end <= duration``; units (and
phones) are in order and do not overlap: ``end[i] <= start[i + 1]``.

:meth:`Alignment.to_dict` / :meth:`Alignment.from_dict` are the lossless JSON
form (schema version :data:`SCHEMA_VERSION`, documented in the README).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from qalign.errors import ValidationError

SCHEMA_VERSION = 2
#: Schema versions :meth:`Alignment.from_dict` reads (version 1 has no statuses or stretches).
READABLE_SCHEMA_VERSIONS = (1, 2)

#: How a unit was placed. ``aligned``: placed with confidence; ``uncertain``: placed,
#: low confidence; ``unaligned``: could not be placed, times interpolated inside the gap
#: between its aligned neighbours.
UNIT_STATUSES = ("aligned", "uncertain", "unaligned")

#: The latest time an alignment may hold, in seconds (about 115 days). Larger values
#: (``1e308`` in a hand-edited file) are refused when read instead of overflowing
#: the integer ticks of the writers.
MAX_SECONDS = 1e7

# Float seconds are compared against the duration with this slack so that
# values that went through integer milliseconds still validate.
_EPS = 1e-9


def _check_span(kind: str, index: int | None, text: str, start: float, end: float) -> None:
    where = f"{kind} {index} " if index is not None else f"{kind} "
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValidationError(f"{where}{text!r}: start/end is not a finite number ({start}, {end})")
    if start < 0:
        raise ValidationError(f"{where}{text!r}: start {start} s is negative")
    if end > MAX_SECONDS:
        raise ValidationError(
            f"{where}{text!r}: end {end:g} s is past the largest time qalign handles "
            f"({MAX_SECONDS:g} s)"
        )
    if end < start:
        raise ValidationError(f"{where}{text!r}: end {end} s is before start {start} s")


@dataclass(frozen=True, slots=True)
class Unit:
    """One aligned unit (a word, or one CJK character).

    Attributes:
        text: the unit as written in the transcript, with punctuation and casing.
        norm: the normalised form fed to the model (letters, digits, apostrophes).
        start: start time in seconds.
        end: end time in seconds (``end >= start``).
        score: confidence in [0, 1], or ``None`` when the engine gives none.
        char_start: offset of ``text`` in the transcript (characters), or ``None``.
        char_end: offset one past the end of ``text``, or ``None``.
        status: ``aligned``, ``uncertain`` (placed, low confidence) or ``unaligned``
            (not placed; times interpolated between the aligned neighbours).
    """

    text: str
    norm: str
    start: float
    end: float
    score: float | None = None
    char_start: int | None = None
    char_end: int | None = None
    status: str = "aligned"

    def __post_init__(self) -> None:
        _check_span("unit", None, self.text, self.start, self.end)
        if self.status not in UNIT_STATUSES:
            raise ValidationError(
                f"unit {self.text!r}: status {self.status!r} is not one of {', '.join(UNIT_STATUSES)}"
            )
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValidationError(f"unit {self.text!r}: score {self.score} is outside [0, 1]")
        if (self.char_start is None) != (self.char_end is None):
            raise ValidationError(
                f"unit {self.text!r}: char_start {self.char_start} and char_end "
                f"{self.char_end} must both be set or both be None"
            )
        if self.char_start is not None and self.char_end is not None:
            if not 0 <= self.char_start <= self.char_end:
                raise ValidationError(
                    f"unit {self.text!r}: character offsets {self.char_start}..{self.char_end} "
                    "are out of order"
                )

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Phone:
    """One phone, in seconds. ``label`` is the engine's symbol (ARPAbet for sphinx)."""

    label: str
    start: float
    end: float
    score: float | None = None

    def __post_init__(self) -> None:
        _check_span("phone", None, self.label, self.start, self.end)
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValidationError(f"phone {self.label!r}: score {self.score} is outside [0, 1]")


@dataclass(frozen=True, slots=True)
class Segment:
    """A sentence or cue spanning ``units[unit_start:unit_end]`` of its alignment.

    ``unit_start == unit_end`` means a segment with no unit timings (a cue
    read from a subtitle file, say).
    """

    text: str
    start: float
    end: float
    unit_start: int = 0
    unit_end: int = 0

    def __post_init__(self) -> None:
        _check_span("segment", None, self.text, self.start, self.end)
        if not 0 <= self.unit_start <= self.unit_end:
            raise ValidationError(
                f"segment {self.text!r}: unit range {self.unit_start}..{self.unit_end} is invalid"
            )


@dataclass(frozen=True, slots=True)
class Stretch:
    """A run of units that share a problem, e.g. text never heard in the audio.

    Attributes:
        start: start time in seconds (where the stretch sits in the audio).
        end: end time in seconds.
        unit_start: first unit index of the stretch.
        unit_end: one past the last unit index (``unit_start < unit_end``), or equal
            for a stretch of audio that no text was assigned to.
        reason: a short phrase for people (``text not heard``, ``low confidence``...).
        status: the status its units carry (``unaligned`` or ``uncertain``).
    """

    start: float
    end: float
    unit_start: int
    unit_end: int
    reason: str
    status: str = "unaligned"

    def __post_init__(self) -> None:
        _check_span("stretch", None, self.reason, self.start, self.end)
        if not 0 <= self.unit_start <= self.unit_end:
            raise ValidationError(
                f"stretch {self.reason!r}: unit range {self.unit_start}..{self.unit_end} is invalid"
            )
        if self.status not in UNIT_STATUSES:
            raise ValidationError(f"stretch {self.reason!r}: status {self.status!r} is unknown")


@dataclass(frozen=True, slots=True)
class Source:
    """Where an alignment came from.

    Attributes:
        engine: the alignment engine (``qwen3``, ``sphinx``; a format name when read from a file).
        model: the aligner's hub id or folder.
        decoder: the timestamp decoder (``monotonic``, ``reference``).
        transcriber: the speech recogniser's hub id or folder, when the transcript came from ASR.
    """

    engine: str
    model: str | None = None
    decoder: str | None = None
    transcriber: str | None = None


def _check_order(kind: str, items: Sequence[Any], label: str, duration: float) -> None:
    prev_end = 0.0
    for i, item in enumerate(items):
        if item.end > duration + _EPS:
            raise ValidationError(
                f"{kind} {i} {getattr(item, label)!r}: end {item.end} s is past the audio "
                f"duration {duration} s"
            )
        if i and item.start < prev_end - _EPS:
            raise ValidationError(
                f"{kind} {i} {getattr(item, label)!r}: start {item.start} s is before the end "
                f"{prev_end} s of {kind} {i - 1}"
            )
        prev_end = item.end


@dataclass(frozen=True, slots=True)
class Alignment:
    """Units, segments and phones timed against one audio file.

    Attributes:
        units: aligned units in transcript order, non-overlapping.
        segments: sentences or cues, in order; may be empty.
        duration: length of the audio in seconds.
        language: language name (e.g. ``"English"``) or ``None`` when unknown.
        source: what produced the alignment.
        phones: phones in time order, non-overlapping; empty unless the engine times phones.
        stretches: runs of units that are not confidently aligned (and stretches of audio
            no text was assigned to), in time order; empty when everything aligned.
    """

    units: tuple[Unit, ...]
    segments: tuple[Segment, ...] = ()
    duration: float = 0.0
    language: str | None = None
    source: Source = field(default_factory=lambda: Source("unknown"))
    phones: tuple[Phone, ...] = ()
    stretches: tuple[Stretch, ...] = ()

    def __post_init__(self) -> None:
        # Accept any iterable but store tuples so the object is hashable and frozen.
        for name in ("units", "segments", "phones", "stretches"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if not (math.isfinite(self.duration) and self.duration >= 0):
            raise ValidationError(f"duration {self.duration} s is negative or not finite")
        if self.duration > MAX_SECONDS:
            raise ValidationError(
                f"duration {self.duration:g} s is past the largest time qalign handles "
                f"({MAX_SECONDS:g} s)"
            )
        _check_order("unit", self.units, "text", self.duration)
        _check_order("phone", self.phones, "label", self.duration)
        for i, seg in enumerate(self.segments):
            if seg.end > self.duration + _EPS:
                raise ValidationError(
                    f"segment {i} {seg.text!r}: end {seg.end} s is past the audio duration "
                    f"{self.duration} s"
                )
            if seg.unit_end > len(self.units):
                raise ValidationError(
                    f"segment {i} {seg.text!r}: unit range {seg.unit_start}..{seg.unit_end} "
                    f"exceeds the {len(self.units)} units"
                )
            if i and seg.start < self.segments[i - 1].start:
                raise ValidationError(
                    f"segment {i} {seg.text!r}: start {seg.start} s is before segment {i - 1}'s "
                    f"start {self.segments[i - 1].start} s"
                )

        for i, st in enumerate(self.stretches):
            if st.unit_end > len(self.units):
                raise ValidationError(
                    f"stretch {i} {st.reason!r}: unit range {st.unit_start}..{st.unit_end} "
                    f"exceeds the {len(self.units)} units"
                )
            if st.end > self.duration + _EPS:
                raise ValidationError(
                    f"stretch {i} {st.reason!r}: end {st.end} s is past the audio duration "
                    f"{self.duration} s"
                )

    # -- statuses --------------------------------------------------------------------

    def count(self, status: str) -> int:
        """How many units carry ``status``."""
        return sum(1 for u in self.units if u.status == status)

    # -- lossless JSON form (qalign.schema) -------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``words``, ``segments``, ``phones``, ``stretches``, ``duration``,
        ``language``, ``source`` (schema version :data:`SCHEMA_VERSION`)."""
        from qalign.schema import alignment_to_dict

        return alignment_to_dict(self)

    def header_dict(self) -> dict[str, Any]:
        """The JSON form's fields before the lists: version, duration, language, source."""
        from qalign.schema import header_dict

        return header_dict(self)

    def item_dicts(self) -> dict[str, Iterator[dict[str, Any]]]:
        """The JSON form's lists, each produced one item at a time (so a writer can
        stream a long alignment without building every dict at once)."""
        from qalign.schema import item_dicts

        return item_dicts(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alignment:
        """Rebuild an alignment from :meth:`to_dict` output (schema version 1 or 2).
        Items of ``words`` may already be :class:`Unit` objects.

        Raises:
            ValidationError: unknown schema version, missing fields or invalid values.
        """
        from qalign.schema import alignment_from_dict

        return alignment_from_dict(data)


def unit_from_dict(w: dict[str, Any]) -> Unit:
    """One word of the JSON form as a :class:`Unit` (see :func:`qalign.schema.unit_from_dict`)."""
    from qalign.schema import unit_from_dict as parse

    return parse(w)
