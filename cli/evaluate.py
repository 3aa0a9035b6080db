"""``qalign evaluate HYP REF``: boundary accuracy of alignments against references.

HYP and REF are two files, or two folders whose files are paired by relative path
and stem (``spk1/a.TextGrid`` with ``spk1/a.json``). Folders give one row per file
and an ``(all)`` row that pools every matched boundary.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

# When a folder holds one stem in several formats, this one is compared.
_PREFERRED = ("json", "textgrid", "ctm", "eaf", "tsv")


def _stem_key(path: Path, root: Path) -> tuple[str, str] | None:
    """(relative path without the format's extension, format id), or None when unreadable."""
    from qalign import formats

    table = formats.extensions()
    name = path.name.lower()
    for ext in sorted(table, key=len, reverse=True):
        if name.endswith(ext) and len(name) > len(ext):
            fmt = formats.get(table[ext])
            if not fmt.can_read():
                return None
            rel = path.relative_to(root).as_posix()
            return rel[: -len(ext)], fmt.name
    return None


def _alignment_files(root: Path) -> dict[str, Path]:
    found: dict[str, tuple[int, Path]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            keyed = _stem_key(path, root)
            if keyed is None:
                continue
            key, fmt = keyed
            rank = _PREFERRED.index(fmt) if fmt in _PREFERRED else len(_PREFERRED)
            if key not in found or rank < found[key][0]:
                found[key] = (rank, path)
    return {key: path for key, (_, path) in found.items()}


def pair_folders(hyp: Path, ref: Path) -> tuple[list[tuple[str, Path, Path]], list[str], list[str]]:
    """Paired files ``(key, hyp, ref)``, and the keys only the hypothesis / reference has."""
    hyps, refs = _alignment_files(hyp), _alignment_files(ref)
    pairs = [(key, hyps[key], refs[key]) for key in sorted(hyps.keys() & refs.keys())]
    return pairs, sorted(hyps.keys() - refs.keys()), sorted(refs.keys() - hyps.keys())


@click.command()
@click.argument("hypothesis", type=click.Path(exists=True, path_type=str))
@click.argument("reference", type=click.Path(exists=True, path_type=str))
@click.option("--tier", help="TextGrid inputs: name of the word tier (default: found by name).")
@click.option("--ref-tier", help="Word tier of the reference only, when it differs from --tier.")
@click.option("--in-format", help="Format id of both files (default: from each extension).")
@click.option(
    "--phones/--no-phones",
    default=True,
    show_default=True,
    help="Also compare phones when both files have them.",
)
@click.option(
    "--format",
    "out_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="How to print the numbers.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=str),
    help="Write a histogram of the word boundary errors to this PNG (needs qalign[plot]).",
)
def evaluate(
    hypothesis: str,
    reference: str,
    tier: str | None,
    ref_tier: str | None,
    in_format: str | None,
    phones: bool,
    out_format: str,
    as_json: bool,
    plot: str | None,
) -> None:
    """Compare the word (and phone) boundaries of HYPOTHESIS with REFERENCE.

    Both are alignment files, or both folders (files paired by relative path and
    stem). Words are matched by an anchored edit-distance alignment of their
    normalised text (silence marks and bracketed noise markers left out; memory
    linear in the number of words). Prints the accumulated average shift (mean
    |hyp - ref| over matched starts and ends, ms), mean and median start and end
    errors, the share of boundaries within 20, 50 and 100 ms, and the unmatched
    words of each side.
    """
    from qalign import formats
    from qalign.cli.common import configure_logging
    from qalign.cli.evaluate_output import render, write_plot
    from qalign.errors import QalignError
    from qalign.evaluation import evaluate as compare
    from qalign.evaluation import pool

    configure_logging()
    hyp_options = {"tier": tier} if tier else {}
    ref_options = {"tier": ref_tier or tier} if (ref_tier or tier) else {}
    if plot and not plot.lower().endswith(".png"):
        raise QalignError(f"{plot}: --plot writes PNG; give a .png file name")
    if plot:
        from qalign.cli.evaluate_output import require_matplotlib

        require_matplotlib()

    def one(hyp_path: str | Path, ref_path: str | Path):
        hyp = formats.load(hyp_path, in_format, **hyp_options)
        ref = formats.load(ref_path, in_format, **ref_options)
        for path, alignment in ((hyp_path, hyp), (ref_path, ref)):
            if not alignment.units:
                raise QalignError(f"{path}: has no word timings to compare (cues only, or empty)")
        return compare(hyp, ref, phones=phones)

    hyp_dir, ref_dir = Path(hypothesis).is_dir(), Path(reference).is_dir()
    if hyp_dir != ref_dir:
        raise QalignError(f"{hypothesis} and {reference}: give two files or two folders")
    failed = 0
    unpaired: tuple[list[str], list[str]] = ([], [])
    if not hyp_dir:
        results = [(None, one(hypothesis, reference))]
        overall = results[0][1]
    else:
        pairs, only_hyp, only_ref = pair_folders(Path(hypothesis), Path(reference))
        unpaired = (only_hyp, only_ref)
        if not pairs:
            raise QalignError(
                f"{hypothesis} and {reference}: no alignment files with the same relative path and stem"
            )
        results = []
        for key, hyp_path, ref_path in pairs:
            try:
                results.append((key, one(hyp_path, ref_path)))
            except QalignError as exc:
                failed += 1
                click.echo(f"qalign: error: {exc}", err=True)
        if not results:
            raise QalignError("no pair of files could be compared")
        overall = pool([e for _, e in results])
        for side, keys in zip(("hypothesis", "reference"), unpaired):
            if keys:
                click.echo(
                    f"qalign: {len(keys)} file(s) only in the {side}: {', '.join(keys[:5])}"
                    + (" ..." if len(keys) > 5 else ""),
                    err=True,
                )
    click.echo(render("json" if as_json else out_format, results, overall, unpaired), nl=False)
    if plot:
        write_plot(plot, overall)
    if failed:
        raise SystemExit(1)
