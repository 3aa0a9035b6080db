"""Audio from a pipe or a device (``/dev/stdin``, process substitution ``<(sox ...)``):
read once into a temporary file, so that probing and streaming can open it again.

The copy is bounded (:data:`MAX_SPOOL_BYTES`), removed afterwards (a copy left by a
run killed with ``kill -9`` is removed by the next one, see
:func:`qalign.atomic.remove_stale`), and errors raised while it is in use name the
pipe, not the temporary file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from qalign.errors import AudioError, QalignError

MAX_SPOOL_BYTES = 2 * 1024**3
"""Bytes of audio read from a pipe (``/dev/stdin``, process substitution) at most."""


@contextmanager
def seekable_audio(path: str) -> Iterator[str]:
    """A path to ``path``'s audio that can be opened several times: ``path`` itself for a
    regular file; for a pipe or character device (``/dev/stdin``, ``<(sox ...)``) its
    bytes copied into a temporary file (at most :data:`MAX_SPOOL_BYTES`, removed
    afterwards). Errors raised inside name ``path``, not the temporary file.

    Raises:
        AudioError: the pipe gives more than :data:`MAX_SPOOL_BYTES` or nothing.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0
    if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
        yield path
        return
    from qalign.atomic import remove_stale, temp_name

    folder = tempfile.gettempdir()
    remove_stale(folder)  # copies left by runs killed with kill -9
    tmp = os.path.join(folder, temp_name("audio"))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise AudioError(
            path, f"cannot copy it to a temporary file ({exc.strerror or exc})"
        ) from None
    try:
        copied = 0
        with os.fdopen(fd, "wb") as out, open(path, "rb") as source:
            while block := source.read(1 << 20):
                copied += len(block)
                if copied > MAX_SPOOL_BYTES:
                    raise AudioError(
                        path, f"gives more than {MAX_SPOOL_BYTES // 2**20} MiB; save it to a file"
                    )
                out.write(block)
        if not copied:
            raise AudioError(path, "gave no bytes")
        try:
            yield tmp
        except QalignError as exc:
            if tmp not in str(exc):
                raise
            renamed = QalignError(str(exc).replace(tmp, path))
            renamed.exit_code = exc.exit_code
            raise renamed from None
    except OSError as exc:
        raise AudioError(path, f"cannot read it ({exc.strerror or exc})") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
