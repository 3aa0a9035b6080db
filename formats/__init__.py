"""Reading and writing alignment files.

Use :func:`save` and :func:`load`; the format comes from the file extension or
an explicit ``format`` id (see :func:`names`). Importing this package imports
neither torch nor transformers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qalign.alignment import Alignment
from qalign.atomic import write_all
from qalign.errors import QalignError, ReadError

# Each format module registers itself on import.
from qalign.formats import (  # noqa: E402,F401,I001
    ass,
    audacity,
    ctm,
    eaf,
    jsonfmt,
    lrc,
    review_html,
    srt,
    textgrid,
    tsv,
    vtt,
)
from qalign.formats.base import Format, decode_text
from qalign.formats.registry import extensions, format_of, get, names, register

__all__ = [
    "Format",
    "dumps",
    "extensions",
    "format_of",
    "get",
    "load",
    "loads",
    "names",
    "register",
    "render",
    "save",
]


def dumps(alignment: Alignment, format: str, **options: Any) -> str:
    """Render ``alignment`` in the format called ``format``."""
    return get(format).dumps(alignment, **options)


def render(alignment: Alignment, format: str, **options: Any) -> Iterator[str]:
    """Render ``alignment`` in the format called ``format`` as chunks of text (the
    concatenation is :func:`dumps`); long files are never held whole."""
    return get(format).iter_dumps(alignment, **options)


def save(alignment: Alignment, path: str | Path, format: str | None = None, **options: Any) -> None:
    """Write ``alignment`` to ``path`` atomically, in ``format`` or the extension's format.

    Raises:
        UnknownFormatError: no writable format matches.
        WriteError: the file could not be written.
    """
    fmt = format_of(path, format)
    if not fmt.can_write():
        raise QalignError(f"{path}: format {fmt.name!r} can be read but not written")
    write_all([(path, fmt.iter_dumps(alignment, **options))])


def loads(text: str, format: str, **options: Any) -> Alignment:
    """Parse ``text`` in the format called ``format``."""
    return get(format).loads(text, **options)


def load(path: str | Path, format: str | None = None, **options: Any) -> Alignment:
    """Read an alignment file (UTF-8 with or without BOM, or UTF-16).

    Options go to the format's reader; TextGrid takes ``tier`` (the word tier's name).

    Raises:
        UnknownFormatError: no readable format matches.
        ReadError: the file is missing, undecodable or invalid; the message names it.
    """
    fmt = format_of(path, format)
    if not fmt.can_read():
        raise ReadError(path, f"format {fmt.name!r} can be written but not read")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReadError(path, exc.strerror or str(exc)) from None
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise ReadError(
            path, f"not UTF-8 or UTF-16 text ({exc.reason} at byte {exc.start})"
        ) from None
    del data  # the bytes and the text are not both kept while parsing
    try:
        return fmt.loads(text, **options)
    except ReadError:
        raise
    except QalignError as exc:
        raise ReadError(path, f"invalid {fmt.name}: {exc}") from None
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, ArithmeticError) as exc:
        raise ReadError(path, f"invalid {fmt.name}: {exc}") from None
    except RecursionError:
        raise ReadError(path, f"invalid {fmt.name}: nested too deeply") from None
