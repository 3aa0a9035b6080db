"""``qalign convert IN OUT``: any readable alignment format to any writable one;
``qalign formats``: the table of formats."""

from __future__ import annotations

from typing import Any

import click

from qalign.cli.common import configure_logging, subtitle_options


@click.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=str))
@click.argument("target", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--format", "-f", "out_format", help="Output format id (default: from OUT's extension)."
)
@click.option("--in-format", help="Input format id (default: from IN's extension).")
@click.option("--tier", help="TextGrid input: name of the word tier.")
@subtitle_options
def convert(
    source: str,
    target: str,
    out_format: str | None,
    in_format: str | None,
    tier: str | None,
    cues: dict[str, Any],
) -> None:
    """Convert the alignment file SOURCE into TARGET."""
    configure_logging()
    from qalign import formats
    from qalign.cli.common import plan_outputs, write_outputs

    plan = plan_outputs([target], out_format, cues)
    options = {"tier": tier} if tier else {}
    alignment = formats.load(source, in_format, **options)
    write_outputs(alignment, plan)


@click.command(name="formats")
def list_formats() -> None:
    """List the file formats: id, extensions, read/write, description."""
    from qalign import formats

    for name in formats.names():
        fmt = formats.get(name)
        rw = ("r" if fmt.can_read() else "-") + ("w" if fmt.can_write() else "-")
        exts = ",".join(fmt.extensions) or "(use --format)"
        click.echo(f"{name:<15} {rw}  {exts:<28} {fmt.description}")
