"""``failures.csv`` and ``alignment_report.csv``: what went wrong, and which files to check.

``alignment_report.csv`` has one row per aligned item, worst first (lowest share of
aligned words, then lowest mean score), so the files worth listening to come first:

==================  ==============================================================
column              meaning
==================  ==============================================================
item                the item's key (its path under OUTDIR without extension)
audio               the audio file
duration_s          seconds of audio the item covers
words               words (units) aligned
aligned             share (0..1) of words with status ``aligned``
uncertain           share with status ``uncertain``
unaligned           share with status ``unaligned``
mean_score          mean word score (empty when the engine gives none)
unaligned_stretches stretches of text the engine could not place
engine              the engine that aligned it
speaker             the item's speaker (speaker folder, manifest ``speaker``, or the
                    utterance tiers' names joined by ``+``); empty when unknown
==================  ==============================================================

``failures.csv`` has one row per failed item: ``item``, ``stage`` (``discover``,
``read-text``, ``decode-audio``, ``read-utterances``, ``align``, ``write``; with the
Ray executor also ``worker``: the item's worker died on every attempt), ``error``.
Both are written atomically at the end of the run (header only when empty).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from qalign.alignment import Alignment
from qalign.corpus.items import ItemResult

REPORT_COLUMNS = (
    "item",
    "audio",
    "duration_s",
    "words",
    "aligned",
    "uncertain",
    "unaligned",
    "mean_score",
    "unaligned_stretches",
    "engine",
    "speaker",
)
FAILURE_COLUMNS = ("item", "stage", "error")


def report_row(
    key: str,
    audio: str,
    alignments: Sequence[Alignment],
    seconds: float,
    speakers: Sequence[str | None] = (),
) -> dict:
    """The report row of an item aligned as ``alignments`` (one per speaker, or one).

    ``speakers`` are the item's speaker names (``None`` for unknown).
    """
    units = [u for a in alignments for u in a.units]
    n = len(units)
    counts = {
        s: sum(1 for u in units if u.status == s) for s in ("aligned", "uncertain", "unaligned")
    }
    scores = [u.score for u in units if u.score is not None]
    stretches = sum(
        1
        for a in alignments
        for st in a.stretches
        if st.status == "unaligned" and st.unit_end > st.unit_start
    )
    engines = sorted({a.source.engine for a in alignments})
    return {
        "item": key,
        "audio": audio,
        "duration_s": round(seconds, 3),
        "words": n,
        "aligned": round(counts["aligned"] / n, 4) if n else 0.0,
        "uncertain": round(counts["uncertain"] / n, 4) if n else 0.0,
        "unaligned": round(counts["unaligned"] / n, 4) if n else 0.0,
        "unaligned_words": counts["unaligned"],
        "mean_score": round(sum(scores) / len(scores), 4) if scores else None,
        "unaligned_stretches": stretches,
        "engine": "+".join(engines),
        "speaker": "+".join(s for s in speakers if s) or None,
    }


def _worst_first(row: dict) -> tuple[float, float, str]:
    score = row.get("mean_score")
    return (
        float(row.get("aligned") or 0.0),
        float(score) if score is not None else 1.0,
        str(row.get("item", "")),
    )


def _csv(columns: Sequence[str], rows: Iterable[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return buffer.getvalue()


def write_reports(
    outdir: str | Path, results: Iterable[ItemResult]
) -> tuple[Path | str, Path | str]:
    """Write ``failures.csv`` and ``alignment_report.csv`` under ``outdir`` (a folder or
    an fsspec URL); returns their paths (URLs for a URL)."""
    from qalign.corpus.outputs import write_file

    results = list(results)
    failures = sorted((r for r in results if r.status == "failed"), key=lambda r: r.key)
    rows = sorted(
        (r.report for r in results if r.report and r.status != "failed"), key=_worst_first
    )
    fail_path = write_file(
        outdir,
        "failures.csv",
        _csv(
            FAILURE_COLUMNS, ({"item": r.key, "stage": r.stage, "error": r.error} for r in failures)
        ),
    )
    report_path = write_file(outdir, "alignment_report.csv", _csv(REPORT_COLUMNS, rows))
    return fail_path, report_path
