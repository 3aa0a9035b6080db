"""What the long-form layer needs from an engine: align one window of audio to a run of units.

An engine splits the transcript once (:meth:`WindowEngine.script`) and then
times runs of those units inside windows of audio (:meth:`WindowEngine.align_windows`).
Everything about long audio (where windows start and end, which text each
gets, what is kept, how a mismatch is recovered from, statuses and stretches)
lives in :mod:`qalign.aligner.longform`, once, for every engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from qalign.alignment import Alignment, Source

if TYPE_CHECKING:
    from qalign.aligner.longform.stitch import Kept


class ScriptUnit(Protocol):
    """One unit of the transcript (a word, or a CJK character)."""

    text: str
    norm: str
    char_start: int
    char_end: int


@dataclass(frozen=True)
class Script:
    """A transcript split into units by one engine.

    Attributes:
        language: the canonical language name.
        units: the units in transcript order.
        weights: relative spoken length of each unit (phones, or characters).
        data: engine-private per-unit data (sphinx: pronunciations).
    """

    language: str
    units: tuple[ScriptUnit, ...]
    weights: tuple[float, ...]
    data: Any = None


@dataclass(frozen=True)
class WindowJob:
    """One window to align.

    Attributes:
        samples: mono float32 at 16 kHz: the window's audio.
        first: index of the first unit offered.
        stop: one past the last unit offered.
        open_end: the window may end before unit ``stop - 1`` (more text than audio).
        open_start: the window's audio may begin after unit ``first`` (the text before
            it is not spoken there). An engine that cannot express this may ignore it:
            the layer keeps only units that look placed, not piled at the window's start.
        start: where the window starts in the recording, seconds (for logs and simulations).
    """

    samples: np.ndarray
    first: int
    stop: int
    open_end: bool = True
    start: float = 0.0
    open_start: bool = False


@dataclass(frozen=True, slots=True)
class Placed:
    """A unit an engine placed in a window.

    Attributes:
        index: the unit's index in the script.
        start: start in seconds from the window's start.
        end: end in seconds from the window's start.
        score: the engine's confidence in [0, 1] (``None``: none given).
        phones: ``(label, start, end)`` in seconds from the window's start.
        evidence: engine-private numbers about the placement, read back by the engine's
            :meth:`WindowEngine.rescore` (empty: none).
    """

    index: int
    start: float
    end: float
    score: float | None
    phones: tuple[tuple[str, float, float], ...] = ()
    evidence: tuple[float, ...] = ()


class WindowEngine(ABC):
    """An alignment engine seen by the long-form layer.

    Class attributes tune the layer for the engine: :attr:`window_seconds`
    (target window length), :attr:`max_window_seconds` (the longest pass the
    engine takes), the text a window is offered (:attr:`text_slack`,
    :attr:`text_pad` and, after a window that agreed, :attr:`agreed_slack`,
    :attr:`agreed_pad`), :attr:`keep_score` (below it a unit is not kept) and
    :attr:`sure_score` (at or above it a kept unit is ``aligned``, else ``uncertain``).
    """

    name: ClassVar[str] = ""
    window_seconds: float = 30.0
    max_window_seconds: float = 60.0
    #: Text offered to a window: this many times the units its speech should hold at the
    #: rate seen so far, plus :attr:`text_pad` units. Generous, for the first window and
    #: any window after a gap or a recovery (where the text lies is least known there).
    text_slack: float = 1.5
    text_pad: int = 12
    #: The same after a window whose anchors agreed (the next one starts from a unit just
    #: placed, at a known rate): an engine whose passes cost by the token may offer less.
    #: The rate is then the larger of the running one and the last window's own.
    #: ``None``: no difference (the generous text everywhere).
    agreed_slack: float | None = None
    agreed_pad: int = 12
    keep_score: float = 0.05
    sure_score: float = 0.5
    #: Shortest plausible unit, seconds: shorter ones count as collapsed.
    min_unit_seconds: float = 0.02
    #: A window keeping fewer than this share of the units its speech should hold has
    #: failed (text and audio disagree there) and the recovery search starts.
    min_agreement: float = 0.35

    @property
    @abstractmethod
    def source(self) -> Source:
        """The :class:`Source` recorded in results."""

    @abstractmethod
    def script(self, transcript: str, language: str | None, label: str) -> Script:
        """Split ``transcript`` into this engine's units.

        Raises:
            LanguageError: the engine does not serve the language.
            TranscriptError: nothing to align.
        """

    @abstractmethod
    def align_windows(self, script: Script, jobs: Sequence[WindowJob]) -> list[list[Placed]]:
        """Place units ``job.first:job.stop`` in each job's audio; units not found are left out.

        Results are in index order with window-local times inside ``[0, len(samples) / 16000]``.
        """

    def rescore(
        self, script: Script, units: Sequence[Kept | None], pairs: Mapping[int, float]
    ) -> list[float | None]:
        """Final scores of placed units, once every window has run.

        ``units[i]`` is unit ``i``'s placement (``None``: not placed); ``pairs[i]`` the
        larger start or end difference, seconds, between two placements of unit ``i``
        by overlapping windows. Default: the score each window gave.
        """
        return [None if k is None else k.score for k in units]

    def finish(self, alignment: Alignment, read: Any) -> Alignment:
        """Last touches on the stitched alignment (``read(start, end)`` gives audio); default none."""
        return alignment
