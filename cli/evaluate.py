"""``qalign evaluate HYP REF``: boundary accuracy of one alignment file against a reference."""

from __future__ import annotations

import click


@click.command()
@click.argument("hypothesis", type=click.Path(dir_okay=False, path_type=str))
@click.argument("reference", type=click.Path(dir_okay=False, path_type=str))
@click.option("--tier", help="TextGrid inputs: name of the word tier (default: found by name).")
@click.option("--ref-tier", help="Word tier of the reference only, when it differs from --tier.")
@click.option("--in-format", help="Format id of both files (default: from each extension).")
@click.option("--phones/--no-phones", default=True, show_default=True,
              help="Also compare phones when both files have them.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def evaluate(
    hypothesis: str,
    reference: str,
    tier: str | None,
    ref_tier: str | None,
    in_format: str | None,
    phones: bool,
    as_json: bool,
) -> None:
    """Compare the word (and phone) boundaries of HYPOTHESIS with REFERENCE.

    Words are matched by an edit-distance alignment of their normalised text
    (silence marks and bracketed noise markers left out). Prints the mean
    absolute shift of matched start and end boundaries in milliseconds, and
    the share of boundaries within 20 ms and 50 ms.
    """
    import json
    import math

    from qalign import formats
    from qalign.cli.common import configure_logging
    from qalign.errors import QalignError
    from qalign.evaluation import evaluate as compare
    from qalign.evaluation import format_report

    configure_logging()

    hyp_options = {"tier": tier} if tier else {}
    ref_options = {"tier": ref_tier or tier} if (ref_tier or tier) else {}
    hyp = formats.load(hypothesis, in_format, **hyp_options)
    ref = formats.load(reference, in_format, **ref_options)
    for path, alignment in ((hypothesis, hyp), (reference, ref)):
        if not alignment.units:
            raise QalignError(f"{path}: has no word timings to compare (cues only, or empty)")
    result = compare(hyp, ref, phones=phones)
    if as_json:
        def number(x: float) -> float | None:  # JSON has no NaN: no boundary matched gives null
            return None if isinstance(x, float) and math.isnan(x) else x

        data = {
            stats.tier: {
                "hyp_items": stats.hyp_items,
                "ref_items": stats.ref_items,
                "matched": stats.matched,
                "mean_shift_ms": number(stats.mean_shift_ms),
                "median_shift_ms": number(stats.median_shift_ms),
                "mean_start_shift_ms": number(stats.mean_start_shift_ms),
                "within_20ms": number(stats.within_20ms),
                "within_50ms": number(stats.within_50ms),
            }
            for stats in (result.words, result.phones)
            if stats is not None
        }
        data["notes"] = list(result.notes)  # type: ignore[assignment]
        click.echo(json.dumps(data, indent=1, allow_nan=False))
    else:
        click.echo(format_report(result))
