"""The base class every format module implements, and how to add one.

A format is a subclass of :class:`Format` in its own module under
``formats/``. It sets ``name`` (the id used by ``--format``), ``extensions``
(lower-case, with the dot) and implements :meth:`Format.dumps` (writers)
and/or :meth:`Format.loads` (readers). Then it is listed in
``formats/registry.py``. That is all.

Writers receive float seconds and convert to integer units once, with the
rounding rule of their format stated in their docstring. No writer emits a
zero-length or negative interval, overlapping cues, or unescaped text.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any, ClassVar

from qalign.alignment import Alignment


class Format:
    """One file format. Subclasses override ``dumps`` and/or ``loads``."""

    name: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    @classmethod
    def can_write(cls) -> bool:
        return cls.dumps is not Format.dumps or cls.iter_dumps is not Format.iter_dumps

    @classmethod
    def can_read(cls) -> bool:
        return cls.loads is not Format.loads

    def dumps(self, alignment: Alignment, **options: Any) -> str:
        """Render an alignment as this format's text."""
        raise NotImplementedError(f"{self.name} cannot be written")

    def iter_dumps(self, alignment: Alignment, **options: Any) -> Iterator[str]:
        """Render an alignment as chunks of text whose concatenation is :meth:`dumps`.

        Writers of long word lists override this (and define ``dumps`` as the
        join) so that a file is written without holding all of its text at once.
        """
        yield self.dumps(alignment, **options)

    def loads(self, text: str, **options: Any) -> Alignment:
        """Parse this format's text into an alignment.

        Raises:
            ValueError (or a :class:`qalign.errors.QalignError`): the text is not valid;
            :func:`qalign.formats.load` turns it into a ``ReadError`` naming the file.
        """
        raise NotImplementedError(f"{self.name} cannot be read")


def decode_text(data: bytes) -> str:
    """Decode file bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM.

    Raises:
        UnicodeDecodeError: the bytes are none of those.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    # UTF-16 without a BOM: Praat writes it when asked; a NUL in every other byte gives it away.
    if len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] != 0:
        return data.decode("utf-16-le")
    if len(data) >= 4 and data[0] == 0 and data[2] == 0 and data[1] != 0:
        return data.decode("utf-16-be")
    return data.decode("utf-8")
