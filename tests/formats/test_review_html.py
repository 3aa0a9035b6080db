"""The HTML review page's markup (formats/review_html.py), checked without a browser.

The browser behaviour (clicks, playback, keys, no network) is in test_review_html_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Source, Stretch, Unit
from qalign.errors import AudioError
from qalign.formats.review_html import flagged_stretches, loudness_envelope

REPO = Path(__file__).resolve().parents[2]


def review_sample() -> Alignment:
    """Statuses, a stretch, awkward floats and text that must stay text."""
    units = (
        Unit("Hello,", "hello", 0.1, 0.1 + 0.2, 0.97),
        Unit("<script>alert(1)</script>", "script", 0.4, 0.9, 0.55),
        Unit('"quoted"&amp;', "quoted", 1.0, 1.25, 0.81, status="uncertain"),
        Unit("never", "never", 1.25, 1.5, 0.05, status="unaligned"),
        Unit("said", "said", 1.5, 1.75, 0.04, status="unaligned"),
        Unit("world.", "world", 1.9, 2.3333333333333335, None),
        Unit("Bye", "bye", 2.5, 2.9, 0.3, status="uncertain"),
    )
    return Alignment(
        units,
        segments=(Segment("Hello ... world.", 0.1, 2.33, 0, 6), Segment("Bye", 2.5, 2.9, 6, 7)),
        duration=3.0,
        language="English",
        source=Source("sphinx", "test"),
        stretches=(Stretch(1.25, 1.75, 3, 5, "text not heard", "unaligned"),),
    )


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.words: list[dict[str, str | None]] = []
        self._in_word = False
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "span" and "w" in (a.get("class") or "").split():
            self.words.append({**a, "text": ""})
            self._in_word = True
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "span":
            self._in_word = False
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_word:
            self.words[-1]["text"] += data
        if self._in_script:
            self.scripts.append(data)


def parse(page: str) -> _Collect:
    p = _Collect()
    p.feed(page)
    return p


def test_words_carry_the_json_times_statuses_and_text():
    a = review_sample()
    page = parse(formats.dumps(a, "html"))
    # parse_float=str keeps the JSON's own spelling of each number.
    words = json.loads(formats.dumps(a, "json"), parse_float=str)["words"]
    assert [w["data-start"] for w in page.words] == [w["start"] for w in words]
    assert [w["data-end"] for w in page.words] == [w["end"] for w in words]
    assert page.words[0]["data-end"] == "0.30000000000000004"
    assert [w["data-status"] for w in page.words] == [u.status for u in a.units]
    assert [w["text"] for w in page.words] == [u.text for u in a.units]


def test_text_is_escaped_and_only_our_scripts_run():
    page_text = formats.dumps(review_sample(), "html")
    assert "<script>alert(1)</script>" not in page_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page_text
    page = parse(page_text)
    scripts = [a for t, a in page.tags if t == "script"]
    assert len(scripts) == 2 and scripts[0].get("type") == "application/json"


def test_one_audio_element_and_a_strict_policy_that_allows_only_the_inline_blocks():
    page_text = formats.dumps(review_sample(), "html", audio_href="a b.wav")
    page = parse(page_text)
    audios = [a for t, a in page.tags if t == "audio"]
    assert len(audios) == 1 and audios[0]["src"] == "a b.wav"
    (csp,) = [
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp.startswith("default-src 'none';")
    hashes = set(re.findall(r"'sha256-([^']+)'", csp))
    inline = re.findall(r"<script>(.*?)</script>", page_text, re.S) + re.findall(
        r"<style>(.*?)</style>", page_text, re.S
    )
    assert len(inline) == 2
    assert {
        base64.b64encode(hashlib.sha256(x.encode()).digest()).decode() for x in inline
    } == hashes
    assert not re.search(r"\son[a-z]+=|\sstyle=", page_text)  # nothing the policy would block
    assert "http://" not in page_text and "https://" not in page_text


def test_flagged_stretches_add_uncovered_runs_in_time_order():
    flags = flagged_stretches(review_sample())
    assert [(f.unit_start, f.unit_end, f.status) for f in flags] == [
        (2, 3, "uncertain"),
        (3, 5, "unaligned"),
        (6, 7, "uncertain"),
    ]
    page = parse(formats.dumps(review_sample(), "html"))
    links = [a for t, a in page.tags if t == "a" and "data-start" in a]
    assert [a["href"] for a in links] == ["#w2", "#w3", "#w6"]
    assert [a["data-start"] for a in links] == ["1.0", "1.25", "2.5"]


def test_embedded_audio_is_a_data_uri_of_the_file(tmp_path):
    wav = REPO / "examples" / "hello.wav"
    page = parse(formats.dumps(review_sample(), "html", audio=str(wav), embed_audio=True))
    (audio,) = [a for t, a in page.tags if t == "audio"]
    prefix = "data:audio/wav;base64,"
    assert audio["src"].startswith(prefix)
    assert base64.b64decode(audio["src"][len(prefix) :]) == wav.read_bytes()
    with pytest.raises(AudioError, match="no such file|No such file"):
        formats.dumps(review_sample(), "html", audio=str(tmp_path / "gone.wav"), embed_audio=True)


def test_loudness_envelope_follows_the_signal():
    sr = 16000
    x = np.zeros(sr, dtype=np.float32)
    x[4000:8000] = 0.5 * np.sin(np.arange(4000) * 0.3)
    x[12000:16000] = 0.005 * np.sin(np.arange(4000) * 0.3)  # 40 dB quieter
    hop, env = loudness_envelope(x, sr)
    levels = np.frombuffer(env, dtype=np.uint8)
    assert hop == 0.01 and levels.size == 100
    assert levels[:25].max() == 0  # digital silence
    assert levels[30:50].min() >= 250
    assert 70 <= int(np.median(levels[80:100])) <= 100  # -40 dB of a 60 dB range -> ~85
    hop_long, env_long = loudness_envelope(np.ones(16000 * 3000, dtype=np.float32), sr)
    assert len(env_long) <= 200_000 and hop_long > 0.01


def test_page_strip_data_comes_from_the_samples():
    samples = np.full(16000 * 2, 0.1, dtype=np.float32)
    page = formats.dumps(review_sample(), "html", samples=samples)
    block = re.search(
        r'<script type="application/json" id="qalign-data">(.*?)</script>', page, re.S
    )
    data = json.loads(block.group(1))
    assert data["hop"] == 0.01 and data["duration"] == 3.0
    assert base64.b64decode(data["envelope"]) == bytes([255]) * 200


def test_envelope_of_a_file_equals_the_envelope_of_its_samples():
    from qalign.audio import load_audio
    from qalign.formats.review_html import loudness_envelope_of_file

    wav = REPO / "examples" / "hello.wav"
    hop, streamed = loudness_envelope_of_file(wav)
    assert (hop, streamed) == loudness_envelope(load_audio(wav))
    assert len(streamed) == 838  # 8.378 s in 10 ms frames


def test_a_page_without_audio_has_an_audio_element_without_src():
    page = parse(formats.dumps(review_sample(), "html"))
    (audio,) = [a for t, a in page.tags if t == "audio"]
    assert "src" not in audio
