"""``qalign align AUDIO TRANSCRIPT``: time every word of a transcript against its audio."""

from __future__ import annotations

import logging
from typing import Any

import click

from qalign.cli.common import (
    apply_cue_structure,
    configure_logging,
    model_options,
    output_options,
    plan_outputs,
    read_transcript_or_subtitles,
    write_outputs,
)


@click.command()
@click.argument("audio", type=str)
@click.argument("transcript", type=str)
@output_options
@model_options
@click.option("--language", "-l", help="Language name or ISO code (default: guessed from the script).")
@click.option(
    "--engine",
    type=click.Choice(["auto", "qwen3", "sphinx"]),
    default="auto",
    show_default=True,
    help="auto: Qwen3 when its weights are on disk or reachable, else offline sphinx (English).",
)
@click.option("--model", "-m", envvar="QALIGN_ALIGNER_MODEL", help="Qwen3 aligner hub id or local folder.")
@click.option(
    "--granularity",
    type=click.Choice(["word", "char"]),
    default="word",
    show_default=True,
    help="Units: words (CJK: characters), or every character.",
)
@click.option(
    "--phones",
    type=click.Choice(["none", "sphinx"]),
    default="none",
    show_default=True,
    help="Add a phone tier (English) aligned by sphinx inside each word.",
)
@click.option(
    "--embed-audio", is_flag=True, help="HTML review page: put the audio in the page, not a link to it."
)
@click.option(
    "--hints",
    type=click.FloatRange(min=0),
    is_flag=False,
    flag_value=10.0,
    help="Subtitle transcript: its times are loose hints; a cue re-timed further than this "
    "many seconds (10 when no value is given) keeps its old times.",
)
@click.option("-q", "--quiet", is_flag=True, help="Only print errors.")
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
    quiet: bool,
) -> None:
    """Align TRANSCRIPT (a UTF-8 text file, - for stdin, or an SRT/WebVTT/ASS file to
    re-time) to AUDIO (any audio or video file).

    Writes one file per -o (format from the extension or --format); with no
    -o, the JSON goes to stdout.
    """
    configure_logging(quiet)
    from qalign.aligner.base import AlignRequest
    from qalign.aligner.engines import EngineOptions, create_aligner
    from qalign.aligner.languages import resolve_language
    from qalign.audio import load_audio
    from qalign.errors import LanguageError, QalignError
    from qalign.transcript import guess_language, read_transcript

    # Everything that can be checked is checked before the audio is decoded or a model loads.
    plan = plan_outputs(outputs, out_format, cues)
    document, text = read_transcript_or_subtitles(transcript, read_transcript)
    lang = resolve_language(language) if language else guess_language(text)
    if phones == "sphinx":
        from qalign.aligner.sphinx import require_pocketsphinx

        if lang != "English":
            raise LanguageError(lang, ("English",))
        require_pocketsphinx()
    samples = load_audio(audio)
    if not language:
        logging.getLogger("qalign").info("language: %s (guessed; pass --language to set it)", lang)
    options = EngineOptions(model, device, dtype, decoder, granularity)
    aligner = create_aligner(engine, options, lang)
    if aligner.name == "sphinx" and (granularity != "word" or decoder != "monotonic"):
        logging.getLogger("qalign").warning(
            "the sphinx engine times words and phones; --granularity and --decoder do not apply to it"
        )
    (result,) = aligner.align_batch([AlignRequest(samples, text, lang, name=audio)])
    if isinstance(result, QalignError):
        raise result
    if phones == "sphinx" and result.source.engine != "sphinx":
        from qalign.aligner.sphinx import add_sphinx_phones

        result = add_sphinx_phones(result, samples)
    result, plan = apply_cue_structure(result, text, document, plan, hints)
    write_outputs(result, plan, audio, {"samples": samples, "embed_audio": embed_audio})
