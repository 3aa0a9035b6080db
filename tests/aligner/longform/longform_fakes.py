"""Stand-ins shared by the long-form layer's tests: a transcript unit and an engine base.

Test modules import this by putting their own folder on ``sys.path`` (as they do for
the benchmark modules); the name is specific so that it cannot clash with another
folder's helpers.
"""

from __future__ import annotations

from dataclasses import dataclass

from qalign.aligner.longform.engine import Script, WindowEngine
from qalign.alignment import Source


@dataclass(frozen=True)
class Unit:
    """A transcript unit as the layer reads it: text, normalised text, character span."""

    text: str
    norm: str
    char_start: int
    char_end: int


class FakeEngine(WindowEngine):
    """An engine for hand-made scripts: ``source`` is ``Source(name)``, ``script`` is not
    used. Subclasses set :attr:`name` and give ``align_windows``."""

    name = "fake"

    @property
    def source(self) -> Source:
        return Source(self.name)

    def script(self, transcript, language, label) -> Script:  # pragma: no cover - not used
        raise NotImplementedError
