"""``qalign align AUDIO TRANSCRIPT``: time every word of a transcript against its audio."""

from __future__ import annotations

import logging
from typing import Any

import click

from qalign.cli.common import (
    FiniteRange,
    apply_cue_structure,
    configure_logging,
    engine_options,
    model_options,
    output_options,
    plan_outputs,
    read_transcript_or_subtitles,
    write_outputs,
)
from qalign.cli.progress import progress_bar


@click.command()
@click.argument("audio", type=str)
@click.argument("transcript", type=str)
@output_options
@model_options
@click.option(
    "--language", "-l", help="Language name or ISO code (default: guessed from the script)."
)
@engine_options
@click.option(
    "--phones",
    type=click.Choice(["none", "sphinx"]),
    default="none",
    show_default=True,
    help="Add a phone tier (English) aligned by sphinx inside each word.",
)
@click.option(
    "--embed-audio",
    is_flag=True,
    help="HTML review page: put the audio in the page, not a link to it.",
)
@click.option(
    "--hints",
    type=FiniteRange(min=0),
    is_flag=False,
    flag_value=10.0,
    help="Subtitle transcript: its times are loose hints; a cue re-timed further than this "
    "many seconds (10 when no value is given) keeps its old times.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with code 1 when any word is unaligned (the outputs are still written).",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress or notes: errors and the summary line only."
)
def align(
    audio: str,
    transcript: str,
    outputs: tuple[str, ...],
    out_format: str | None,
    cues: dict[str, Any],
    language: str | None,
    engine: str,
    model: str | None,
    device: str,
    dtype: str,
    decoder: str,
    granularity: str,
    phones: str,
    embed_audio: bool,
    hints: float | None,
    strict: bool,
    quiet: bool,
) -> None:
    """Align TRANSCRIPT (a UTF-8 text file, - for stdin, or an SRT/WebVTT/ASS/LRC file to
    re-time) to AUDIO (any audio or video file).

    Writes one file per -o (format from the extension or --format); with no
    -o, the JSON goes to stdout. Audio of any length is aligned window by
    window; one summary line on stderr says how many words were aligned and
    where the unaligned stretches are. Exit code 0 when anything aligned.
    """
    configure_logging(quiet)
    from qalign.aligner.base import AlignRequest
    from qalign.aligner.engines import EngineOptions, create_aligner
    from qalign.aligner.languages import resolve_language
    from qalign.audio import probe
    from qalign.errors import LanguageError, QalignError
    from qalign.pipes import seekable_audio
    from qalign.transcript import check_rate, guess_language, read_transcript

    # Everything that can be checked is checked before the audio is decoded or a model loads.
    plan = plan_outputs(outputs, out_format, cues)
    if embed_audio and any(name == "html" for _, name in plan.targets):
        from qalign.formats.review_html import check_embeddable

        check_embeddable(audio)  # too large to embed: said now, not after the work
    document, text = read_transcript_or_subtitles(transcript, read_transcript)
    lang = resolve_language(language) if language else guess_language(text)
    if phones == "sphinx":
        from qalign.aligner.sphinx import require_pocketsphinx

        if lang != "English":
            raise LanguageError(lang, ("English",))
        require_pocketsphinx()
    # A pipe or device (/dev/stdin, process substitution) is copied to a temporary file
    # first: probing and streaming open the audio more than once.
    with seekable_audio(audio) as source:
        info = probe(source)  # the container's header: refuses non-audio before any decoding
        # refused here before a model loads; the aligner checks again and warns
        check_rate(text, info.duration, "<stdin>" if transcript == "-" else transcript, warn=False)
        if not language:
            logging.getLogger("qalign").info(
                "language: %s (guessed; pass --language to set it)", lang
            )
        options = EngineOptions(model, device, dtype, decoder, granularity)
        with progress_bar(info.duration, hidden=quiet) as progress:
            aligner = create_aligner(engine, options, lang, progress=progress)
            if aligner.name == "sphinx" and (granularity != "word" or decoder != "monotonic"):
                logging.getLogger("qalign").warning(
                    "the sphinx engine times words and phones; --granularity and --decoder do not apply to it"
                )
            (result,) = aligner.align_batch([AlignRequest(source, text, lang, name=audio)])
        if isinstance(result, QalignError):
            raise result
        if phones == "sphinx" and result.source.engine != "sphinx":
            from qalign.aligner.sphinx import add_sphinx_phones

            result = add_sphinx_phones(result, source)  # streamed word by word
        result, plan = apply_cue_structure(result, text, document, plan, hints)
        # The review page decodes the audio itself when it needs it (not kept in memory here).
        write_outputs(result, plan, audio, {"embed_audio": embed_audio})
    from qalign.aligner.longform import summary_line

    click.echo(
        f"qalign: {summary_line(result, 'words' if granularity == 'word' else 'units')}", err=True
    )
    if result.units and result.count("unaligned") == len(result.units):
        click.echo(
            f"qalign: error: {audio}: no part of the transcript could be aligned to this audio",
            err=True,
        )
        raise click.exceptions.Exit(1)
    if strict and result.count("unaligned"):
        raise click.exceptions.Exit(1)
