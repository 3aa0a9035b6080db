"""``qalign convert IN OUT``: any readable alignment format to any writable one."""

from __future__ import annotations

import click


@click.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=str))
@click.argument("target", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "-f", "out_format", help="Output format id (default: from OUT's extension).")
@click.option("--in-format", help="Input format id (default: from IN's extension).")
@click.option("--tier", help="TextGrid input: name of the word tier.")
def convert(source: str, target: str, out_format: str | None, in_format: str | None, tier: str | None) -> None:
    """Convert the alignment file SOURCE into TARGET."""
    from qalign import formats

    writer = formats.format_of(target, out_format)  # fail on a bad OUT before reading IN
    options = {"tier": tier} if tier else {}
    alignment = formats.load(source, in_format, **options)
    formats.save(alignment, target, writer.name)
