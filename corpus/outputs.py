"""Where a corpus run writes, and the one place that decides whether an item is finished.

* Outputs of item ``key`` are ``OUTDIR/key.EXT``, one per format (the extension comes
  from :func:`suffix_of`). An item with utterances of several speakers writes one
  TextGrid holding every speaker's tiers, and for the other formats one file per
  speaker: ``OUTDIR/key.SPEAKER.EXT``.
* Every file is written atomically (a temporary ``.NAME.qalign-HOST-PID.XXXXXXXX.part``
  beside it, then a rename; :func:`qalign.atomic.write_atomic`).
* After all outputs of an item are in place, a marker ``OUTDIR/.qalign/done/key.json``
  records them, the formats asked for and the item's report row. An item is finished
  when its marker exists, names the same formats and every output it lists exists.
  Killed between two outputs, the item has no marker and is redone: each output is
  replaced whole, so every file exists once and complete.
* :func:`clean_stale_temps` removes the temporary files a killed run left behind
  (only names :func:`qalign.atomic.is_temp_name` recognises as ours).
* OUTDIR may be an fsspec URL (``s3://bucket/out``, ``file:///data/out``,
  ``memory://out``): the same layout and rules, through :mod:`qalign.corpus.remote`
  (which says how each store gets atomic writes). A plain path never imports fsspec.

Both executors use these functions; nothing else decides what "finished" means.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from qalign.atomic import is_temp_name, write_all, write_atomic

logger = logging.getLogger("qalign")

STATE_DIR = ".qalign"
"""Folder under OUTDIR with the per-item markers (``done/KEY.json``)."""

# Format ids without their own extension write the extension of their family.
_SUFFIX_OVERRIDES = {"textgrid": ".TextGrid", "textgrid-short": ".TextGrid"}


def is_url(outdir: str | Path) -> bool:
    """Whether ``outdir`` is a URL (``SCHEME://...``) rather than a local path."""
    return isinstance(outdir, str) and "://" in outdir


def local_folder(outdir: str | Path) -> Path | None:
    """The local folder OUTDIR is (a path, or a ``file://`` URL), else ``None``."""
    if not is_url(outdir):
        return Path(outdir)
    if str(outdir).lower().startswith("file://"):
        from qalign.corpus.remote import remote_dir

        return Path(remote_dir(str(outdir)).root)
    return None


def _remote(outdir: str | Path):  # -> RemoteDir; fsspec is imported only here
    from qalign.corpus.remote import remote_dir

    return remote_dir(str(outdir))


def suffix_of(format_name: str) -> str:
    """The file extension a corpus run gives ``format_name``'s outputs (``.TextGrid``, ``.srt``)."""
    from qalign import formats

    fmt = formats.get(format_name)
    if fmt.name in _SUFFIX_OVERRIDES:
        return _SUFFIX_OVERRIDES[fmt.name]
    if fmt.extensions:
        return fmt.extensions[0]
    family = fmt.name.split("-")[0]
    try:
        return formats.get(family).extensions[0]
    except Exception:  # noqa: BLE001 - any failure: fall back to the id itself
        return "." + fmt.name


def check_formats(format_names: Sequence[str]) -> tuple[str, ...]:
    """Canonical writable format ids, each with its own extension.

    Raises:
        UnknownFormatError: an id names no format.
        QalignError: a format cannot be written, or two share an extension.
    """
    from qalign import formats
    from qalign.errors import QalignError

    seen: dict[str, str] = {}
    out = []
    for name in format_names:
        fmt = formats.get(name)
        if not fmt.can_write():
            raise QalignError(f"format {fmt.name!r} can be read but not written")
        suffix = suffix_of(fmt.name).lower()
        if suffix in seen and seen[suffix] != fmt.name:
            raise QalignError(
                f"formats {seen[suffix]!r} and {fmt.name!r} would both write *{suffix}; choose one"
            )
        if fmt.name not in out:
            out.append(fmt.name)
        seen[suffix] = fmt.name
    return tuple(out)


def safe_part(text: str) -> str:
    """``text`` usable inside a file name (speaker labels): no separators or odd characters."""
    cleaned = re.sub(r"[^\w.-]+", "_", text.strip(), flags=re.UNICODE).strip("._")
    return cleaned or "speaker"


def output_path(
    outdir: str | Path, key: str, format_name: str, speaker: str | None = None
) -> Path | str:
    """``OUTDIR/key[.SPEAKER].EXT`` (a string URL when OUTDIR is a URL)."""
    middle = f".{safe_part(speaker)}" if speaker else ""
    if is_url(outdir):
        return f"{str(outdir).rstrip('/')}/{key}{middle}{suffix_of(format_name)}"
    return Path(outdir) / f"{key}{middle}{suffix_of(format_name)}"


def _marker_rel(key: str) -> str:
    return f"{STATE_DIR}/done/{key}.json"


def marker_path(outdir: str | Path, key: str) -> Path:
    return Path(outdir) / STATE_DIR / "done" / f"{key}.json"


def finished_report(outdir: str | Path, key: str, format_names: Sequence[str]) -> dict | None:
    """The stored report row when item ``key`` is finished for these formats, else ``None``."""
    remote = _remote(outdir) if is_url(outdir) else None
    try:
        if remote is not None:
            data = json.loads(remote.read_text(_marker_rel(key)) or "null")
        else:
            data = json.loads(marker_path(outdir, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or sorted(data.get("formats") or []) != sorted(format_names):
        return None
    outputs = data.get("outputs") or []
    if remote is not None:
        present = all(remote.is_file(rel) for rel in outputs)
    else:
        present = all((Path(outdir) / rel).is_file() for rel in outputs)
    if not outputs or not present:
        return None
    report = data.get("report")
    return report if isinstance(report, dict) else {}


def write_item(
    outdir: str | Path,
    key: str,
    format_names: Sequence[str],
    rendered: Sequence[tuple[Path | str, str]],
    report: dict,
) -> None:
    """Write an item's rendered outputs all-or-nothing, then its marker (last).

    ``rendered`` holds ``(output_path(...), text)`` pairs.

    Raises:
        WriteError: a file or folder cannot be written.
    """
    if is_url(outdir):
        _write_item_remote(str(outdir), key, format_names, rendered, report)
        return
    root = Path(outdir)
    for path, _ in rendered:
        path.parent.mkdir(parents=True, exist_ok=True)
    write_all([(path, [text]) for path, text in rendered])  # all of the item's files, or none
    marker = marker_path(root, key)
    marker.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "formats": list(format_names),
        "outputs": [path.relative_to(root).as_posix() for path, _ in rendered],
        "report": report,
    }
    write_atomic(marker, json.dumps(data, ensure_ascii=False, indent=1))


def _write_item_remote(
    outdir: str, key: str, format_names: Sequence[str], rendered: Sequence, report: dict
) -> None:
    remote = _remote(outdir)
    prefix = outdir.rstrip("/") + "/"
    rels = [str(path)[len(prefix) :] for path, _ in rendered]
    remote.write([(rel, text.encode("utf-8", "replace")) for rel, (_, text) in zip(rels, rendered)])
    data = {"formats": list(format_names), "outputs": rels, "report": report}
    marker = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8", "replace")
    remote.write([(_marker_rel(key), marker)])


def write_file(outdir: str | Path, name: str, text: str) -> Path | str:
    """Write ``OUTDIR/name`` atomically (the run's reports); returns its path or URL."""
    if is_url(outdir):
        remote = _remote(outdir)
        remote.write([(name, text.encode("utf-8", "replace"))])
        return remote.url_of(name)
    path = Path(outdir) / name
    write_atomic(path, text)
    return path


def make_outdir(outdir: str | Path) -> None:
    """Create OUTDIR (and its parents).

    Raises:
        WriteError: it cannot be created.
    """
    if is_url(outdir):
        _remote(outdir).makedirs()
        return
    from qalign.errors import WriteError

    try:
        Path(outdir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(outdir, exc.strerror or str(exc)) from None


def forget(outdir: str | Path, key: str) -> None:
    """Drop item ``key``'s marker (``--overwrite`` redoes it)."""
    if is_url(outdir):
        _remote(outdir).remove(_marker_rel(key))
        return
    try:
        marker_path(outdir, key).unlink()
    except OSError:
        pass


def clean_stale_temps(outdir: str | Path) -> int:
    """Remove temporary files an interrupted run left under ``outdir``; returns how many.

    Only call this before any writer of the run has started.
    """
    if is_url(outdir):
        removed = _remote(outdir).clean_temps()
        if removed:
            logger.info("removed %d temporary file(s) left by an interrupted run", removed)
        return removed
    removed = 0
    root = Path(outdir)
    if not root.is_dir():
        return 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if is_temp_name(name):
                try:
                    os.unlink(os.path.join(folder, name))
                    removed += 1
                except OSError as exc:
                    logger.warning("cannot remove stale temporary file %s: %s", name, exc)
    if removed:
        logger.info("removed %d temporary file(s) left by an interrupted run", removed)
    return removed
