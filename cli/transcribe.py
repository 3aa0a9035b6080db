"""``qalign transcribe AUDIO...``: speech to text with Qwen3-ASR, then word timings.

Outputs are written like ``qalign align`` writes them: one file per ``-o``,
the format taken from the extension (or ``--format``). On top of the alignment
formats, ``.txt`` writes the plain transcript. With ``--no-align`` only text is
produced: ``.txt`` (the transcript) and ``.json`` (the transcript with its
language, duration and chunks).

Naming the outputs of several recordings (decided here, documented in ``--help``):

* ``-o`` may hold ``{stem}``, replaced by each audio file's name without its
  extension: ``-o out/{stem}.srt -o out/{stem}.json``;
* ``-o`` may name a folder (an existing one, or a path ending in ``/``): each
  recording is written there as ``<stem>.<ext>``, the extension given by
  ``--format`` (default ``json``, or ``txt`` with ``--no-align``);
* missing output folders are created;
* a plain file name is refused for several recordings (they would overwrite
  each other), and so are two recordings that would write the same file.

With no ``-o``, one recording's result goes to stdout (the JSON alignment, or
the plain text with ``--no-align``); several recordings need ``-o``.

A recording that fails is reported on one line naming it, the others go on,
and the exit code is 1. A recording without speech gives an empty result and
exit code 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from qalign.cli.common import (
    FiniteRange,
    check_output_path,
    configure_logging,
    model_options,
    subtitle_options,
    writer_options,
)
from qalign.errors import QalignError

logger = logging.getLogger("qalign")


@dataclass(frozen=True)
class Target:
    """One file to write: ``kind`` is a format id, ``"text"`` or ``"transcript-json"``."""

    path: str
    kind: str
    audio: str | None = None


def _kind_for(path: str, out_format: str | None, no_align: bool) -> str:
    from qalign import formats
    from qalign.errors import UnknownFormatError

    fmt = (out_format or "").lower()
    suffix = Path(path).suffix.lower()
    if no_align:
        if fmt in ("txt", "text") or (not fmt and suffix == ".txt"):
            return "text"
        if fmt == "json" or (not fmt and suffix == ".json"):
            return "transcript-json"
        raise QalignError(
            f"{path}: --no-align writes text (.txt) or JSON (.json) only, not "
            f"{fmt or suffix or 'a file without extension'}"
        )
    if fmt in ("txt", "text"):
        return "text"
    try:
        writer = formats.format_of(path, out_format)
    except UnknownFormatError:
        if not fmt and suffix == ".txt":
            return "text"
        raise
    if not writer.can_write():
        raise QalignError(f"{path}: format {writer.name!r} can be read but not written")
    return writer.name


def _folder_extension(out_format: str | None, no_align: bool) -> str:
    from qalign import formats

    name = (out_format or ("txt" if no_align else "json")).lower()
    if name in ("txt", "text"):
        return ".txt"
    exts = formats.get(name).extensions
    if not exts:
        raise QalignError(f"format {name!r} has no file extension; use -o with {{stem}} instead")
    return exts[0]


def _is_folder(target: str) -> bool:
    return target.endswith(("/", os.sep)) or Path(target).is_dir()


def plan_outputs(
    audio: tuple[str, ...], outputs: tuple[str, ...], out_format: str | None, no_align: bool
) -> list[list[Target]]:
    """The files to write for each recording, checked before any work.

    Raises:
        QalignError: an unknown format, a name several recordings would share, or
            several recordings without ``-o``.
    """
    if not outputs:
        if len(audio) > 1:
            raise QalignError(
                "several audio files need -o: a folder, or a name with {stem} "
                "(e.g. -o out/{stem}.srt)"
            )
        if out_format:  # what goes to stdout must be a format we can write
            _kind_for(f"stdout.{out_format}", out_format, no_align)
        return [[]]
    plans: list[list[Target]] = []
    for item in audio:
        stem = Path(item).stem
        targets = []
        for out in outputs:
            if _is_folder(out):
                path = str(Path(out) / (stem + _folder_extension(out_format, no_align)))
            elif "{stem}" in out:
                path = out.replace("{stem}", stem)
            elif len(audio) > 1:
                raise QalignError(
                    f"-o {out}: several audio files would overwrite it; use a folder or {{stem}}"
                )
            else:
                path = out
            targets.append(Target(path, _kind_for(path, out_format, no_align), item))
        plans.append(targets)
    seen: dict[str, str] = {}
    for item, targets in zip(audio, plans):
        for t in targets:
            check_output_path(t.path, creates_folder=True)
            key = os.path.normcase(os.path.abspath(t.path))
            if key in seen and seen[key] != item:
                raise QalignError(f"{seen[key]} and {item} would both be written to {t.path}")
            seen[key] = item
    return plans


def _alignment_text(alignment: Any) -> str:
    from qalign.asr.chunk_merge import join_texts

    pieces = [s.text for s in alignment.segments] or [u.text for u in alignment.units]
    return join_texts(pieces)[0]


def _write(
    result: Any, targets: list[Target], out_format: str | None, cues: dict[str, Any]
) -> None:
    import json

    from qalign import formats
    from qalign.alignment import Alignment
    from qalign.atomic import write_all
    from qalign.errors import WriteError

    if not targets:  # stdout
        if isinstance(result, Alignment):
            name = (out_format or "json").lower()
            if name in ("txt", "text"):
                click.echo(_alignment_text(result))
            else:
                options = writer_options(name, cues)
                click.echo(formats.dumps(result, name, **options), nl=False)
        elif (out_format or "").lower() == "json":
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            click.echo(result.text)
        return
    rendered = []
    for t in targets:
        parent = Path(t.path).parent
        if not parent.is_dir():
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WriteError(
                    t.path, f"cannot create its folder: {exc.strerror or exc}"
                ) from None
        if t.kind == "text":
            text = result.text if not isinstance(result, Alignment) else _alignment_text(result)
            rendered.append((t.path, [text + "\n"]))
        elif t.kind == "transcript-json":
            data = json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"
            rendered.append((t.path, [data]))
        else:
            options = writer_options(t.kind, cues, t.audio, t.path)
            rendered.append((t.path, formats.render(result, t.kind, **options)))
    write_all(rendered)  # all of this recording's outputs, or none
    for t in targets:
        logger.info("wrote %s", t.path)


@click.command()
@click.argument("audio", nargs=-1, required=True, type=str)
@model_options
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    help="Output file (format from its extension; .txt is the plain transcript); repeat for "
    "several formats. Several AUDIO files: a folder, or a name with {stem}.",
)
@click.option(
    "--format", "-f", "out_format", help="Output format id (default: from each -o extension)."
)
@click.option(
    "--language", "-l", help="Force this language (name or code); default: identified by the model."
)
@click.option(
    "--context", default="", help="Text that helps recognition: hot words, names, background."
)
@click.option("--no-align", is_flag=True, help="Text only, no timings: write .txt or .json.")
@click.option(
    "--asr-model",
    envvar="QALIGN_ASR_MODEL",
    help="Qwen3-ASR hub id or folder (default Qwen/Qwen3-ASR-0.6B).",
)
@click.option(
    "--aligner-model",
    envvar="QALIGN_ALIGNER_MODEL",
    help="Forced-aligner hub id or folder (default Qwen/Qwen3-ForcedAligner-0.6B).",
)
@click.option(
    "--chunk-seconds",
    type=FiniteRange(1.0, 300.0),
    default=180.0,
    show_default=True,
    help="Longer audio is cut at quiet points into chunks of at most this length.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Recognition requests decoded together.",
)
@click.option(
    "--max-new-tokens",
    type=click.IntRange(1),
    help="Token budget per chunk (default: scaled to its length).",
)
@subtitle_options
@click.option("-q", "--quiet", is_flag=True, help="Only print errors.")
def transcribe(
    audio: tuple[str, ...],
    outputs: tuple[str, ...],
    out_format: str | None,
    language: str | None,
    context: str,
    no_align: bool,
    asr_model: str | None,
    aligner_model: str | None,
    device: str,
    dtype: str,
    decoder: str,
    chunk_seconds: float,
    batch_size: int,
    max_new_tokens: int | None,
    cues: dict[str, Any],
    quiet: bool,
) -> None:
    """Transcribe AUDIO file(s) with Qwen3-ASR and time every word.

    Several files are processed in one batch. The language the model heard is
    written into the outputs. With one file and no -o, the JSON (or, with
    --no-align, the text) goes to stdout.

    \b
    Several files need -o naming either
      a folder: out/ -> out/<stem>.json (extension from --format), or
      a pattern: -o out/{stem}.srt -o out/{stem}.TextGrid.
    A file that fails is reported and the others go on (exit code 1).
    """
    configure_logging(quiet)
    from qalign.asr.pipeline import transcribe_batch
    from qalign.pipes import seekable_audio

    plans = plan_outputs(audio, outputs, out_format, no_align)  # fail before any work
    with contextlib.ExitStack() as stack:
        # Pipes and devices (/dev/stdin, process substitution) are read through a copy.
        sources = [stack.enter_context(seekable_audio(item)) for item in audio]
        _transcribe_and_write(
            audio,
            sources,
            plans,
            out_format,
            cues,
            transcribe_batch,
            dict(
                language=language,
                context=context,
                align=not no_align,
                asr_model=asr_model,
                aligner_model=aligner_model,
                device=device,
                dtype=dtype,
                chunk_seconds=chunk_seconds,
                batch_size=batch_size,
                max_new_tokens=max_new_tokens,
                decoder=decoder,
            ),
        )


def _transcribe_and_write(
    audio: tuple[str, ...],
    sources: list[str],
    plans: list[list[Target]],
    out_format: str | None,
    cues: dict[str, Any],
    transcribe_batch: Any,
    options: dict[str, Any],
) -> None:
    results = transcribe_batch(sources, **options)
    renames = [(src, item) for src, item in zip(sources, audio) if src != item]

    def _named(exc: QalignError, item: str) -> QalignError:
        message = str(exc)
        for src, original in renames:
            message = message.replace(src, original)
        if message != str(exc):
            renamed = QalignError(message)
            renamed.exit_code = exc.exit_code
            exc = renamed
        return _naming(exc, item)

    failed: list[QalignError] = []
    for item, result, targets in zip(audio, results, plans):
        if isinstance(result, QalignError):
            failed.append(_named(result, item))
            continue
        if _is_empty(result):
            logger.info("%s: no speech heard", item)
        try:
            _write(result, targets, out_format, cues)
        except QalignError as exc:
            failed.append(_named(exc, item))
    if not failed:
        return
    if len(audio) == 1:
        raise failed[0]
    for error in failed:
        click.echo(f"qalign: error: {error}", err=True)
    click.echo(f"qalign: {len(failed)} of {len(audio)} files failed", err=True)
    raise click.exceptions.Exit(1)


def _is_empty(result: Any) -> bool:
    from qalign.alignment import Alignment

    return not result.units if isinstance(result, Alignment) else not result.text.strip()


def _naming(exc: QalignError, item: str) -> QalignError:
    """The error, with the file's name in front unless the message already has it."""
    if item in str(exc):
        return exc
    named = QalignError(f"{item}: {exc}")
    named.exit_code = exc.exit_code
    return named
