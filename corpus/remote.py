"""A corpus run's output folder given as an fsspec URL (``s3://``, ``gs://``, ``file://``,
``memory://``, ...): the file operations :mod:`qalign.corpus.outputs` needs there.

Only :mod:`qalign.corpus.outputs` calls this module, and only for an output folder
given as a URL; a plain path never imports fsspec.

How a file is written atomically depends on the store:

* **Object stores** (``s3``, ``gs``/``gcs``, ``az``/``abfs``/``abfss``/``adl``, ``oss``):
  every file is one whole object sent with one upload (``pipe_file``). An object PUT
  (or a multipart upload, which becomes visible only when completed) either creates
  the complete object or nothing, so a reader never sees part of a file, and no
  temporary key is made (nothing to clean; a rename would be a copy and a delete).
* **Every other file system** (``file://``, ``memory://``, ``sftp://``, ...): a
  temporary file beside the target, named like the local ones
  (``.NAME.qalign-HOST-PID.XXXXXXXX.part``, :func:`qalign.atomic.temp_name`), then a
  move onto the target (a rename for ``file://``). A run killed in between leaves the
  temporary file, which :meth:`RemoteDir.clean_temps` removes on the next run.

An item's files are all uploaded before its done-marker, which comes last (see
:mod:`qalign.corpus.outputs`), so a run killed between two files leaves no marker and
the item is redone whole.

Credentials are fsspec's (environment variables, config files); with the Ray executor
every worker node needs them and the backend package too.
"""

from __future__ import annotations

import functools
import logging
import posixpath
from collections.abc import Sequence
from typing import Any

from qalign.atomic import is_temp_name, temp_name
from qalign.errors import MissingDependencyError, QalignError, WriteError

logger = logging.getLogger("qalign")

OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"})
"""URL schemes written one whole object per upload (no temporary key, no rename)."""

# Our extras that install an object store's backend (others: the backend is named).
_BACKEND_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}


def scheme_of(url: str) -> str:
    """``"s3"`` for ``"s3://bucket/out"`` (lower case)."""
    return url.split("://", 1)[0].lower()


def _backend_package(scheme: str) -> str:
    """The package fsspec needs for ``scheme`` (``s3fs`` for ``s3``), from its registry."""
    try:
        from fsspec.registry import known_implementations

        return known_implementations[scheme]["class"].split(".", 1)[0]
    except Exception:  # noqa: BLE001 - an unknown scheme or registry layout
        return scheme + "fs"


class RemoteDir:
    """An output folder under an fsspec URL; paths given to methods are relative to it
    (``spk1/u01.json``, POSIX separators).

    Raises (every method that writes):
        WriteError: the store refused the operation (permissions, credentials, network).
    """

    def __init__(self, url: str) -> None:
        scheme = scheme_of(url)
        try:
            import fsspec
        except ImportError:
            raise MissingDependencyError(
                "fsspec", "fsspec", f"-o {scheme}://... (an fsspec URL)"
            ) from None
        try:
            fs, root = fsspec.core.url_to_fs(url)
        except ImportError:  # fsspec knows the scheme, its backend is missing
            package = _backend_package(scheme)
            extra = _BACKEND_EXTRAS.get(scheme, "fsspec")
            purpose = f"-o {scheme}://..."
            if extra == "fsspec":
                purpose += f" (pip install {package})"
            raise MissingDependencyError(package, extra, purpose) from None
        except ValueError as exc:  # "Protocol not known"
            raise QalignError(f"{url}: not a URL fsspec can write ({exc})") from None
        self.url = url
        self.fs: Any = fs
        self.root = root.rstrip("/")
        self.one_put = scheme in OBJECT_STORES

    def path(self, rel: str) -> str:
        """The store's path of ``rel`` (no scheme)."""
        return f"{self.root}/{rel}" if rel else self.root

    def url_of(self, rel: str) -> str:
        """The URL of ``rel`` under the folder (what messages show)."""
        return f"{self.url.rstrip('/')}/{rel}"

    def makedirs(self) -> None:
        """Create the folder. Object stores have no folders: nothing is made there (some
        backends would create a missing bucket)."""
        if self.one_put:
            return
        try:
            self.fs.makedirs(self.root, exist_ok=True)
        except Exception as exc:  # noqa: BLE001 - each backend raises its own errors
            raise WriteError(self.url, _reason(exc)) from None

    def write(self, files: Sequence[tuple[str, bytes]]) -> None:
        """Write ``(rel, data)`` files, each one atomically (see the module docstring).

        On a file system with renames every temporary file is complete before the
        first rename, and temporary files are removed on failure.
        """
        if self.one_put:
            for rel, data in files:
                self._parents(rel)
                try:
                    self.fs.pipe_file(self.path(rel), data)
                except Exception as exc:  # noqa: BLE001
                    raise WriteError(self.url_of(rel), _reason(exc)) from None
            return
        staged: list[tuple[str, str]] = []
        try:
            for rel, data in files:
                self._parents(rel)
                folder, name = posixpath.split(self.path(rel))
                tmp = posixpath.join(folder, temp_name(name))
                staged.append((tmp, rel))
                try:
                    self.fs.pipe_file(tmp, data)
                except Exception as exc:  # noqa: BLE001
                    raise WriteError(self.url_of(rel), _reason(exc)) from None
            while staged:
                tmp, rel = staged[0]
                try:
                    self.fs.mv(tmp, self.path(rel))
                except Exception as exc:  # noqa: BLE001
                    raise WriteError(self.url_of(rel), _reason(exc)) from None
                staged.pop(0)
        finally:
            for tmp, _ in staged:
                self._remove_quietly(tmp)

    def _parents(self, rel: str) -> None:
        folder = posixpath.dirname(self.path(rel))
        if self.one_put or not folder:
            return
        try:
            self.fs.makedirs(folder, exist_ok=True)
        except Exception as exc:  # noqa: BLE001
            raise WriteError(self.url_of(rel), _reason(exc)) from None

    def read_text(self, rel: str) -> str | None:
        """The file's text, or ``None`` when it is absent or unreadable."""
        try:
            return self.fs.cat_file(self.path(rel)).decode("utf-8")
        except Exception:  # noqa: BLE001 - absent, or not readable: treated alike
            return None

    def is_file(self, rel: str) -> bool:
        try:
            return bool(self.fs.isfile(self.path(rel)))
        except Exception:  # noqa: BLE001
            return False

    def remove(self, rel: str) -> None:
        """Remove a file; an absent one is not an error."""
        self._remove_quietly(self.path(rel))

    def _remove_quietly(self, path: str) -> None:
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001
            logger.debug("cannot remove %s: %r", path, exc)

    def clean_temps(self) -> int:
        """Remove our temporary files under the folder; returns how many. Object stores
        have none (one upload per file), so they are not listed."""
        if self.one_put:
            return 0
        try:
            found = self.fs.find(self.root)
        except Exception:  # noqa: BLE001 - no folder yet
            return 0
        removed = 0
        for path in found:
            if is_temp_name(posixpath.basename(path)):
                try:
                    self.fs.rm_file(path)
                    removed += 1
                except Exception as exc:  # noqa: BLE001
                    logger.warning("cannot remove stale temporary file %s: %s", path, exc)
        return removed


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


@functools.lru_cache(maxsize=8)
def remote_dir(url: str) -> RemoteDir:
    """The :class:`RemoteDir` of ``url`` (one per process and URL).

    Raises:
        MissingDependencyError: fsspec, or the backend of the URL's scheme, is missing.
        QalignError: fsspec does not know the scheme.
    """
    return RemoteDir(url)
