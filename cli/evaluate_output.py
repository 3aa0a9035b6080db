"""What ``qalign evaluate`` prints (table, JSON, CSV) and its ``--plot`` histogram."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from qalign.evaluation import STAT_FIELDS, Evaluation, report_header, report_rows, stats_dict

Result = tuple[str | None, Evaluation]


def _tiers(evaluation: Evaluation) -> dict:
    data: dict = {s.tier: stats_dict(s) for s in (evaluation.words, evaluation.phones) if s}
    data["notes"] = list(evaluation.notes)
    return data


def render(
    kind: str, results: Sequence[Result], overall: Evaluation, unpaired: tuple[list[str], list[str]]
) -> str:
    """The report as ``table``, ``json`` or ``csv`` text (ends with a newline).

    One file (``results`` holds one ``(None, evaluation)``): the tiers of that file.
    Folders: a row (or object) per file and an ``(all)`` row pooling them.
    """
    single = len(results) == 1 and results[0][0] is None
    if kind == "json":
        if single:
            data = _tiers(overall)
        else:
            data = {
                "files": {key: _tiers(e) for key, e in results},
                "overall": _tiers(overall),
                "only_in_hypothesis": unpaired[0],
                "only_in_reference": unpaired[1],
            }
        return json.dumps(data, indent=1, allow_nan=False) + "\n"
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["file", "tier", *STAT_FIELDS])
        rows = [(key or "", e) for key, e in results]
        if not single:
            rows.append(("(all)", overall))
        for key, evaluation in rows:
            for stats in (evaluation.words, evaluation.phones):
                if stats is not None:
                    numbers = stats_dict(stats)
                    writer.writerow(
                        [
                            key,
                            stats.tier,
                            *("" if numbers[f] is None else numbers[f] for f in STAT_FIELDS),
                        ]
                    )
        return buffer.getvalue()
    if single:
        lines = [report_header(), *report_rows(overall)]
    else:
        lines = [report_header(True)]
        for key, evaluation in results:
            lines.extend(report_rows(evaluation, key))
        lines.extend(report_rows(overall, "(all)"))
    lines.extend(f"note: {note}" for note in overall.notes)
    return "\n".join(lines) + "\n"


def require_matplotlib() -> None:
    """Raises:
    MissingDependencyError: matplotlib is not installed (``pip install "qalign[plot]"``).
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from qalign.errors import MissingDependencyError

        raise MissingDependencyError("matplotlib", "plot", "--plot") from None


def write_plot(path: str, evaluation: Evaluation, limit_ms: float = 200.0) -> None:
    """A PNG histogram of signed word boundary errors (hyp - ref, ms; starts and ends
    apart), clipped to +-``limit_ms``; written atomically."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from qalign.atomic import write_atomic

    pairs = np.asarray(evaluation.word_pairs, dtype=float).reshape(-1, 4)
    starts = (pairs[:, 0] - pairs[:, 2]) * 1000.0
    ends = (pairs[:, 1] - pairs[:, 3]) * 1000.0
    bins = np.linspace(-limit_ms, limit_ms, 81)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.hist(np.clip(starts, -limit_ms, limit_ms), bins=bins, alpha=0.6, label="word starts")
    ax.hist(np.clip(ends, -limit_ms, limit_ms), bins=bins, alpha=0.6, label="word ends")
    stats = evaluation.words
    ax.set_xlabel(f"hypothesis - reference (ms, clipped to +-{limit_ms:g})")
    ax.set_ylabel("boundaries")
    ax.set_title(
        f"{stats.matched} matched words, mean |shift| {stats.mean_shift_ms:.1f} ms, "
        f"{100 * stats.within_50ms:.0f}% within 50 ms"
    )
    ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    write_atomic(path, buffer.getvalue())
