"""The one registry: format id -> class, extension -> format id."""

from __future__ import annotations

from pathlib import Path

from qalign.errors import UnknownFormatError
from qalign.formats.base import Format

_FORMATS: dict[str, type[Format]] = {}
_EXTENSIONS: dict[str, str] = {}


def register(cls: type[Format]) -> type[Format]:
    """Add a format class to the registry (usable as a decorator)."""
    _FORMATS[cls.name] = cls
    for ext in cls.extensions:
        _EXTENSIONS.setdefault(ext.lower(), cls.name)
    return cls


def names(*, readable: bool = False, writable: bool = False) -> tuple[str, ...]:
    """Registered format ids, optionally only those that can be read / written."""
    return tuple(
        sorted(
            name
            for name, cls in _FORMATS.items()
            if (not readable or cls.can_read()) and (not writable or cls.can_write())
        )
    )


def get(name: str) -> Format:
    """An instance of the format called ``name``.

    Raises:
        UnknownFormatError: no such format.
    """
    try:
        return _FORMATS[name.lower()]()
    except KeyError:
        raise UnknownFormatError(name, names()) from None


def format_of(path: str | Path, format: str | None = None) -> Format:
    """The format for ``path``: ``format`` when given, else from the extension.

    Raises:
        UnknownFormatError: neither names a known format.
    """
    if format:
        return get(format)
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    # Try compound extensions first ("x.words.tsv" is still tsv; ".audacity.txt" is labels).
    for i in range(len(suffixes)):
        ext = "".join(suffixes[i:])
        if ext in _EXTENSIONS:
            return _FORMATS[_EXTENSIONS[ext]]()
    raise UnknownFormatError(p.suffix or p.name, tuple(sorted(_EXTENSIONS)), str(path))


def extensions() -> dict[str, str]:
    """A copy of the extension -> format id table."""
    return dict(_EXTENSIONS)
