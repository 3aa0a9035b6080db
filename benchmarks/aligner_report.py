"""Tables, speed ratios and target checks for the aligner benchmark's results.

A result row is the dict a worker returns (see ``aligner_worker.py``), or a
failed row ``{"engine", "dtype_requested", "clip_s", "batch", "error"}``. Rows
are named by engine and requested dtype: ``ours/bf16``, ``transformers/default``,
``official/bf16``. Ratios divide qalign's audio seconds per wall second by a
baseline's, for the same clip and batch, from the same run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The issue's targets on a 2-core CPU.
TARGET_BF16_AUDIO_S_PER_S = 10.0
TARGET_PEAK_RSS_GB_300S = 2.5
TARGET_RATIO = {"official/default": 2.0, "transformers/default": 1.5}


def variant(row: dict) -> str:
    """``engine/dtype`` as requested, e.g. ``ours/bf16``, ``official/default``."""
    return f"{row['engine']}/{row['dtype_requested']}"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def results_table(rows: Sequence[dict]) -> str:
    """A markdown table with one line per measurement."""
    lines = [
        "| engine | dtype (loaded) | clip s | batch | audio s / s | best s | import s | load s "
        "| peak RSS GB | run peak GB | words |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['engine']} | {r['dtype_requested']} | {r['clip_s']:g} | {r['batch']} | "
                f"failed: {r['error'][:80]} | | | | | | |"
            )
            continue
        dtype = r["dtype_requested"]
        if r["dtype"] not in (dtype, {"bf16": "bfloat16", "fp32": "float32"}.get(dtype)):
            dtype = f"{dtype} ({r['dtype']})"
        words = sorted(set(r["words_out"]))
        lines.append(
            f"| {r['engine']} | {dtype} | {r['clip_s']:g} | {r['batch']} | "
            f"{_fmt(r['audio_s_per_s'])} | {_fmt(r['best_s'])} | {_fmt(r.get('import_s'))} | "
            f"{_fmt(r['load_s'])} | "
            f"{_fmt(r['peak_rss_gb'])} | {_fmt(r.get('run_peak_rss_gb'))} | "
            f"{','.join(map(str, words))} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Ratio:
    """qalign's speed over a baseline's for one clip and batch (``None`` when either failed)."""

    ours: str
    baseline: str
    clip_s: float
    batch: int
    ratio: float | None


def ratios(rows: Sequence[dict]) -> list[Ratio]:
    """Every ``ours/*`` row against every baseline row with the same clip and batch."""
    ok = {(variant(r), r["clip_s"], r["batch"]): r for r in rows if "error" not in r}
    seen: dict[str, None] = {}
    for r in rows:
        seen.setdefault(variant(r), None)
    ours = [v for v in seen if v.startswith("ours/")]
    baselines = [v for v in seen if not v.startswith("ours/")]
    points = list(dict.fromkeys((r["clip_s"], r["batch"]) for r in rows))
    out = []
    for o in ours:
        for b in baselines:
            for clip, batch in points:
                mine, theirs = ok.get((o, clip, batch)), ok.get((b, clip, batch))
                value = None
                if mine and theirs and theirs["audio_s_per_s"] > 0:
                    value = mine["audio_s_per_s"] / theirs["audio_s_per_s"]
                out.append(Ratio(o, b, clip, batch, value))
    return out


def ratios_table(items: Iterable[Ratio]) -> str:
    """A markdown table: one line per (qalign dtype, clip, batch), one column per baseline."""
    items = list(items)
    baselines = list(dict.fromkeys(r.baseline for r in items))
    if not baselines:
        return "(no baseline measured)"
    grid: dict[tuple[str, float, int], dict[str, float | None]] = {}
    for r in items:
        grid.setdefault((r.ours, r.clip_s, r.batch), {})[r.baseline] = r.ratio
    head = "| qalign | clip s | batch | " + " | ".join(f"× {b}" for b in baselines) + " |"
    lines = [head, "|---|---:|---:|" + "---:|" * len(baselines)]
    for (ours, clip, batch), values in grid.items():
        cells = " | ".join(_fmt(values.get(b)) for b in baselines)
        lines.append(f"| {ours} | {clip:g} | {batch} | {cells} |")
    return "\n".join(lines)


def target_checks(
    rows: Sequence[dict], ours_dtype: str = "bf16"
) -> list[tuple[str, bool | None, str]]:
    """The issue's targets as ``(target, met, detail)``; ``met`` is ``None`` when not measured.

    Speed, memory and ratios are judged on ``ours/<ours_dtype>`` rows: the
    slowest bf16 point for speed, the 300 s clip at batch 1 for memory, and the
    smallest ratio over all shared points for each baseline at its defaults.
    """
    mine = [r for r in rows if variant(r) == f"ours/{ours_dtype}" and "error" not in r]
    checks: list[tuple[str, bool | None, str]] = []
    if mine:
        worst = min(mine, key=lambda r: r["audio_s_per_s"])
        checks.append(
            (
                f"≥ {TARGET_BF16_AUDIO_S_PER_S:g} s of audio per second ({ours_dtype})",
                worst["audio_s_per_s"] >= TARGET_BF16_AUDIO_S_PER_S,
                f"slowest: {worst['audio_s_per_s']:.2f} at {worst['clip_s']:g} s, batch {worst['batch']}",
            )
        )
    else:
        checks.append(
            (f"≥ {TARGET_BF16_AUDIO_S_PER_S:g} s of audio per second", None, "not measured")
        )
    long = [r for r in mine if r["clip_s"] >= 300 and r["batch"] == 1]
    if long:
        peak = max(r["peak_rss_gb"] for r in long)
        checks.append(
            (
                f"peak RSS ≤ {TARGET_PEAK_RSS_GB_300S:g} GB for a 300 s clip ({ours_dtype})",
                peak <= TARGET_PEAK_RSS_GB_300S,
                f"{peak:.2f} GB",
            )
        )
    else:
        checks.append(
            (
                f"peak RSS ≤ {TARGET_PEAK_RSS_GB_300S:g} GB for a 300 s clip",
                None,
                "no 300 s batch-1 run",
            )
        )
    all_ratios = [r for r in ratios(rows) if r.ours == f"ours/{ours_dtype}"]
    for baseline, need in TARGET_RATIO.items():
        values = [r for r in all_ratios if r.baseline == baseline and r.ratio is not None]
        if not values:
            checks.append((f"≥ {need:g}× {baseline}", None, "not measured"))
            continue
        low = min(values, key=lambda r: r.ratio)  # type: ignore[arg-type,return-value]
        checks.append(
            (
                f"≥ {need:g}× {baseline}",
                low.ratio >= need,  # type: ignore[operator]
                f"lowest {low.ratio:.2f}× at {low.clip_s:g} s, batch {low.batch}",
            )
        )
    return checks


def checks_table(checks: Sequence[tuple[str, bool | None, str]]) -> str:
    """A markdown table of :func:`target_checks`."""
    mark = {True: "met", False: "NOT met", None: "not measured"}
    lines = ["| target | result | detail |", "|---|---|---|"]
    lines += [f"| {name} | {mark[met]} | {detail} |" for name, met, detail in checks]
    return "\n".join(lines)
