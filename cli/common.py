"""Options and output handling shared by the ``align`` and ``transcribe`` commands."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from qalign.alignment import Alignment


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return "qalign: " + record.getMessage().splitlines()[0] if record.getMessage() else "qalign:"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each message."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # the base class assigns it once; ignore
        pass


def configure_logging(quiet: bool = False) -> None:
    """Send the library logger's messages to stderr, one line each."""
    logger = logging.getLogger("qalign")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_OneLine())
        logger.addHandler(handler)
    logger.setLevel(logging.ERROR if quiet else logging.INFO)


def cue_options(
    max_chars: int | None, max_lines: int | None, max_duration: float | None
) -> dict[str, Any]:
    """The subtitle cue options the user set, as writer keyword arguments."""
    given = {"max_chars": max_chars, "max_lines": max_lines, "max_duration": max_duration}
    return {k: v for k, v in given.items() if v is not None}


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``-o/--output`` (repeatable), ``--format`` and the subtitle cue options."""
    decorators = [
        click.option(
            "--output",
            "-o",
            "outputs",
            multiple=True,
            type=click.Path(dir_okay=False),
            help="Output file; repeat for several formats from one pass.",
        ),
        click.option(
            "--format", "-f", "out_format", help="Output format id (default: from each -o extension)."
        ),
        click.option("--max-chars", type=int, help="Subtitles: characters per line (default 42)."),
        click.option("--max-lines", type=int, help="Subtitles: lines per cue (default 2)."),
        click.option("--max-duration", type=float, help="Subtitles: longest cue in seconds (default 7)."),
    ]
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


def write_outputs(
    alignment: Alignment,
    outputs: Sequence[str],
    writers: Sequence[Any],
    out_format: str | None,
    subtitle_options: dict[str, Any],
) -> None:
    """Write every requested output atomically, or the JSON to stdout when none was asked for."""
    from qalign import formats

    if not outputs:
        name = out_format or "json"
        click.echo(formats.dumps(alignment, name, **options_for(name, subtitle_options)), nl=False)
        return
    for path, writer in zip(outputs, writers):
        formats.save(alignment, path, writer.name, **options_for(writer.name, subtitle_options))


def options_for(format_name: str, subtitle_options: dict[str, Any]) -> dict[str, Any]:
    if format_name in {"srt", "vtt", "ass", "ass-karaoke", "lrc", "lrc-enhanced"}:
        return dict(subtitle_options)
    return {}
