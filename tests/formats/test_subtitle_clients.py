"""Our subtitle files read by real clients: ffprobe/ffmpeg (with libass), pysubs2 and
headless Chromium (a <track> element's TextTrack cues).

ffprobe lists one packet per cue with its start and duration: they must equal
the times we wrote. libass (ffmpeg's ``ass`` filter) renders our ASS files
without a warning; a broken file shows that the check can fail. pysubs2 reads
our SRT, WebVTT and ASS with the same times, and the same texts where pysubs2
does not interpret markup (it decodes neither WebVTT entities nor ASS escapes).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Segment, Unit
from qalign.formats.cues import build_cues, timed_cues
from qalign.formats.safetext import visible
from qalign.formats.subtitle_transcript import parse_subtitle_document, retime

GOLDEN = Path(__file__).parent / "golden"
_MARKUP = re.compile(r"[<>&{}\\]")

pytestmark = pytest.mark.clients


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not on PATH (install ffmpeg to run client checks)")
    return path


@pytest.fixture
def sample() -> Alignment:
    return formats.load(GOLDEN / "srt_sample_input.json")


def _intended_ms(sample: Alignment, fmt: str) -> list[tuple[int, int]]:
    """(start, end) in ms of each cue as the writer means to write it."""
    factor = 10 if fmt.startswith("ass") else 1
    tick = 0.01 if fmt.startswith("ass") else 0.001
    return [(s * factor, e * factor) for s, e, _c in timed_cues(sample, tick)]


def _ffprobe_packets(path: Path) -> list[tuple[int, int]]:
    out = subprocess.run(
        [
            _need("ffprobe"),
            "-v",
            "error",
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    packets = []
    for line in out.split():
        start, duration = (float(x) for x in line.split(",")[:2])
        packets.append((round(start * 1000), round((start + duration) * 1000)))
    return packets


@pytest.mark.parametrize(
    "name, fmt, options",
    [
        ("x.srt", "srt", {}),
        ("x.vtt", "vtt", {}),
        ("w.vtt", "vtt", {"word_timestamps": True}),
        ("x.ass", "ass", {}),
        ("k.ass", "ass-karaoke", {}),
    ],
)
def test_ffprobe_lists_our_cue_times(sample, tmp_path, name, fmt, options):
    path = tmp_path / name
    formats.save(sample, path, fmt, **options)
    expected = _intended_ms(sample, fmt)
    assert len(expected) == 6
    assert _ffprobe_packets(path) == expected


def _libass_warnings(path: Path, seconds: float) -> list[str]:
    _need("ffmpeg")
    filters = subprocess.run(
        ["ffmpeg", "-hide_banner", "-filters"], capture_output=True, text=True, timeout=60
    )
    if not re.search(r"\sass\s", filters.stdout):
        pytest.skip("this ffmpeg has no libass 'ass' filter")
    run = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "warning",
            "-nostdin",
            "-f",
            "lavfi",
            "-i",
            f"color=size=320x180:rate=4:duration={seconds}",
            "-vf",
            f"ass={path.name}",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    # Missing fonts for a script (CJK on a bare machine) is the machine's affair, not the file's.
    return [ln for ln in run.stderr.splitlines() if ln.strip() and "fontselect" not in ln]


@pytest.mark.parametrize("fmt", ["ass", "ass-karaoke"])
def test_libass_renders_our_ass_without_warnings(sample, tmp_path, fmt):
    path = tmp_path / "x.ass"
    formats.save(sample, path, fmt)
    assert _libass_warnings(path, sample.duration) == []
    demux = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "warning",
            "-nostdin",
            "-i",
            str(path),
            "-map",
            "0",
            "-c:s",
            "ass",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert demux.returncode == 0 and demux.stderr.strip() == ""


def test_libass_check_catches_a_broken_file(sample, tmp_path):
    path = tmp_path / "broken.ass"
    text = (
        formats.dumps(sample, "ass")
        .replace("PlayResX: 1920\n", "")
        .replace("0:00:00.50", "0:00:0x.50")
    )
    path.write_text(text, encoding="utf-8")
    assert _libass_warnings(path, 2) != []


@pytest.mark.parametrize(
    "fmt, options",
    [
        ("srt", {}),
        ("vtt", {}),
        ("vtt", {"word_timestamps": True}),
        ("ass", {}),
        ("ass-karaoke", {}),
    ],
)
def test_pysubs2_reads_our_files(sample, tmp_path, fmt, options):
    pysubs2 = pytest.importorskip("pysubs2")
    path = tmp_path / ("x." + fmt.split("-")[0])
    formats.save(sample, path, fmt, **options)
    subs = pysubs2.load(str(path))
    expected_times = _intended_ms(sample, fmt)
    assert [(e.start, e.end) for e in subs] == expected_times
    cue_texts = [c.text for c in build_cues(sample)]
    plain = [(e.plaintext, want) for e, want in zip(subs, cue_texts) if not _MARKUP.search(want)]
    assert len(plain) >= 4
    if not options:
        assert all(got == want for got, want in plain)


# -- hostile text, word states, karaoke, styles, re-timing --------------------------

_HOSTILE = [
    ["<i>italic</i>", "{\\b1}bold"],
    ["[00:05.00]", "in", "<00:01.00>text"],
    ["42"],
    ["00:00:01,000", "-->", "00:00:02,000"],
    ["bell\x07", "&amp;", "a<b", "x>y"],
]


def _hostile() -> Alignment:
    """Cues whose text looks like markup, a timing line, a cue number, LRC tags or controls."""
    units, segments, t = [], [], 0.5
    for words in _HOSTILE:
        first = len(units)
        for word in words:
            units.append(Unit(word, "x", round(t, 3), round(t + 0.3, 3)))
            t += 0.4
        segments.append(
            Segment(" ".join(words), units[first].start, units[-1].end, first, len(units))
        )
        t += 1.5
    return Alignment(tuple(units), tuple(segments), duration=round(t + 1, 3))


def _shown(text: str) -> str:
    """What a viewer sees of a cue text we wrote: the text, controls made visible."""
    return visible(text).replace("\u2060", "")


@pytest.mark.parametrize("fmt", ["srt", "vtt", "ass", "lrc", "lrc-enhanced"])
def test_hostile_text_reads_back_as_written_text(tmp_path, fmt):
    a = _hostile()
    text = formats.dumps(a, fmt)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", text)
    back = formats.loads(text, fmt)
    assert [_shown(s.text) for s in back.segments] == [_shown(s.text) for s in a.segments]
    if fmt == "lrc-enhanced":
        assert [u.text for u in back.units] == [_shown(u.text) for u in a.units]


def test_hostile_srt_keeps_cue_count_and_text_in_ffprobe_and_pysubs2(tmp_path):
    path = tmp_path / "h.srt"
    a = _hostile()
    formats.save(a, path)
    expected = [(s, e) for s, e, _c in timed_cues(a, 0.001)]
    assert _ffprobe_packets(path) == expected
    pysubs2 = pytest.importorskip("pysubs2")
    subs = pysubs2.load(str(path))
    assert [(e.start, e.end) for e in subs] == expected
    # pysubs2 drops any {...} block from plain text; the other cues must be intact.
    got = [e.plaintext.replace("\u2060", "") for e in subs]
    assert got[1:] == [_shown(s.text) for s in a.segments[1:]]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if path:
            return path
    pytest.skip("headless Chromium is not installed (Debian: apt install chromium)")


_TRACK_PAGE = """<!doctype html><html><body><video id="v" muted></video>
<script>
const text = {vtt};
const track = document.createElement('track');
track.kind = 'subtitles';
track.default = true;
track.src = URL.createObjectURL(new Blob([text], {{type: 'text/vtt'}}));
track.addEventListener('load', () => {{
  const cues = Array.from(track.track.cues).map(
    c => [Math.round(c.startTime * 1000), Math.round(c.endTime * 1000), c.getCueAsHTML().textContent]);
  document.body.setAttribute('data-cues', JSON.stringify(cues));
}});
track.addEventListener('error', () => document.body.setAttribute('data-cues', '"error"'));
document.getElementById('v').appendChild(track);
</script></body></html>
"""


def _browser_cues(vtt: str, tmp_path: Path) -> list[list]:
    """The cues Chromium's TextTrack reports for ``vtt``, loaded through a <track>."""
    page = tmp_path / "track.html"
    literal = json.dumps(vtt).replace("</", "<\\/")  # a JS string that cannot end the script
    page.write_text(_TRACK_PAGE.format(vtt=literal), encoding="utf-8")
    run = subprocess.run(
        [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    found = re.search(r'data-cues="([^"]*)"', run.stdout)
    assert found, f"the page reported no cues: {run.stderr[-1500:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [{}, {"word_timestamps": True}, {"highlight_words": True}, {"preset": "cjk"}],
)
def test_chromium_track_reports_our_webvtt_cues(sample, tmp_path, options):
    vtt = formats.dumps(sample, "vtt", **options)
    got = _browser_cues(vtt, tmp_path)
    back = formats.loads(vtt, "vtt")
    want = [
        [round(s.start * 1000), round(s.end * 1000), s.text.replace("\n", "")]
        for s in back.segments
    ]
    assert [g[:2] for g in got] == [w[:2] for w in want]
    assert [g[2].replace("\n", "") for g in got] == [w[2] for w in want]
    if options.get("highlight_words"):
        assert len(got) == len(sample.units)


def test_chromium_track_reads_hostile_text_as_text(tmp_path):
    a = _hostile()
    got = _browser_cues(formats.dumps(a, "vtt"), tmp_path)
    assert [g[2] for g in got] == [_shown(s.text) for s in a.segments]
    assert [g[:2] for g in got] == [[s, e] for s, e, _c in timed_cues(a, 0.001)]


def _subtitles_filter(path: Path, seconds: float) -> list[str]:
    """Render ``path`` with ffmpeg's ``subtitles`` filter (libass) on a blank video."""
    _need("ffmpeg")
    run = subprocess.run(
        ["ffmpeg", "-v", "warning", "-nostdin", "-f", "lavfi", "-i",
         f"color=size=320x180:rate=4:duration={seconds}", "-vf", f"subtitles={path.name}",
         "-f", "null", "-"],
        capture_output=True, text=True, cwd=path.parent, timeout=120,
    )  # fmt: skip
    if "No such filter" in run.stderr:
        pytest.skip("this ffmpeg has no libass 'subtitles' filter")
    assert run.returncode == 0, run.stderr[-2000:]
    return [ln for ln in run.stderr.splitlines() if ln.strip() and "fontselect" not in ln]


@pytest.mark.parametrize(
    "options",
    [
        {"karaoke_tag": "k"},
        {"karaoke_tag": "kf", "ass_font": "DejaVu Sans", "ass_size": 48, "ass_primary": "#FF8800"},
        {"karaoke_tag": "ko", "preset": "karaoke", "cues": "lines"},
    ],
)
def test_libass_renders_our_karaoke_through_the_subtitles_filter(sample, tmp_path, options):
    path = tmp_path / "k.ass"
    formats.save(sample, path, "ass-karaoke", **options)
    text = path.read_text(encoding="utf-8")
    tag = options["karaoke_tag"]
    assert f"{{\\{tag}" in text
    for line, (start, end, _c) in zip(
        [ln for ln in text.splitlines() if ln.startswith("Dialogue")],
        timed_cues(sample, 0.01, **options),
    ):
        assert sum(int(k) for k in re.findall(rf"\{{\\{tag}(\d+)\}}", line)) == end - start
    assert _subtitles_filter(path, sample.duration) == []
    subs = pytest.importorskip("pysubs2").load(str(path))
    assert [(e.start, e.end) for e in subs] == [
        (s * 10, e * 10) for s, e, _ in timed_cues(sample, 0.01, **options)
    ]
    if "ass_primary" in options:
        style = subs.styles["Default"]
        assert (style.primarycolor.r, style.primarycolor.g, style.primarycolor.b) == (
            0xFF,
            0x88,
            0x00,
        )
        assert style.fontname == "DejaVu Sans" and style.fontsize == 48


def test_subtitles_filter_check_catches_a_broken_file(sample, tmp_path):
    path = tmp_path / "broken.ass"
    text = formats.dumps(sample, "ass-karaoke")
    path.write_text(
        text.replace("PlayResX: 1920\n", "").replace("0:00:00.50", "0:00:0x.50"), "utf-8"
    )
    assert _subtitles_filter(path, 2) != []


_RETIME_ASS = """\
[Script Info]
ScriptType: v4.00+
PlayResX: 640
PlayResY: 360

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1
Style: Top,Georgia,30,&H0000FFFF,&H000000FF,&H00000000,&H00000000,-1,0,0,0,100,100,0,0,1,2,2,8,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:01:00.00,0:01:02.00,Top,Anna,0,0,0,,{\\i1}Hello there,{\\i0}\\Nmy friend.
Dialogue: 0,0:01:03.00,0:01:04.00,Default,Bob,0,0,0,,How are you?
"""


def test_a_retimed_ass_keeps_its_styles_in_pysubs2_and_renders(tmp_path):
    pysubs2 = pytest.importorskip("pysubs2")
    doc = parse_subtitle_document(_RETIME_ASS, "ass")
    units, pos, t = [], 0, 1.0
    for word in doc.transcript.split():
        at = doc.transcript.index(word, pos)
        pos = at + len(word)
        units.append(Unit(word, word.lower(), round(t, 2), round(t + 0.3, 2), None, at, pos))
        t += 0.4
    result = retime(doc, Alignment(tuple(units), duration=10.0))
    path = tmp_path / "retimed.ass"
    path.write_text(doc.render(result.alignment), encoding="utf-8")
    before, after = pysubs2.SSAFile.from_string(_RETIME_ASS), pysubs2.load(str(path))
    assert set(after.styles) == set(before.styles) == {"Default", "Top"}
    for name in before.styles:
        assert after.styles[name] == before.styles[name]
    assert [(e.style, e.name, e.text) for e in after] == [(e.style, e.name, e.text) for e in before]
    assert after[0].start == 1000 and after[1].start == round(units[4].start * 1000)
    assert _subtitles_filter(path, 5) == []
