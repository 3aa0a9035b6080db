"""``qalign split``: cut aligned audio into clips with a NeMo-style manifest."""

from __future__ import annotations

from pathlib import Path

import click

from qalign.cli.common import FiniteRange


@click.command()
@click.argument("source", type=click.Path(exists=True, path_type=str))
@click.argument(
    "alignment", required=False, type=click.Path(exists=True, dir_okay=False, path_type=str)
)
@click.option(
    "--output",
    "-o",
    "outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Folder for the clips and manifest.jsonl.",
)
@click.option(
    "--by",
    "mode",
    type=click.Choice(["segment", "duration"]),
    default="segment",
    show_default=True,
    help="segment: one clip per sentence; duration: clips packed to --min/--max-duration.",
)
@click.option(
    "--min-duration",
    type=FiniteRange(min=0),
    default=None,
    help="Shortest clip in seconds (default: 1 with --by duration, else 0).",
)
@click.option(
    "--max-duration",
    type=FiniteRange(min=0, min_open=True),
    default=None,
    help="Longest clip in seconds (default: 20 with --by duration, else no limit).",
)
@click.option(
    "--pad",
    type=FiniteRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds of audio added at both ends (never into a neighbouring word).",
)
@click.option(
    "--audio-format",
    type=click.Choice(["wav", "flac"]),
    default="wav",
    show_default=True,
    help="Clip files: 16-bit WAV or FLAC, 16 kHz mono.",
)
def split(
    source: str,
    alignment: str | None,
    outdir: str,
    mode: str,
    min_duration: float | None,
    max_duration: float | None,
    pad: float,
    audio_format: str,
) -> None:
    """Cut SOURCE into clips at aligned word boundaries.

    SOURCE is an audio file with its ALIGNMENT (any readable format), or the output
    folder of `qalign batch` (no ALIGNMENT). A TextGrid with several speakers'
    "SPEAKER - words" tiers is cut per speaker (clips KEY.SPEAKER_NNNN, `speaker`
    in the manifest). Clips never cut inside a word and never
    span words the aligner could not place. Writes DIR/KEY_NNNN.wav (or .flac) and
    DIR/manifest.jsonl (audio_filepath, duration, text, offset, source,
    source_offset, words with clip-relative times), which NeMo reads.
    """
    from qalign.cli.common import configure_logging
    from qalign.corpus.split import (
        SplitOptions,
        batch_sources,
        file_sources,
        split_one,
        write_manifest,
    )
    from qalign.errors import QalignError

    configure_logging()
    packed = mode == "duration"
    options = SplitOptions(
        mode="pack" if packed else "segment",
        min_duration=min_duration if min_duration is not None else (1.0 if packed else 0.0),
        max_duration=max_duration
        if max_duration is not None
        else (20.0 if packed else float("inf")),
        pad=pad,
        audio_format=audio_format,
    )
    if options.min_duration > options.max_duration:
        raise QalignError(
            f"--min-duration {options.min_duration} is longer than --max-duration {options.max_duration}"
        )
    src = Path(source)
    if src.is_dir():
        if alignment:
            raise QalignError(f"{source}: a batch output folder takes no ALIGNMENT argument")
        sources = list(batch_sources(src))
    else:
        if not alignment:
            raise QalignError(f"{source}: give the ALIGNMENT file after the audio")
        sources = file_sources(str(src.resolve()), alignment, src.stem)
    out = Path(outdir)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    dropped = failed = 0
    for item in sources:
        try:
            got, lost = split_one(item, out, options)
        except QalignError as exc:
            if not src.is_dir():  # one file (one source per speaker): its error, exit 2
                if created and not any(out.iterdir()):
                    out.rmdir()  # nothing was cut: leave no empty folder behind
                raise
            failed += 1
            click.echo(f"qalign: error: {exc}", err=True)
            continue
        rows.extend(got)
        dropped += lost
    write_manifest(out / "manifest.jsonl", rows)
    hours = sum(r["duration"] for r in rows) / 3600
    click.echo(
        f"qalign: split: {len(rows)} clips ({hours:.2f} h) from {len(sources) - failed} alignment(s), "
        f"{dropped} words left out, {failed} failed; manifest {out / 'manifest.jsonl'}",
        err=True,
    )
    if failed:
        raise SystemExit(1)
