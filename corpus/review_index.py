"""``OUTDIR/index.html``: the corpus's review pages, worst file first.

Written at the end of a ``qalign batch`` run that writes the ``html`` format. One row per
aligned item, in the order of ``alignment_report.csv`` (lowest share of aligned words
first, then lowest mean score), linking the item's page (or one page per speaker), with
its share of uncertain and unaligned words, mean score and unaligned stretches; then the
items that failed (stage and error, as in ``failures.csv``), which have no page. Like the
pages, it is one file with no script and a policy that forbids loading anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from qalign.atomic import write_atomic
from qalign.corpus.items import ItemResult

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fde8e8; }
tr.weak td { background: #fff4d6; }
"""


def _pages(outdir: Path, key: str) -> list[str]:
    """The item's review pages as recorded in its done marker (relative to ``outdir``)."""
    from qalign.corpus.outputs import marker_path

    try:
        data = json.loads(marker_path(outdir, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    listed = data.get("outputs") if isinstance(data, dict) else None
    return [p for p in listed or [] if isinstance(p, str) and p.lower().endswith(".html")]


def _percent(value: object) -> str:
    return "" if value in (None, "") else f"{100 * float(value):.1f}"  # type: ignore[arg-type]


def render_index(outdir: str | Path, results: Iterable[ItemResult]) -> str:
    """The index page's HTML for ``results`` (done and skipped items with a report)."""
    from qalign.corpus.reports import _worst_first

    root = Path(outdir)
    results = list(results)
    rows = sorted(
        (r.report for r in results if r.report and r.status != "failed"), key=_worst_first
    )
    lines = []
    for rank, row in enumerate(rows, 1):
        key = str(row.get("item", ""))
        pages = _pages(root, key)
        links = " ".join(
            f'<a href="{html.escape(urllib.parse.quote(page))}">'
            f"{html.escape(page.rsplit('/', 1)[-1])}</a>"
            for page in pages
        )
        unaligned = float(row.get("unaligned") or 0.0)
        uncertain = float(row.get("uncertain") or 0.0)
        kind = "bad" if unaligned > 0 else "weak" if uncertain > 0 else ""
        score = row.get("mean_score")
        lines.append(
            f'<tr class="{kind}"><td class="n">{rank}</td><td>{html.escape(key)}</td>'
            f"<td>{links or '(no page)'}</td>"
            f'<td class="n">{float(row.get("duration_s") or 0):.1f}</td>'
            f'<td class="n">{int(row.get("words") or 0)}</td>'
            f'<td class="n">{_percent(row.get("uncertain"))}</td>'
            f'<td class="n">{_percent(row.get("unaligned"))}</td>'
            f'<td class="n">{"" if score is None else f"{float(score):.3f}"}</td>'
            f'<td class="n">{int(row.get("unaligned_stretches") or 0)}</td></tr>'
        )
    digest = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    body = "\n".join(lines) or '<tr><td colspan="9">No aligned items.</td></tr>'
    failed = sorted((r for r in results if r.status == "failed"), key=lambda r: r.key)
    failures = ""
    if failed:
        cells = "\n".join(
            f"<tr><td>{html.escape(r.key)}</td><td>{html.escape(r.stage or '')}</td>"
            f"<td>{html.escape(r.error or '')}</td></tr>"
            for r in failed
        )
        failures = (
            f"<h2>{len(failed)} failed (no page; listed in failures.csv)</h2>\n<table>\n"
            f"<thead><tr><th>item</th><th>stage</th><th>error</th></tr></thead>\n"
            f"<tbody>\n{cells}\n</tbody>\n</table>\n"
        )
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>Review: {len(rows)} files</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Review: {len(rows)} files, worst first</h1>
<table>
<thead><tr><th>#</th><th>item</th><th>page</th><th>seconds</th><th>words</th>
<th>% uncertain</th><th>% unaligned</th><th>mean score</th><th>unaligned stretches</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
{failures}</body>
</html>
"""


def write_index(outdir: str | Path, results: Iterable[ItemResult]) -> Path:
    """Write ``OUTDIR/index.html`` atomically; returns its path."""
    path = Path(outdir) / "index.html"
    write_atomic(path, render_index(outdir, results))
    return path
