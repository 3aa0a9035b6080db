"""Our TextGrids as real readers see them: Praat itself, praatio, and the ``textgrid`` package.

Each reader must report, tier by tier, exactly the labelled intervals we
meant to write (times from :func:`qalign.formats.textgrid.positive_spans`),
and tiers that cover 0 .. duration without gaps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from qalign import formats
from qalign.alignment import Alignment, Unit
from qalign.formats.textgrid import positive_spans

GOLDEN = Path(__file__).parent / "golden"

# Prints one line per interval: tier name, start, end, label (tab-separated).
_DUMP_SCRIPT = """\
form Dump a TextGrid
    sentence path
endform
Read from file: path$
tiers = Get number of tiers
for tier from 1 to tiers
    name$ = Get tier name: tier
    interval_tier = Is interval tier: tier
    if interval_tier
        intervals = Get number of intervals: tier
        for i from 1 to intervals
            begin = Get start time of interval: tier, i
            finish = Get end time of interval: tier, i
            label$ = Get label of interval: tier, i
            appendInfoLine: name$, tab$, fixed$(begin, 17), tab$, fixed$(finish, 17), tab$, label$
        endfor
    endif
endfor
"""

Intervals = dict[str, list[tuple[float, float, str]]]


def _expected(alignment: Alignment) -> Intervals:
    """The labelled intervals the writer should produce, per tier."""
    groups = {
        "words": [(u.text, u.start, u.end) for u in alignment.units],
        "phones": [(p.label, p.start, p.end) for p in alignment.phones],
        "segments": [(s.text, s.start, s.end) for s in alignment.segments],
    }
    out = {}
    for name, items in groups.items():
        if items:
            spans = positive_spans([(s, e) for _, s, e in items], alignment.duration)
            out[name] = [(s, e, text) for (s, e), (text, _, _) in zip(spans, items)]
    return out


def _check(seen: Intervals, alignment: Alignment) -> None:
    """``seen`` holds every interval, empty ones included."""
    for name, intervals in seen.items():
        assert intervals[0][0] == 0 and intervals[-1][1] == alignment.duration, name
        assert all(a[1] == b[0] for a, b in zip(intervals, intervals[1:])), name
        assert all(s < e for s, e, _ in intervals), name
    labelled = {name: [iv for iv in ivs if iv[2]] for name, ivs in seen.items()}
    assert labelled == _expected(alignment)


def _alignments() -> list[Alignment]:
    tricky = Alignment(
        (
            Unit('a "quoted" word', "aquotedword", 0.1, 0.35),
            Unit("back\\slash", "backslash", 0.35, 0.35),
            Unit("日本語", "日本語", 0.1 * 4 + 1 / 3, 0.9),
            Unit("end", "end", 0.9, 1.5),
        ),
        duration=1.5,
    )
    return [formats.load(GOLDEN / "tg_sample.json"), tricky]


@pytest.fixture
def praat() -> str:
    exe = shutil.which("praat")
    if exe is None:
        pytest.skip("praat is not on PATH (Debian package praat)")
    return exe


def _praat_intervals(praat: str, script: Path, grid: Path) -> Intervals:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    out = subprocess.run(
        [praat, "--run", str(script), str(grid)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    seen: Intervals = {}
    for line in out.stdout.splitlines():
        name, start, end, label = line.split("\t", 3)
        seen.setdefault(name, []).append((float(start), float(end), label))
    return seen


@pytest.mark.clients
@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
@pytest.mark.parametrize("which", [0, 1], ids=["sample", "tricky"])
def test_praat_reads_what_we_wrote(praat, tmp_path, short, which):
    alignment = _alignments()[which]
    script = tmp_path / "dump.praat"
    script.write_text(_DUMP_SCRIPT, encoding="utf-8")
    grid = tmp_path / "out.TextGrid"
    formats.save(alignment, grid, short=short)
    _check(_praat_intervals(praat, script, grid), alignment)


@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
@pytest.mark.parametrize("which", [0, 1], ids=["sample", "tricky"])
def test_praatio_reads_what_we_wrote(tmp_path, short, which):
    from praatio import textgrid as ptg

    alignment = _alignments()[which]
    grid = tmp_path / "out.TextGrid"
    formats.save(alignment, grid, short=short)
    tg = ptg.openTextgrid(str(grid), includeEmptyIntervals=True)
    seen = {
        name: [(e.start, e.end, e.label) for e in tg.getTier(name).entries] for name in tg.tierNames
    }
    assert tg.maxTimestamp == alignment.duration
    _check(seen, alignment)


@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
@pytest.mark.parametrize("which", [0, 1], ids=["sample", "tricky"])
def test_textgrid_package_reads_what_we_wrote(tmp_path, short, which):
    textgrid = pytest.importorskip("textgrid")

    alignment = _alignments()[which]
    grid = tmp_path / "out.TextGrid"
    formats.save(alignment, grid, short=short)
    tg = textgrid.TextGrid()
    tg.read(str(grid), round_digits=20)  # it rounds to 5 decimals by default
    seen = {tier.name: [(iv.minTime, iv.maxTime, iv.mark) for iv in tier] for tier in tg}
    _check(seen, alignment)
