"""The one ``Transcriber`` interface and its result, :class:`Transcript`.

A transcriber turns audio into text and the language it heard. Qwen3-ASR is a
backend behind this interface (:mod:`qalign.asr.qwen3`). Like
:meth:`qalign.aligner.base.Aligner.align_batch`, :meth:`Transcriber.transcribe_batch`
keeps going when one item fails and returns the error in that item's place.

Times are float seconds; a :class:`Transcript` of long audio keeps the piece of
text each chunk produced (:class:`TranscriptChunk`) with the chunk's place in
the whole recording.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from qalign.errors import QalignError, ValidationError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class TranscriptChunk:
    """The text of one stretch of the audio, as one model request produced it.

    Attributes:
        start: where the stretch starts in the whole audio, in seconds.
        end: where it ends, in seconds (``end >= start``).
        text: the transcript of the stretch (``""`` when no speech was heard).
        language: the language the model named (``"English"``), or ``None``.
    """

    start: float
    end: float
    text: str
    language: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValidationError(
                f"transcript chunk {self.start}..{self.end} s: start must be >= 0 and <= end"
            )


@dataclass(frozen=True, slots=True)
class Transcript:
    """What a transcriber heard in one recording.

    Attributes:
        text: the whole transcript (chunk texts joined); ``""`` when no speech was heard.
        language: the language heard (most of the text), or ``None`` when unknown or silent.
        duration: length of the audio in seconds.
        chunks: the chunks the audio was transcribed in, in order; one for short audio.
        model: the model that produced it (Hub id or folder), if known.
    """

    text: str
    language: str | None
    duration: float
    chunks: tuple[TranscriptChunk, ...] = field(default=())
    model: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.chunks, tuple):
            object.__setattr__(self, "chunks", tuple(self.chunks))
        if not self.duration >= 0:
            raise ValidationError(f"transcript duration {self.duration} s is negative or NaN")

    @property
    def is_empty(self) -> bool:
        """True when no speech was transcribed."""
        return not self.text.strip()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by ``qalign transcribe --no-align``."""
        return {
            "text": self.text,
            "language": self.language,
            "duration": self.duration,
            "model": self.model,
            "chunks": [
                {"start": c.start, "end": c.end, "text": c.text, "language": c.language}
                for c in self.chunks
            ],
        }


@dataclass(frozen=True)
class TranscribeRequest:
    """One item to transcribe.

    Attributes:
        audio: a file path, or mono float32 samples at :attr:`Transcriber.sample_rate`.
        language: force this language (any spelling :func:`~qalign.asr.languages.resolve_asr_language`
            accepts), or ``None`` to let the model identify it.
        context: text that helps recognition (hot words, names, background), or ``""``.
        name: how errors name this item (defaults to the audio path).
    """

    audio: str | Path | np.ndarray
    language: str | None = None
    context: str = ""
    name: str | None = None

    @property
    def label(self) -> str:
        from qalign.audio import source_label

        return source_label(self.audio, self.name)


class Transcriber(ABC):
    """Base class of speech recognition backends.

    Subclasses set :attr:`name` and :attr:`max_seconds` and implement
    :meth:`transcribe_batch`. Each request is transcribed in one pass: cutting
    longer audio is the caller's job (:func:`qalign.asr.chunking.plan_chunks`).
    """

    name: ClassVar[str] = ""
    #: Sample rate (Hz) that array inputs must have.
    sample_rate: ClassVar[int] = 16000
    #: Longest audio one request may hold, in seconds.
    max_seconds: float = 1200.0
    #: The model as the user named it, for the outputs' ``source``.
    model_name: str | None = None

    @abstractmethod
    def transcribe_batch(
        self, requests: Sequence[TranscribeRequest]
    ) -> list[Transcript | QalignError]:
        """Transcribe several items; a failed item yields its error instead of a transcript."""

    def transcribe(
        self,
        audio: str | Path | np.ndarray,
        language: str | None = None,
        context: str = "",
    ) -> Transcript:
        """Transcribe one item.

        Raises:
            QalignError: the item cannot be transcribed (bad audio, language, too long).
        """
        (result,) = self.transcribe_batch([TranscribeRequest(audio, language, context)])
        if isinstance(result, QalignError):
            raise result
        return result
