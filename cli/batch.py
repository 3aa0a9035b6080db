"""``qalign batch CORPUS -o OUTDIR``: align a whole corpus with one model load."""

from __future__ import annotations

import click

from qalign.cli.common import (
    FiniteRange,
    configure_logging,
    engine_options,
    model_options,
    subtitle_options,
)


@click.command()
@click.argument("corpus", type=click.Path(exists=True, path_type=str))
@click.option(
    "--output",
    "-o",
    "outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Output folder, or an fsspec URL (s3://, gs://, file://, ...: "
    'pip install "qalign[fsspec]" and the backend); its tree mirrors the corpus.',
)
@click.option(
    "--format",
    "-f",
    "format_names",
    multiple=True,
    help="Output format id; repeat for several (default: textgrid and json).",
)
@click.option(
    "--language", "-l", help="Language of items that do not name one (default: guessed per item)."
)
@engine_options
@model_options
@subtitle_options
@click.option("--overwrite", is_flag=True, help="Redo items that an earlier run finished.")
@click.option(
    "--executor",
    default="local",
    show_default=True,
    help='Where buckets run: local (this process) or ray (a Ray cluster, pip install "qalign[ray]").',
)
@click.option(
    "--address",
    help="--executor ray: the cluster to join (HOST:PORT); default: a Ray instance on this machine.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="--executor ray: model copies (actors); default: fill the cluster.",
)
@click.option(
    "--cpus-per-worker",
    type=FiniteRange(min=0, min_open=True),
    help="--executor ray: CPUs each worker reserves (its threads)  [default: 1]",
)
@click.option(
    "--gpus-per-worker",
    type=FiniteRange(min=0),
    help="--executor ray: GPUs each worker reserves; 0.5 puts two on one GPU  [default: 0]",
)
@click.option(
    "--bucket-seconds",
    type=FiniteRange(min=1),
    default=600.0,
    show_default=True,
    help="Most seconds of audio aligned together in one bucket.",
)
@click.option(
    "--bucket-items",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Most items in one bucket.",
)
@click.option("-q", "--quiet", is_flag=True, help="Only print errors and the summary.")
def batch(
    corpus: str,
    outdir: str,
    format_names: tuple[str, ...],
    language: str | None,
    engine: str,
    model: str | None,
    device: str,
    dtype: str,
    decoder: str,
    granularity: str,
    cues: dict,
    overwrite: bool,
    executor: str,
    address: str | None,
    workers: int | None,
    cpus_per_worker: float | None,
    gpus_per_worker: float | None,
    bucket_seconds: float,
    bucket_items: int,
    quiet: bool,
) -> None:
    """Align every item of CORPUS (a folder or a .jsonl/.csv manifest) into OUTDIR.

    A folder holds audio with a .lab or .txt transcript of the same name beside it
    (speaker subfolders allowed), or a .TextGrid whose tiers (one per speaker) hold
    utterances. Finished items are skipped on a rerun (--overwrite redoes them).
    Failed items are listed in OUTDIR/failures.csv and the run goes on; the exit
    code is 1 when any item failed. OUTDIR/alignment_report.csv lists the aligned
    items worst first.
    """
    import logging
    import os

    from qalign.aligner.engines import EngineOptions
    from qalign.aligner.languages import resolve_language
    from qalign.corpus.executors import get_executor
    from qalign.corpus.job import CorpusJob
    from qalign.corpus.outputs import check_formats, is_url
    from qalign.corpus.runner import BatchInterrupted, run_corpus

    configure_logging(quiet)
    cluster = {
        "address": address,
        "workers": workers,
        "cpus_per_worker": cpus_per_worker,
        "gpus_per_worker": gpus_per_worker,
    }
    executor_options = {k: v for k, v in cluster.items() if v is not None}
    if executor_options and executor != "ray":
        flags = ", ".join("--" + k.replace("_", "-") for k in executor_options)
        raise click.UsageError(f"{flags} only apply to --executor ray")
    formats = check_formats(format_names or ("textgrid", "json"))
    if is_url(outdir):  # fsspec; checked (extra, backend) before anything is written
        outdir = _checked_url(outdir, formats, executor)
    job = CorpusJob(
        outdir=outdir if is_url(outdir) else os.path.abspath(outdir),
        formats=formats,
        engine=engine,
        engine_options=EngineOptions(model, device, dtype, decoder, granularity),
        language=resolve_language(language) if language else None,
        overwrite=overwrite,
        cues=tuple(sorted(cues.items())),
        bucket_seconds=bucket_seconds,
        bucket_items=bucket_items,
    )
    executor_impl = get_executor(executor, **executor_options)
    # The progress line shows on a terminal, unless -q (errors and the summary only).
    try:
        summary = run_corpus(corpus, job, executor_impl, show_progress=False if quiet else None)
    except BatchInterrupted as exc:
        # What was done, then the interruption's own line and exit code (130 for Ctrl-C).
        click.echo(f"qalign: batch: {exc.summary.line()}", err=True)
        raise exc.cause from None
    click.echo(f"qalign: batch: {summary.line()}", err=True)
    if summary.failed:
        click.echo(f"qalign: failures listed in {os.path.join(outdir, 'failures.csv')}", err=True)
    logging.getLogger("qalign").debug("report: %s", os.path.join(outdir, "alignment_report.csv"))
    if summary.failed:
        raise SystemExit(1)


def _checked_url(url: str, formats: tuple[str, ...], executor: str) -> str:
    """``url`` ready for workers (a ``file://`` URL made absolute).

    Raises:
        click.UsageError: the URL cannot hold this run.
        MissingDependencyError: fsspec or the URL's backend is not installed (exit 3).
    """
    from qalign.corpus.remote import remote_dir, scheme_of

    scheme = scheme_of(url)
    if scheme == "memory" and executor != "local":
        raise click.UsageError(
            f"-o {url}: memory:// lives in one process; --executor {executor} needs a store "
            "every worker reaches"
        )
    if "html" in formats and scheme != "file":
        raise click.UsageError(
            f"-o {url}: review pages (-f html) link the local audio; write them to a folder"
        )
    remote = remote_dir(url)
    return f"file://{remote.root}" if scheme == "file" else url
