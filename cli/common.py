"""Options and output handling shared by the ``align`` and ``transcribe`` commands."""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from qalign.alignment import Alignment


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return (
            "qalign: " + record.getMessage().splitlines()[0] if record.getMessage() else "qalign:"
        )


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


#: Formats whose writers build subtitle cues and take the cue options.
SUBTITLE_FORMATS = frozenset({"srt", "vtt", "ass", "ass-karaoke", "lrc", "lrc-enhanced"})


def cue_options(**given: Any) -> dict[str, Any]:
    """The subtitle options the user set, as writer keyword arguments (``None`` left out)."""
    return {k: v for k, v in given.items() if v is not None and v is not False}


class FiniteRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and ``inf``.

    Python's ``float()`` reads both, and ``nan`` passes every range check; every
    number option of the command line goes through this type instead.
    """

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


_POSITIVE = FiniteRange(min=0, min_open=True)
#: (option, click type, help) for every subtitle option; :func:`subtitle_options` adds them
#: all and hands the command one ``cues`` dict instead. A type ``None`` is a flag.
_SUBTITLE_OPTIONS: tuple[tuple[str, Any, str], ...] = (
    ("--preset", click.Choice(["netflix", "bbc", "cjk", "karaoke"]),
     "Subtitles: a set of cue rules (default netflix); the options below override it."),
    ("--cues", click.Choice(["auto", "lines"]),
     "Subtitles: auto builds cues from words; lines makes one cue per transcript line."),
    ("--max-chars", click.IntRange(min=1), "Subtitles: columns per line (default 42)."),
    ("--max-lines", click.IntRange(min=1), "Subtitles: lines per cue (default 2)."),
    ("--max-cps", _POSITIVE, "Subtitles: reading speed, characters per second (default 17)."),
    ("--min-duration", FiniteRange(min=0),
     "Subtitles: shortest time on screen in seconds (default 5/6)."),
    ("--max-duration", _POSITIVE, "Subtitles: longest cue in seconds (default 7)."),
    ("--min-gap-frames", click.IntRange(min=0), "Subtitles: frames between cues (default 2)."),
    ("--fps", _POSITIVE, "Subtitles: frame rate the frame counts use (default 24)."),
    ("--chain-frames", click.IntRange(min=0),
     "Subtitles: gaps of this many frames or fewer are closed to --min-gap-frames (default 12)."),
    ("--karaoke", click.Choice(["k", "kf", "ko"]),
     r"ASS: time each word with \k (fill at once), \kf (sweep) or \ko (outline)."),
    ("--word-timestamps", None,
     "WebVTT and LRC: a timestamp before each word (<00:00:01.234>; LRC: enhanced)."),
    ("--highlight-words", None,
     "SRT/WebVTT: highlight the word being spoken (one cue per word)."),
    ("--ass-font", str, "ASS: font name (default Arial)."),
    ("--ass-size", click.IntRange(min=1), "ASS: font size (default 72)."),
    ("--ass-primary", str, "ASS: primary colour, #RRGGBB or &HAABBGGRR."),
    ("--ass-secondary", str, "ASS: secondary (karaoke: not yet sung) colour."),
)  # fmt: skip


def _parameter(flag: str) -> str:
    return "karaoke_tag" if flag == "--karaoke" else flag[2:].replace("-", "_")


def _decorated(command: Callable[..., Any], decorators: list[Any]) -> Callable[..., Any]:
    """``command`` under ``decorators``, the first of the list outermost (as if stacked)."""
    for decorate in reversed(decorators):
        command = decorate(command)
    return command


def subtitle_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add every subtitle option (``--preset``, ``--cues``, the cue rules, karaoke, ASS
    styles); the command receives them as one ``cues`` dict of writer options, checked
    before any work (an unknown value raises ``ValidationError``, exit code 2)."""
    names = [_parameter(flag) for flag, _type, _help in _SUBTITLE_OPTIONS]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from qalign.formats.cue_options import CueOptions

        cues = cue_options(**{name: kwargs.pop(name) for name in names})
        CueOptions.from_options(cues)  # fail before any work
        for name in ("ass_primary", "ass_secondary"):
            if name in cues:
                from qalign.formats.ass import parse_colour

                parse_colour(cues[name])
        return command(*args, cues=cues, **kwargs)

    for flag, kind, text in reversed(_SUBTITLE_OPTIONS):
        extra = {"is_flag": True} if kind is None else {"type": kind}
        wrapper = click.option(flag, _parameter(flag), help=text, **extra)(wrapper)
    return wrapper


