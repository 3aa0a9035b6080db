"""The unit of work of a corpus run: one :class:`CorpusItem` per audio file (or manifest row)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CorpusItem:
    """One thing to align, as plain picklable data (executors send it to other processes).

    Attributes:
        key: relative output stem, ``/``-separated, mirroring the input tree
            (``"spk1/utt01"``); outputs are ``OUTDIR/key.EXT``. Unique within a run.
        audio: absolute path of the audio file.
        text: the transcript, or ``None`` when it is read from :attr:`text_path`.
        text_path: path of a UTF-8 transcript (``.lab``/``.txt``), or ``None``.
        utterances_path: path of a TextGrid whose interval tiers (one per speaker) hold
            utterances; each is aligned within its own span. ``None`` for plain items.
        language: language name or ISO code; ``None`` uses the run's ``--language``
            (else it is guessed from the text).
        offset: seconds into the audio where the item starts (manifests).
        duration: seconds of audio from ``offset``; ``None`` means to the end.
        speaker: speaker label (folder name, or the manifest's ``speaker``), if any.
        size_hint: seconds of audio, for length bucketing and progress (0 when unknown).
    """

    key: str
    audio: str
    text: str | None = None
    text_path: str | None = None
    utterances_path: str | None = None
    language: str | None = None
    offset: float = 0.0
    duration: float | None = None
    speaker: str | None = None
    size_hint: float = 0.0

    @property
    def label(self) -> str:
        """How messages and ``failures.csv`` name the item: its key."""
        return self.key


@dataclass(frozen=True)
class ItemResult:
    """What became of one item (picklable).

    Attributes:
        key: the item's key.
        status: ``"done"``, ``"skipped"`` (finished by an earlier run) or ``"failed"``.
        stage: for failures, where it failed: ``discover``, ``read-text``, ``decode-audio``,
            ``read-utterances``, ``align``, ``write``.
        error: for failures, the one-line message.
        report: the ``alignment_report.csv`` row of a done (or skipped) item.
        audio_seconds: seconds of audio the item covers (for progress and speed figures).
    """

    key: str
    status: str
    stage: str | None = None
    error: str | None = None
    report: dict | None = None
    audio_seconds: float = 0.0
