"""Subtitle cue rules: :class:`CueOptions` and the named presets.

Every rule is a field of :class:`CueOptions`; a preset is a set of field values
(:data:`PRESETS`) and any field given explicitly overrides the preset's value.
Times are seconds, except the gaps, which are whole video frames at ``fps``
(subtitle guidelines count frames, and a frame is what a viewer sees):

===========  ======  =====  =======  ===========  ======  ===  ===========  ==============
preset       chars   lines  cps      min–max s    wpm     fps  gap frames   chain / linger
===========  ======  =====  =======  ===========  ======  ===  ===========  ==============
``netflix``  42      2      17       5/6 – 7      –       24   2            12 / 12 frames
``bbc``      37      2      –        1 – 7        180     25   2            12 / 12 frames
``cjk``      32 (*)  2      9        5/6 – 7      –       24   2            12 / 12 frames
``karaoke``  42      1      –        0 – 10       –       24   0            0 / 0 (lines)
===========  ======  =====  =======  ===========  ======  ===  ===========  ==============

(*) 16 full-width characters: line widths are display columns, a full-width
character counting two. Reading speed (``max_cps``) counts characters, spaces
included, line breaks not; ``max_wpm`` counts words. ``bbc`` also keeps one
sentence per cue where the sentence fits (``sentence_cues``). ``karaoke`` makes
one cue per transcript line (``cues="lines"``) with no minimum duration.
Without a preset the ``netflix`` values apply, except that ``max_chars`` left
unset becomes 32 columns when most of the text is CJK.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from qalign.errors import ValidationError

#: Named rule sets; see the module docstring.
PRESETS: dict[str, dict[str, Any]] = {
    "netflix": {},
    "bbc": {
        "max_chars": 37,
        "max_cps": None,
        "max_wpm": 180.0,
        "min_duration": 1.0,
        "fps": 25.0,
        "sentence_cues": True,
    },
    "cjk": {"max_chars": 32, "max_cps": 9.0},
    "karaoke": {
        "cues": "lines",
        "max_lines": 1,
        "max_cps": None,
        "min_duration": 0.0,
        "max_duration": 10.0,
        "min_gap_frames": 0,
        "chain_frames": 0,
        "linger_frames": 0,
    },
}
CUE_MODES = ("auto", "lines")


@dataclass(frozen=True, slots=True)
class CueOptions:
    """How cues are cut and timed.

    Attributes:
        preset: the preset these values started from (``None``: the defaults).
        cues: ``auto`` builds cues from words; ``lines`` makes one cue per segment of
            the alignment (per transcript line, or per cue of a re-timed subtitle file).
        max_chars: line width in display columns; ``None``: 42, or 32 for CJK text.
        max_lines: lines per cue.
        max_cps: reading speed in characters per second (a soft rule: a faster cue is
            held longer, up to ``linger``, and costs more when cues are cut); ``None``:
            not checked.
        max_wpm: reading speed in words per minute (``None``: not checked).
        min_duration: seconds a cue stays up where the gap to the next one allows.
        max_duration: seconds of speech one cue may span (``auto`` mode).
        fps: video frame rate the frame counts refer to.
        min_gap_frames: frames left between two cues.
        chain_frames: a gap of this many frames or fewer is closed to ``min_gap_frames``.
        linger_frames: frames a cue may stay up after its speech ends.
        sentence_cues: keep one sentence per cue where it fits (never join two).
    """

    preset: str | None = None
    cues: str = "auto"
    max_chars: int | None = None
    max_lines: int = 2
    max_cps: float | None = 17.0
    max_wpm: float | None = None
    min_duration: float = 5 / 6
    max_duration: float = 7.0
    fps: float = 24.0
    min_gap_frames: int = 2
    chain_frames: int = 12
    linger_frames: int = 12
    sentence_cues: bool = False

    def __post_init__(self) -> None:
        if self.preset is not None and self.preset not in PRESETS:
            raise ValidationError(
                f"unknown subtitle preset {self.preset!r} (choose from {', '.join(PRESETS)})"
            )
        if self.cues not in CUE_MODES:
            raise ValidationError(f"cue mode {self.cues!r} is not one of {', '.join(CUE_MODES)}")
        for name in ("max_chars", "max_lines"):
            value = getattr(self, name)
            if value is None and name == "max_chars":
                continue
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ValidationError(
                    f"cue option {name} must be a positive integer, got {value!r}"
                )
        for name in ("max_cps", "max_duration", "fps", "max_wpm"):
            value = getattr(self, name)
            if value is None and name in ("max_cps", "max_wpm"):
                continue
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValidationError(f"cue option {name} must be a positive number, got {value!r}")
        if not (isinstance(self.min_duration, (int, float)) and 0 <= self.min_duration < math.inf):
            raise ValidationError(
                f"cue option min_duration must be a number >= 0 seconds, got {self.min_duration!r}"
            )
        for name in ("min_gap_frames", "chain_frames", "linger_frames"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                raise ValidationError(
                    f"cue option {name} must be a whole number >= 0, got {value!r}"
                )

    @property
    def min_gap(self) -> float:
        """Seconds left between two cues."""
        return self.min_gap_frames / self.fps

    @property
    def chain(self) -> float:
        """Gaps this long (seconds) or shorter are closed to :attr:`min_gap`."""
        return self.chain_frames / self.fps

    @property
    def linger(self) -> float:
        """Seconds a cue may stay up after its speech."""
        return self.linger_frames / self.fps

    def reading_time(self, chars: int, words: int) -> float:
        """Seconds a viewer needs for ``chars`` characters in ``words`` words (line breaks
        not counted) at the reading-speed limits."""
        need = chars / self.max_cps if self.max_cps else 0.0
        if self.max_wpm:
            need = max(need, words * 60.0 / self.max_wpm)
        return need

    @classmethod
    def from_options(cls, options: Mapping[str, Any], **defaults: Any) -> CueOptions:
        """Options from a writer's keyword options: ``preset`` first, then the fields given.

        Keys that are not fields are ignored, as are ``None`` values. For backward
        compatibility ``min_gap``, ``chain`` and ``linger`` in seconds are accepted and
        turned into frames at the chosen ``fps``.

        Raises:
            ValidationError: an unknown preset or a value out of range.
        """
        given = {k: v for k, v in options.items() if v is not None}
        preset = given.get("preset")
        values: dict[str, Any] = dict(defaults)
        if preset is not None:
            if preset not in PRESETS:
                raise ValidationError(
                    f"unknown subtitle preset {preset!r} (choose from {', '.join(PRESETS)})"
                )
            values.update(PRESETS[preset])
        names = {f.name for f in fields(cls)}
        values.update({k: v for k, v in given.items() if k in names})
        fps = values.get("fps", 24.0)
        for seconds_name, frames_name in (
            ("min_gap", "min_gap_frames"),
            ("chain", "chain_frames"),
            ("linger", "linger_frames"),
        ):
            if seconds_name in given:
                seconds = given[seconds_name]
                if not (
                    isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds >= 0
                ):
                    raise ValidationError(
                        f"cue option {seconds_name} must be a number >= 0 seconds, got {seconds!r}"
                    )
                values[frames_name] = round(seconds * fps)
        return cls(**values)
