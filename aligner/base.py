"""The one ``Aligner`` interface; each engine (Qwen3, sphinx, ...) is a backend.

An engine turns (audio, transcript) pairs into :class:`qalign.alignment.Alignment`
objects. Batches keep going when one item fails: :meth:`Aligner.align_batch`
returns the error object in that item's place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from qalign.alignment import Alignment
from qalign.errors import QalignError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class AlignRequest:
    """One item to align.

    Attributes:
        audio: a file path, or a mono float32 array at :attr:`Aligner.sample_rate`.
        transcript: the transcript text (any punctuation and casing).
        language: language name or ISO code, or ``None`` for the engine's default.
        name: how errors name this item (defaults to the audio path).
    """

    audio: str | Path | np.ndarray
    transcript: str
    language: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        from qalign.audio import source_label

        return source_label(self.audio, self.name)


class Aligner(ABC):
    """Base class of alignment engines.

    Subclasses set :attr:`name` and implement :meth:`align_batch`.
    """

    name: ClassVar[str] = ""
    #: Sample rate (Hz) that array inputs must have.
    sample_rate: ClassVar[int] = 16000

    @abstractmethod
    def align_batch(self, requests: Sequence[AlignRequest]) -> list[Alignment | QalignError]:
        """Align several items; a failed item yields its error instead of an alignment."""

    def align(
        self,
        audio: str | Path | np.ndarray,
        transcript: str,
        language: str | None = None,
    ) -> Alignment:
        """Align one item.

        Raises:
            QalignError: the item cannot be aligned (bad audio, text or language).
        """
        (result,) = self.align_batch([AlignRequest(audio, transcript, language)])
        if isinstance(result, QalignError):
            raise result
        return result
