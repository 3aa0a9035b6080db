"""Writing output files all-or-nothing: every output is rendered into a temporary
file first, and only when all of them are complete are they renamed into place.

* Temporary files sit beside their target and are named
  ``.<target>.qalign-<host>-<pid>.<random>.part`` (``<host>`` is 8 hex digits
  of a hash of the host name), so they are recognisably ours. A run killed
  with ``kill -9`` cannot remove its own; :func:`remove_stale` (called for
  every output folder before any work) removes those whose process is gone.
* An exception, Ctrl-C or SIGTERM (which the CLI turns into an interruption)
  while rendering removes every temporary file and leaves every target as it
  was: absent, or with its old content.
* A symbolic link as target is written through: the file it points to gets the
  new content and the link stays. A target that is not a regular file (a
  terminal, a pipe, ``/dev/stdout``, ``/dev/null``) is written directly, after
  every regular output is complete; its content is spooled to an anonymous
  temporary file first, so memory stays bounded.
* Text is encoded as UTF-8; a character UTF-8 cannot hold (a lone surrogate
  read from a JSON escape) becomes ``?`` rather than failing half-way.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from qalign.errors import WriteError

TEMP_MARK = "qalign"
"""The word every temporary file name of ours carries (``.<name>.qalign-...part``)."""

_TEMP_NAME = re.compile(r"^\..*\.qalign-([0-9a-f]{8})-(\d+)\.[0-9a-z]+\.part$")
_NAME_ROOM = 120  # characters of the target's name kept in a temporary file's name


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


_HOST = _host_tag()


def temp_name(target_name: str) -> str:
    """The name of a temporary file for ``target_name`` in this process."""
    return (
        f".{target_name[:_NAME_ROOM]}.{TEMP_MARK}-{_HOST}-{os.getpid()}.{secrets.token_hex(4)}.part"
    )


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of our temporary file names (of any process)."""
    return _TEMP_NAME.match(name) is not None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale(folder: str | Path) -> list[Path]:
    """Remove our temporary files in ``folder`` left by processes of this host that
    are gone (killed with ``kill -9``, a power cut); files of live processes and of
    other hosts are kept. Returns the paths removed; errors are ignored."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if not match or match.group(1) != _HOST or _alive(int(match.group(2))):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def resolve_target(path: str | Path) -> Path:
    """Where writing ``path`` puts the bytes: symbolic links followed (to a target
    that may not exist yet), else ``path`` itself."""
    p = Path(path)
    if p.is_symlink():
        return Path(os.path.realpath(p))
    return p


_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_STD_NAMES = {"/dev/stdout": 1, "/dev/stderr": 2}


def descriptor_of(path: str | Path) -> int | None:
    """The open file descriptor ``path`` names (``/dev/stdout``, ``/dev/fd/N``,
    ``/proc/self/fd/N``), else ``None``. Such a name is written through the
    descriptor itself, never reopened or replaced."""
    name = os.path.normpath(str(path))
    if name in _STD_NAMES:
        return _STD_NAMES[name]
    match = _FD_PATH.match(name)
    return int(match.group(1)) if match else None


def is_regular_target(path: str | Path) -> bool:
    """Whether ``path`` (links followed) is a regular file or does not exist yet."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return True
    except OSError:
        return True  # let the write report it
    return stat.S_ISREG(mode)


def _mode_for(target: Path) -> int:
    try:  # keep an existing file's permissions; a new file gets the usual ones
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def _error(path: str | Path, exc: OSError) -> WriteError:
    return WriteError(path, exc.strerror or str(exc))


class _Staged:
    """One output being written: a named temporary file beside a regular target,
    or an anonymous spool for a device, pipe or stdout."""

    def __init__(self, shown: str | Path, target: Path | None, fd: int | None = None) -> None:
        self.shown = shown
        self.target = target  # None: standard output, or the descriptor ``fd``
        self.fd = fd
        self.tmp: Path | None = None
        self.handle: IO[bytes]
        regular = target is not None and is_regular_target(target)
        try:
            if regular:
                assert target is not None
                folder = target.parent if str(target.parent) else Path(".")
                self.tmp = folder / temp_name(target.name)
                fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                self.handle = os.fdopen(fd, "wb")
            else:
                self.handle = tempfile.TemporaryFile()
        except OSError as exc:
            raise _error(shown, exc) from None

    def write(self, chunks: Iterable[str | bytes]) -> None:
        try:
            for chunk in chunks:
                data = chunk.encode("utf-8", "replace") if isinstance(chunk, str) else chunk
                self.handle.write(data)
            self.handle.flush()
            if self.tmp is not None:
                os.fsync(self.handle.fileno())
        except OSError as exc:
            raise _error(self.shown, exc) from None

    def commit(self) -> None:
        try:
            if self.tmp is not None:
                assert self.target is not None
                self.handle.close()
                os.chmod(self.tmp, _mode_for(self.target))
                os.replace(self.tmp, self.target)
                self.tmp = None
                return
            self.handle.seek(0)
            if self.fd is not None:
                with os.fdopen(os.dup(self.fd), "wb") as out:
                    shutil.copyfileobj(self.handle, out)
            elif self.target is None:
                import sys

                out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
                if out is None:  # a text-only stdout (tests capturing output)
                    sys.stdout.write(self.handle.read().decode("utf-8"))
                    sys.stdout.flush()
                else:
                    sys.stdout.flush()
                    shutil.copyfileobj(self.handle, out)
                    out.flush()
            else:
                with open(self.target, "wb") as device:
                    shutil.copyfileobj(self.handle, device)
            self.handle.close()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _error(self.shown, exc) from None

    def discard(self) -> None:
        try:
            self.handle.close()
        except OSError:
            pass
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


STDOUT = "-"
"""The target name that means standard output."""


def write_all(outputs: Sequence[tuple[str | Path, Iterable[str | bytes]]]) -> None:
    """Write several outputs all-or-nothing: ``(path, chunks)`` pairs, ``path`` ``"-"``
    for standard output. Every output is rendered (its chunks consumed) into a
    temporary file before any target changes.

    Raises:
        WriteError: an output could not be written; no target was changed.
        Whatever rendering raises (and KeyboardInterrupt): likewise nothing changed.
    """
    staged: list[_Staged] = []
    try:
        for path, chunks in outputs:
            fd = descriptor_of(path)
            target = None if str(path) == STDOUT or fd is not None else resolve_target(path)
            item = _Staged(path, target, fd)
            staged.append(item)
            item.write(chunks)
        # Regular files first (renames cannot fail half-way through a file), then devices.
        for item in sorted(staged, key=lambda s: s.tmp is None):
            item.commit()
    finally:
        for item in staged:
            item.discard()


def write_atomic(path: str | Path, data: str | bytes, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring).

    Raises:
        WriteError: the folder does not exist or is not writable.
    """
    payload = data.encode(encoding, "replace") if isinstance(data, str) else data
    write_all([(path, [payload])])


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which is not thread-safe.
_UMASK = _read_umask()

__all__ = [
    "STDOUT",
    "TEMP_MARK",
    "is_temp_name",
    "remove_stale",
    "resolve_target",
    "temp_name",
    "write_all",
    "write_atomic",
]
