"""`qalign align ... -o page.html`: the review page links the audio relative to the page,
or embeds it with --embed-audio (cli/align.py, cli/common.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from qalign.cli.common import review_href
from qalign.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WAV = REPO / "examples" / "hello.wav"
SAMPLE_TXT = REPO / "examples" / "hello.txt"


def test_audio_url_is_relative_to_the_page(tmp_path):
    (tmp_path / "pages").mkdir()
    audio = tmp_path / "my audio#1.wav"
    assert review_href(str(audio), str(tmp_path / "pages" / "a.html")) == "../my%20audio%231.wav"
    assert review_href(str(audio), str(tmp_path / "a.html")) == "my%20audio%231.wav"
    assert review_href("-", str(tmp_path / "a.html")) is None


def test_align_writes_a_linked_and_an_embedded_page(tmp_path):
    pytest.importorskip("pocketsphinx", reason="the sphinx extra is not installed")
    shutil.copy(SAMPLE_WAV, tmp_path / "hello.wav")
    (tmp_path / "pages").mkdir()
    linked, embedded = tmp_path / "pages" / "hello.html", tmp_path / "embedded.html"
    args = ["align", str(tmp_path / "hello.wav"), str(SAMPLE_TXT), "--engine", "sphinx", "-q"]
    assert main([*args, "-o", str(linked), "-o", str(tmp_path / "hello.json")]) == 0
    assert main([*args, "--embed-audio", "-o", str(embedded)]) == 0
    assert re.search(r'<audio [^>]*src="\.\./hello\.wav"', linked.read_text("utf-8"))
    assert re.search(r'<audio [^>]*src="data:audio/wav;base64,', embedded.read_text("utf-8"))
    words = re.findall(r'data-start="([^"]+)"', linked.read_text("utf-8"))
    json_words = json.loads((tmp_path / "hello.json").read_text("utf-8"), parse_float=str)["words"]
    assert words == [w["start"] for w in json_words] and len(words) == 17
    # The strip was drawn from the decoded samples (not an empty envelope).
    assert '"envelope": ""' not in linked.read_text("utf-8")


def test_audio_too_large_to_embed_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("qalign.formats.review_html.MAX_EMBED_BYTES", 1000)
    out = tmp_path / "page.html"
    # The transcript does not exist: the size is reported before it is even read.
    missing = str(tmp_path / "missing.txt")
    rc = main(["align", str(SAMPLE_WAV), missing, "--embed-audio", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "too large to embed" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("qalign: error:")]) == 1
    assert not out.exists()
