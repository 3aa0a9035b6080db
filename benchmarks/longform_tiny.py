"""Long audio end to end through the tiny random Qwen3 checkpoint: structure and peak memory.

The tiny checkpoint (``../shared/parity/fa-tiny``) has random weights, so no window
agrees with its text and the recovery search runs all the time: this proves the
mechanics, not accuracy. For each length, synthetic speech (:mod:`longform_synth`,
espeak-ng) goes through ``qalign align --engine qwen3 --model CHECKPOINT`` in a child
process whose own peak RSS is measured (:mod:`peak_rss`), and the JSON written is
checked (:func:`problems`): every transcript unit present once and in order, times
monotonic and inside the audio, statuses valid, stretches inside the units. The
last line compares the peaks of the longest and the shortest run. Usage::

    nice python benchmarks/longform_tiny.py --minutes 10 40            # issue target: 1.3x
    nice python benchmarks/longform_tiny.py --minutes 10 40 --phones   # with --phones sphinx
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from longform_synth import cached  # noqa: E402
from peak_rss import run_measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STATUSES = ("aligned", "uncertain", "unaligned")


def problems(alignment, transcript: str, duration: float) -> list[str]:  # type: ignore[no-untyped-def]
    """What is wrong with the structure of a long-form result (empty: nothing).

    Every unit of ``transcript`` (as the Qwen3 engine splits it) must be there once, in
    order; each unit inside ``[0, duration]`` with ``start <= end``, never starting
    before the previous unit's end; statuses valid; stretches in order, inside the audio
    and over valid unit ranges.
    """
    from qalign.aligner.qwen3.units import split_units

    out: list[str] = []
    expected = [(u.char_start, u.char_end) for u in split_units(transcript, "English")]
    got = [(u.char_start, u.char_end) for u in alignment.units]
    if got != expected:
        out.append(f"units: {len(got)} written, {len(expected)} in the transcript, or out of order")
    prev_end = 0.0
    for k, u in enumerate(alignment.units):
        if not (0.0 <= u.start <= u.end <= duration + 1e-6):
            out.append(f"unit {k} at {u.start}-{u.end} s is not inside 0-{duration} s")
        if u.start < prev_end - 1e-9:
            out.append(f"unit {k} starts at {u.start} s, before unit {k - 1} ends ({prev_end} s)")
        if u.status not in STATUSES:
            out.append(f"unit {k} has status {u.status!r}")
        prev_end = max(prev_end, u.end)
    n = len(alignment.units)
    for s in alignment.stretches:
        if not (
            0.0 <= s.start <= s.end <= duration + 1e-6 and 0 <= s.unit_start <= s.unit_end <= n
        ):
            out.append(f"stretch {s} is outside the audio or the units")
        if s.status not in STATUSES:
            out.append(f"stretch {s} has status {s.status!r}")
    starts = [s.start for s in alignment.stretches]
    if starts != sorted(starts):
        out.append("stretches are not in time order")
    return out[:20]


def run(minutes: float, model: Path, workdir: Path, *, phones: bool = False) -> dict:
    """One length end to end: exit code, seconds, peak RSS (MB), counts and problems."""
    from qalign import formats
    from qalign.audio import probe

    rec, wav, txt = cached(minutes, None, workdir)
    out = workdir / f"{wav.stem}.tiny.json"
    cmd = [sys.executable, "-m", "qalign.cli", "align", str(wav), str(txt), "--engine", "qwen3"]
    cmd += ["--model", str(model), "--device", "cpu", "--language", "en", "-o", str(out)]
    cmd += ["--phones", "sphinx"] if phones else []
    result = run_measured(cmd)
    row = {
        "minutes": minutes,
        "phones": phones,
        "audio_s": round(probe(wav).duration, 1),
        "rc": result["rc"],
        "seconds": round(result["seconds"], 1),
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "summary": next((line for line in result["stderr"].splitlines() if "aligned " in line), ""),
    }
    if not out.exists():
        row["problems"] = [f"no output written: {result['stderr'][-500:]}"]
        return row
    alignment = formats.load(out)
    out.unlink()
    row["units"] = len(alignment.units)
    row["statuses"] = {s: alignment.count(s) for s in STATUSES}
    row["phones_written"] = len(alignment.phones)
    row["problems"] = problems(alignment, rec.transcript, probe(wav).duration)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0, 40.0])
    ap.add_argument("--model", type=Path, default=REPO.parent / "shared" / "parity" / "fa-tiny")
    ap.add_argument("--phones", action="store_true", help="also time phones (--phones sphinx)")
    ap.add_argument("--cache", type=Path, help="keep the built recordings here and reuse them")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.cache or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for minutes in args.minutes:
            rows.append(run(minutes, args.model, workdir, phones=args.phones))
            print(json.dumps(rows[-1]), flush=True)
    low = min(rows, key=lambda r: r["minutes"])
    high = max(rows, key=lambda r: r["minutes"])
    ratio = high["peak_rss_mb"] / low["peak_rss_mb"]
    print(
        f"peak RSS: {low['peak_rss_mb']:.0f} MB at {low['minutes']:g} min, "
        f"{high['peak_rss_mb']:.0f} MB at {high['minutes']:g} min: {ratio:.2f}x (target 1.3x)"
    )
    return 1 if any(r["problems"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
