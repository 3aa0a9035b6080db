"""One root exception, :class:`QalignError`, and the subclasses callers catch.

Every subclass keeps the values it complains about as attributes and stays
picklable (arguments are passed through to ``Exception.__init__``), so errors
survive a trip through ``multiprocessing``. The CLI prints ``str(error)`` as
one line and exits with :attr:`QalignError.exit_code`.
"""

from __future__ import annotations

from pathlib import Path


class QalignError(Exception):
    """Root of every error qalign raises on purpose."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(QalignError, ValueError):
    """A value breaks the data model's rules (times out of range or out of order)."""


class UnknownFormatError(QalignError, ValueError):
    """No reader or writer for a format name or file extension (``path``: the file whose
    extension it is, named first in the message)."""

    def __init__(self, name: str, known: tuple[str, ...] = (), path: str | None = None) -> None:
        hint = f" (known: {', '.join(known)})" if known else ""
        where = f"{path}: " if path else ""
        super().__init__(f"{where}unknown format {name!r}{hint}")
        self.args = (name, known, path)
        self.name = name
        self.known = known
        self.path = path


class _PathError(QalignError):
    """An error about one file: the message always names it."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.args = (str(path), reason)
        self.path = str(path)
        self.reason = reason


class ReadError(_PathError):
    """A file could not be read or parsed as the format it claims to be."""


class WriteError(_PathError):
    """An output file could not be written."""


class AudioError(_PathError):
    """Audio is missing, unreadable, empty or otherwise unusable."""


class TranscriptError(_PathError):
    """A transcript is missing, not UTF-8, empty, or has nothing to align."""


class AudioTooLongError(AudioError):
    """Audio is longer than one model pass can time."""

    def __init__(self, path: str | Path, duration: float, limit: float) -> None:
        super().__init__(
            path, f"audio is {duration:.2f} s long; one pass can align at most {limit:.2f} s"
        )
        self.args = (str(path), duration, limit)
        self.duration = duration
        self.limit = limit


class LanguageError(QalignError, ValueError):
    """A language name or code that the engine does not support."""

    def __init__(self, language: str, supported: tuple[str, ...]) -> None:
        super().__init__(f"unsupported language {language!r}; supported: {', '.join(supported)}")
        self.args = (language, supported)
        self.language = language
        self.supported = supported


class ModelLoadError(_PathError):
    """A checkpoint is missing, incomplete, unsafe or not the expected kind of model."""


class ModelNotFoundError(ModelLoadError):
    """The model is neither a folder on disk nor in the local cache, and the hub cannot be reached.

    ``--engine auto`` treats this (and only this) load failure as a reason to use
    the offline engine instead.
    """


class MissingDependencyError(QalignError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    exit_code = 3

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(f'{purpose} needs the {package!r} package: pip install "qalign[{extra}]"')
        self.args = (package, extra, purpose)
        self.package = package
        self.extra = extra
        self.purpose = purpose
