"""Our subtitle files read by real clients: ffprobe/ffmpeg (with libass) and pysubs2.

ffprobe lists one packet per cue with its start and duration: they must equal
the times we wrote. libass (ffmpeg's ``ass`` filter) renders our ASS files
without a warning; a broken file shows that the check can fail. pysubs2 reads
our SRT, WebVTT and ASS with the same times, and the same texts where pysubs2
does not interpret markup (it decodes neither WebVTT entities nor ASS escapes).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment
from qalign.formats.cues import build_cues, timed_cues

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
