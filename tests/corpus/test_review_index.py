"""`qalign batch -f html`: one review page per file, and OUTDIR/index.html worst first
(corpus/review_index.py, with the fake engine of conftest.py)."""

from __future__ import annotations

import json
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

from qalign.corpus.job import CorpusJob
from qalign.corpus.runner import run_corpus


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.audio: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag == "a" and self.rows:
            self.rows[-1].append(a["href"])
        elif tag == "audio":
            self.audio.append(a["src"])


def _parse(text: str) -> _Links:
    p = _Links()
    p.feed(text)
    return p


def test_batch_writes_a_page_per_file_and_an_index_worst_first(
    small_corpus: Path, tmp_path: Path, even_engine
) -> None:
    out = tmp_path / "out"
    job = CorpusJob(outdir=str(out), formats=("json", "html"), engine="sphinx")
    summary = run_corpus(small_corpus, job)
    assert summary.done == 4
    for key in ("spk1/a", "spk1/b", "spk2/c"):
        page = out / f"{key}.html"
        (src,) = _parse(page.read_text("utf-8")).audio
        # The page links its audio relative to itself, and the link resolves.
        audio = (page.parent / urllib.parse.unquote(src)).resolve()
        assert audio == (small_corpus / f"{key}.wav").resolve()
        starts = re.findall(r'<span class="w [^>]*data-start="([^"]+)"', page.read_text("utf-8"))
        words = json.loads((out / f"{key}.json").read_text("utf-8"), parse_float=str)["words"]
        assert starts == [w["start"] for w in words]
    index = (out / "index.html").read_text("utf-8")
    rows = [r for r in _parse(index).rows if r]
    assert rows[0] == ["spk1/a.html"]  # the only file with an unaligned word comes first
    assert sorted(rows[1:]) == [
        ["meeting.anna.html", "meeting.ben.html"],
        ["spk1/b.html"],
        ["spk2/c.html"],
    ]
    for links in rows:
        assert all((out / urllib.parse.unquote(h)).is_file() for h in links)
    assert "default-src 'none'" in index and "<script" not in index
    # The failed items are named too (they have no page), with stage and error.
    failed = index.split("2 failed", 1)[1]
    assert "spk2/broken" in failed and "decode-audio" in failed
    assert "empty" in failed and "read-text" in failed

    # A rerun skips every item and still lists them all.
    again = run_corpus(small_corpus, job)
    assert again.skipped == 4
    assert [r for r in _parse((out / "index.html").read_text("utf-8")).rows if r] == rows


def test_no_index_without_html(small_corpus: Path, tmp_path: Path, even_engine) -> None:
    out = tmp_path / "out"
    run_corpus(small_corpus, CorpusJob(outdir=str(out), formats=("json",), engine="sphinx"))
    assert not (out / "index.html").exists()
