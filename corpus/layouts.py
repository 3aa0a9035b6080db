"""Finding the items of a corpus in the layouts people have.

* **A folder** (Montreal Forced Aligner's layout): every audio file with a transcript
  of the same stem beside it, ``.lab`` or ``.txt``, in any subfolder (speaker folders:
  the folder name becomes the item's speaker); or, when there is none, a ``.TextGrid``
  of the same stem whose interval tiers (one per speaker) hold utterances. An audio
  file with neither, or a ``.lab`` without audio, is a failure at stage ``discover``.
  Item keys are the paths relative to the folder without the audio extension, so the
  output tree mirrors the input tree.
* **A manifest**: ``.jsonl`` (one JSON object per line) or ``.csv`` (a header row),
  with ``audio`` (or ``audio_filepath``, ``path``), ``text`` (or ``transcript``, or
  ``text_path``), and optionally ``language``, ``offset`` and ``duration`` (seconds),
  ``speaker`` and ``id``. Relative paths are relative to the manifest's folder. Keys:
  ``id`` when given, else the audio path relative to the manifest's folder without
  extension (with ``_OFFSETMS`` appended when one audio file has several rows).

:func:`discover` never raises for one bad entry: it returns it as a failure.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from qalign.corpus.items import CorpusItem, ItemResult
from qalign.errors import QalignError

AUDIO_EXTENSIONS = frozenset(
    {
        ".wav",
        ".flac",
        ".mp3",
        ".m4a",
        ".ogg",
        ".opus",
        ".aac",
        ".aif",
        ".aiff",
        ".wma",
        ".webm",
        ".mp4",
    }
)
TEXT_EXTENSIONS = (".lab", ".txt")
MANIFEST_EXTENSIONS = (".jsonl", ".csv")


def audio_seconds(path: str | Path) -> float:
    """The audio's duration from its header (seconds), 0.0 when it cannot be read cheaply."""
    try:
        import av

        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                return 0.0
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
    except Exception:  # noqa: BLE001 - a broken file fails later, at decode-audio, with a message
        return 0.0
    return 0.0


def _fail(key: str, error: str) -> ItemResult:
    return ItemResult(key, "failed", "discover", error)


def discover(
    corpus: str | Path, exclude: str | Path | None = None
) -> tuple[list[CorpusItem], list[ItemResult]]:
    """Items of ``corpus`` (a folder or a manifest) and entries that cannot become items.

    ``exclude`` is a folder not to look into (the run's output folder).

    Raises:
        QalignError: ``corpus`` does not exist or is neither a folder nor a manifest.
    """
    path = Path(corpus)
    if path.is_dir():
        return _folder(path.resolve(), Path(exclude).resolve() if exclude else None)
    if path.is_file() and path.suffix.lower() in MANIFEST_EXTENSIONS:
        return _manifest(path.resolve())
    if not path.exists():
        raise QalignError(f"{corpus}: no such file or folder")
    raise QalignError(f"{corpus}: not a corpus folder or a manifest (.jsonl, .csv)")


def _folder(root: Path, exclude: Path | None) -> tuple[list[CorpusItem], list[ItemResult]]:
    items: list[CorpusItem] = []
    failures: list[ItemResult] = []
    keys: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (exclude is None or here / d != exclude)
        )
        by_stem: dict[str, list[str]] = {}
        for name in sorted(files):
            if name.startswith("."):
                continue
            by_stem.setdefault(Path(name).stem, []).append(name)
        for stem, names in sorted(by_stem.items()):
            audio = [n for n in names if Path(n).suffix.lower() in AUDIO_EXTENSIONS]
            rel = (here / stem).relative_to(root).as_posix()
            lab = next(
                (n for ext in TEXT_EXTENSIONS for n in names if Path(n).suffix.lower() == ext), None
            )
            grid = next((n for n in names if Path(n).suffix.lower() == ".textgrid"), None)
            if not audio:
                if lab and lab.lower().endswith(".lab"):
                    failures.append(
                        _fail(rel, f"{here / lab}: no audio file with this name beside it")
                    )
                continue
            for extra in audio[1:]:
                failures.append(
                    _fail(
                        f"{rel}{Path(extra).suffix}",
                        f"{here / extra}: another audio file "
                        f"({audio[0]}) has the same name; rename one",
                    )
                )
            audio_path = here / audio[0]
            if rel in keys:
                failures.append(_fail(rel, f"{audio_path}: same output name as {keys[rel]}"))
                continue
            keys[rel] = str(audio_path)
            speaker = here.name if here != root else None
            if lab or grid:
                items.append(
                    CorpusItem(
                        key=rel,
                        audio=str(audio_path),
                        text_path=str(here / lab) if lab else None,
                        utterances_path=None if lab else str(here / str(grid)),
                        speaker=speaker,
                        size_hint=audio_seconds(audio_path),
                    )
                )
            else:
                failures.append(
                    _fail(rel, f"{audio_path}: no transcript (.lab, .txt or .TextGrid) beside it")
                )
    return items, failures