def read_transcript_or_subtitles(path: str, read_text: Callable[[str], str]) -> tuple[Any, str]:
    """``(document, transcript text)``: a subtitle file (``.srt``, ``.vtt``, ``.ass``,
    ``.ssa``, ``.lrc``) is read keeping its cues (document), anything else with ``read_text``
    (document ``None``)."""
    from qalign.formats.subtitle_transcript import is_subtitle_path, read_subtitle_document

    if path != "-" and is_subtitle_path(path):
        from qalign.transcript import require_letters

        document = read_subtitle_document(path)
        require_letters(document.transcript, path)
        return document, document.transcript
    return None, read_text(path)


def apply_cue_structure(
    result: Alignment, text: str, document: Any, plan: OutputPlan, hints: float | None
) -> tuple[Alignment, OutputPlan]:
    """Give ``result`` the cue structure the user asked for: the cues of a subtitle
    transcript (re-timed; subtitle outputs of its own format keep its text and
    markup), or one segment per transcript line with ``--cues lines``."""
    if document is not None:
        from qalign.formats.subtitle_transcript import retime

        result = retime(document, result, hints).alignment
        cues = {**plan.cues, "cues": "lines", "document": document}
        return result, dataclasses.replace(plan, cues=cues)
    if plan.cues.get("cues") == "lines" or plan.cues.get("preset") == "karaoke":
        from qalign.formats.transcript_lines import line_segments

        return line_segments(result, text), plan
    return result, plan


def engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--engine``, ``--model`` and ``--granularity`` (the aligner's choice and units)."""
    decorators = [
        click.option(
            "--engine",
            type=click.Choice(["auto", "qwen3", "sphinx"]),
            default="auto",
            show_default=True,
            help="auto: Qwen3 when its weights are on disk or reachable, else offline sphinx "
            "(English).",
        ),
        click.option(
            "--model",
            "-m",
            envvar="QALIGN_ALIGNER_MODEL",
            help="Qwen3 aligner hub id or local folder.",
        ),
        click.option(
            "--granularity",
            type=click.Choice(["word", "char"]),
            default="word",
            show_default=True,
            help="Units: words (CJK: characters), or every character.",
        ),
    ]
    return _decorated(command, decorators)


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--device``, ``--dtype`` and the aligner's ``--decoder``."""
    decorators = [
        click.option(
            "--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps."
        ),
        click.option(
            "--dtype", default="auto", show_default=True, help="auto, float32, bfloat16 or float16."
        ),
        click.option(
            "--decoder",
            type=click.Choice(["monotonic", "reference"]),
            default="monotonic",
            show_default=True,
            help="monotonic: best ordered timing; reference: the official argmax + repair.",
        ),
    ]
    return _decorated(command, decorators)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``-o/--output`` (repeatable), ``--format`` and the subtitle cue options."""
    command = subtitle_options(command)
    command = click.option(
        "--format", "-f", "out_format", help="Output format id (default: from each -o extension)."
    )(command)
    return click.option(
        "--output",
        "-o",
        "outputs",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Output file; repeat for several formats from one pass.",
    )(command)


def writer_options(
    format_name: str,
    cues: dict[str, Any],
    audio: str | None = None,
    output: str | None = None,
    review: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword options for one writer: cue options for subtitles; for CTM the file id
    (the audio's file name without extension) and for EAF the media file, when known; for
    the HTML review page the audio, its URL relative to ``output`` and ``review`` (the
    ``samples`` already decoded, ``embed_audio``)."""
    if format_name in SUBTITLE_FORMATS:
        return dict(cues)
    if format_name == "html":
        return {"audio": audio, "audio_href": review_href(audio, output), **(review or {})}
    if audio and audio != "-":
        if format_name == "ctm":
            return {"file_id": Path(audio).stem or "audio"}
        if format_name == "eaf":
            return {"media": audio}
    return {}


def review_href(audio: str | None, output: str | None) -> str | None:
    """The URL of ``audio`` relative to the page written at ``output`` (stdout: the cwd)."""
    if not audio or audio == "-":
        return None
    import urllib.parse

    folder = Path(output).resolve().parent if output else Path.cwd()
    try:
        relative = os.path.relpath(Path(audio).resolve(), folder)
    except ValueError:  # another drive on Windows
        return Path(audio).resolve().as_uri()
    return urllib.parse.quote(Path(relative).as_posix())


@dataclass(frozen=True)
class OutputPlan:
    """Where results go, checked before any work: ``(path, format id)`` pairs, or
    stdout in ``stdout_format`` when there are none."""

    targets: tuple[tuple[str, str], ...]
    stdout_format: str
    cues: dict[str, Any]


def check_output_path(path: str, *, creates_folder: bool = False) -> None:
    """Check that ``path`` can be written, before any work, and remove our stale
    temporary files from its folder (see :func:`qalign.atomic.remove_stale`).
    With ``creates_folder`` a missing folder is fine when it can be created.

    Raises:
        WriteError: the name is empty or too long, names a folder, or its folder
            does not exist or is not writable.
    """
    from qalign.atomic import descriptor_of, remove_stale, resolve_target
    from qalign.errors import WriteError

    if not path or not Path(path).name:
        raise WriteError(path or "''", "output name is empty")
    if descriptor_of(path) is not None:
        return
    longest = 255
    for part in Path(path).parts:  # before any stat: a name too long makes stat fail
        if len(part.encode("utf-8", "surrogateescape")) > longest:
            raise WriteError(path, f"a name in it is longer than {longest} bytes")
    try:
        target = resolve_target(path)
        if target.is_dir():
            raise WriteError(path, "is a folder; name a file")
        folder = target.parent
        if creates_folder:
            while not folder.exists() and folder != folder.parent:
                folder = folder.parent
        if not folder.is_dir():
            kind = "is not a folder" if folder.exists() else "does not exist"
            raise WriteError(path, f"folder {folder} {kind}")
    except OSError as exc:  # a loop of links, a name the system refuses
        raise WriteError(path, exc.strerror or str(exc)) from None
    if not os.access(folder, os.W_OK):
        raise WriteError(path, f"folder {folder} is not writable")
    remove_stale(folder)


def plan_outputs(
    outputs: Sequence[str], out_format: str | None, cues: dict[str, Any]
) -> OutputPlan:
    """Check formats, names and folders of the outputs now, so that nothing fails after
    the work. ``-`` is standard output.

    Raises:
        UnknownFormatError: an extension or ``--format`` that names no writable format.
        QalignError: ``--format`` given with several outputs, the same file named
            twice, or ``-`` more than once.
        WriteError: an output that cannot be written (see :func:`check_output_path`).
    """
    from qalign import formats
    from qalign.atomic import STDOUT
    from qalign.errors import QalignError

    if out_format and len(outputs) > 1:
        raise QalignError(
            "--format applies to a single output; with several -o, each file's extension names its format"
        )
    targets = []
    seen: dict[str, str] = {}
    for path in outputs:
        if path == STDOUT:
            fmt = formats.get(out_format or "json")
        else:
            fmt = formats.format_of(path, out_format)
        if not fmt.can_write():
            raise QalignError(f"{path}: format {fmt.name!r} can be read but not written")
        if path != STDOUT:
            check_output_path(path)
        key = path if path == STDOUT else os.path.normcase(os.path.realpath(path))
        if key in seen:
            raise QalignError(f"{path}: named twice as an output (also as {seen[key]})")
        seen[key] = path
        targets.append((path, fmt.name))
    stdout_format = formats.get(out_format or "json").name
    return OutputPlan(tuple(targets), stdout_format, dict(cues))


def write_outputs(
    alignment: Alignment,
    plan: OutputPlan,
    audio: str | None = None,
    review: dict[str, Any] | None = None,
) -> None:
    """Render every output into a temporary file, then put them all in place
    (all-or-nothing, see :func:`qalign.atomic.write_all`); with no targets, stdout.

    ``review`` holds extra options for the HTML review page (``samples``, ``embed_audio``).
    """
    from qalign import formats
    from qalign.atomic import STDOUT, write_all

    targets = plan.targets or ((STDOUT, plan.stdout_format),)
    write_all(
        [
            (
                path,
                formats.render(
                    alignment,
                    name,
                    **writer_options(
                        name, plan.cues, audio, None if path == STDOUT else path, review
                    ),
                ),
            )
            for path, name in targets
        ]
    )