_AUDIO_FIELDS = ("audio", "audio_filepath", "audio_path", "path")
_TEXT_FIELDS = ("text", "transcript")


def _rows(path: Path) -> list[tuple[int, dict | None, str | None]]:
    """(line number, row, error) for every row of the manifest."""
    from qalign.formats.base import decode_text

    try:
        text = decode_text(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise QalignError(f"{path}: cannot read the manifest ({exc})") from None
    rows: list[tuple[int, dict | None, str | None]] = []
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                rows.append((number, None, f"line {number}: not JSON ({exc.msg})"))
                continue
            if not isinstance(row, dict):
                rows.append((number, None, f"line {number}: not a JSON object"))
            else:
                rows.append((number, row, None))
        return rows
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        rows.append((reader.line_num, {k.strip(): v for k, v in row.items() if k}, None))
    return rows


def _number(row: dict, name: str, number: int) -> float | None:
    value = row.get(name)
    if value in (None, ""):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"line {number}: {name} {value!r} is not a number") from None
    if not (out >= 0 and out != float("inf")):
        raise ValueError(f"line {number}: {name} {value!r} must be a finite number >= 0")
    return out


def _manifest(path: Path) -> tuple[list[CorpusItem], list[ItemResult]]:
    base = path.parent
    parsed: list[tuple[int, dict]] = []
    failures: list[ItemResult] = []
    for number, row, error in _rows(path):
        if row is None:
            failures.append(_fail(f"{path.name}:{number}", f"{path}: {error}"))
        else:
            parsed.append((number, row))
    uses: dict[str, int] = {}
    for _, row in parsed:
        audio = next((str(row[f]) for f in _AUDIO_FIELDS if row.get(f)), "")
        uses[audio] = uses.get(audio, 0) + 1
    items: list[CorpusItem] = []
    seen: set[str] = set()
    for number, row in parsed:
        where = f"{path.name}:{number}"
        try:
            audio = next((str(row[f]) for f in _AUDIO_FIELDS if row.get(f)), "")
            if not audio:
                raise ValueError(f"line {number}: no audio ({' or '.join(_AUDIO_FIELDS)})")
            text = next((str(row[f]) for f in _TEXT_FIELDS if row.get(f) is not None), None)
            text_path = row.get("text_path")
            if text is None and not text_path:
                raise ValueError(f"line {number}: no text (text, transcript or text_path)")
            offset = _number(row, "offset", number) or 0.0
            duration = _number(row, "duration", number)
            audio_path = (base / audio).resolve()
            if row.get("id"):
                key = str(row["id"]).strip("/")
            else:
                try:
                    key = audio_path.relative_to(base).with_suffix("").as_posix()
                except ValueError:
                    key = audio_path.stem
                if uses[audio] > 1:
                    key = f"{key}_{round(offset * 1000):08d}"
            if key in seen or ".." in key.split("/"):
                raise ValueError(
                    f"line {number}: output name {key!r} is used twice or leaves OUTDIR"
                )
            seen.add(key)
        except ValueError as exc:
            failures.append(_fail(where, f"{path}: {exc}"))
            continue
        size = duration if duration is not None else max(audio_seconds(audio_path) - offset, 0.0)
        items.append(
            CorpusItem(
                key=key,
                audio=str(audio_path),
                text=text,
                text_path=str((base / str(text_path)).resolve())
                if text is None and text_path
                else None,
                language=str(row["language"]) if row.get("language") else None,
                offset=offset,
                duration=duration,
                speaker=str(row["speaker"]) if row.get("speaker") else None,
                size_hint=size,
            )
        )
    return items, failures
