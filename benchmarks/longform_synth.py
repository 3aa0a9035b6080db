"""Long-form alignment on synthetic speech with exact word times, clean and with injected defects.

A recording is built from paragraphs of generated English sentences, each
spoken by espeak-ng (:mod:`synth`), joined with 0.6 s pauses; the reference
word times come from the synthesiser. Defects, each on its own:

``deleted``          a paragraph deleted from the transcript (spoken, not in the text)
``unspoken_start``   a paragraph in the text that nobody speaks, at the start
``unspoken_middle``  ... in the middle
``unspoken_end``     ... at the end
``silence60``        60 s of silence inserted in the audio
``noise30``          30 s of white noise inserted in the audio
``intro18``          18 s of unscripted speech before the first paragraph
``swapped``          two paragraphs spoken in the other order

Each run writes the WAV and the transcript, runs ``qalign align`` in a child
process (its peak RSS measured with ``wait4``) and scores the output: mean
word-start error of words outside the defect, share of unspoken words
``unaligned``, share of spoken words placed (aligned or uncertain) within
100 ms, the exit code and the summary line. Usage::

    nice python benchmarks/longform_synth.py --minutes 10 60 120 --engine sphinx
    nice python benchmarks/longform_synth.py --minutes 4 --defects all
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth  # noqa: E402
from peak_rss import run_measured  # noqa: E402

SR = 16000
PAUSE = 0.6
DEFECTS = (
    "deleted",
    "unspoken_start",
    "unspoken_middle",
    "unspoken_end",
    "silence60",
    "noise30",
    "intro18",
    "swapped",
)

_SUBJECTS = (
    "the farmer",
    "my sister",
    "the old captain",
    "a young doctor",
    "the teacher",
    "our neighbour",
    "the mayor",
    "a tired student",
    "the baker",
    "his brother",
    "the pilot",
    "a quiet painter",
)
_VERBS = (
    "carried",
    "painted",
    "bought",
    "found",
    "watched",
    "cleaned",
    "opened",
    "followed",
    "repaired",
    "described",
    "borrowed",
    "noticed",
)
_OBJECTS = (
    "a wooden chair",
    "the green boat",
    "an empty basket",
    "the broken window",
    "a heavy letter",
    "the silver bicycle",
    "a warm blanket",
    "the narrow bridge",
    "a small garden",
    "the yellow lamp",
    "a long ladder",
    "the kitchen table",
)
_PLACES = (
    "near the river",
    "after the storm",
    "before dinner",
    "in the village",
    "during the winter",
    "on a cold morning",
    "behind the station",
    "at the market",
    "under the trees",
    "by the harbour",
)


def paragraph(rng: random.Random, sentences: int = 6) -> str:
    """A paragraph of simple generated sentences (deterministic for a seeded ``rng``)."""
    out = []
    for _ in range(sentences):
        s = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_PLACES)}"
        if rng.random() < 0.5:
            s += f" and {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        out.append(s[0].upper() + s[1:] + ".")
    return " ".join(out)


@dataclass
class Recording:
    """Audio, the transcript given to the aligner, and what is true about them.

    ``truth[k]`` is the exact start (s) of transcript word ``k`` when it is spoken
    in order; ``unspoken`` are transcript words nobody says; ``defect`` is the
    defect's span in the audio (s) and its words, excluded from the clean-word error.
    """

    samples: np.ndarray
    transcript: str
    truth: dict[int, float]
    unspoken: set[int] = field(default_factory=set)
    defect_words: set[int] = field(default_factory=set)
    defect_span: tuple[float, float] | None = None


def _speak(text: str) -> tuple[np.ndarray, list[tuple[int, float]]]:
    """Samples and (char offset, start s) of each single-token reference word."""
    s = synth.synthesize(text)
    words = [(u.char_start, u.start) for u in s.reference.units if " " not in u.text]
    return s.samples, words


def build(minutes: float, defect: str | None = None, seed: int = 0) -> Recording:
    """A recording of about ``minutes`` of speech, with one defect (or none)."""
    rng = random.Random(seed)
    paras: list[str] = []
    spoken: list[tuple[np.ndarray, list[tuple[int, float]]]] = []
    total = 0.0
    while total < minutes * 60:
        text = paragraph(rng)
        samples, words = _speak(text)
        paras.append(text)
        spoken.append((samples, words))
        total += samples.size / SR + PAUSE
    n = len(paras)
    extra = paragraph(random.Random(seed + 1000))
    order = list(range(n))  # paragraphs in the audio, by index into paras
    text_paras = list(range(n))  # paragraphs in the transcript (index into paras; -1: extra)
    mid = n // 2
    if defect == "deleted":
        text_paras.remove(mid)
    elif defect == "unspoken_start":
        text_paras.insert(0, -1)
    elif defect == "unspoken_middle":
        text_paras.insert(mid, -1)
    elif defect == "unspoken_end":
        text_paras.append(-1)
    elif defect == "swapped":
        order[mid], order[mid + 1] = order[mid + 1], order[mid]
    # Transcript and char offsets of each paragraph in it.
    offsets: dict[int, int] = {}
    pieces, pos = [], 0
    for p in text_paras:
        offsets[p] = pos
        body = extra if p == -1 else paras[p]
        pieces.append(body)
        pos += len(body) + 2
    transcript = "\n\n".join(pieces) + "\n"
    # Word index in the transcript of each (paragraph, char offset).
    from qalign.aligner.sphinx.dictionary import spoken_words

    words = spoken_words(transcript)
    index_at = {w.char_start: k for k, w in enumerate(words)}
    audio: list[np.ndarray] = []
    t = 0.0
    truth: dict[int, float] = {}
    rec = Recording(np.zeros(0, np.float32), transcript, truth)

    def add(samples: np.ndarray) -> None:
        nonlocal t
        audio.append(samples.astype(np.float32))
        audio.append(np.zeros(int(PAUSE * SR), np.float32))
        t += samples.size / SR + PAUSE

    if defect == "intro18":
        # Enough sentences for 18 s, cut there (the last word may be cut short).
        intro = paragraph(random.Random(seed + 2000), sentences=8)
        samples, _ = _speak(intro)
        assert samples.size >= 18 * SR, "the intro paragraph is shorter than 18 s"
        samples = samples[: 18 * SR]
        add(samples)
        rec.defect_span = (0.0, t)
    for k, p in enumerate(order):
        if k == mid and defect in ("silence60", "noise30"):
            start = t
            if defect == "silence60":
                add(np.zeros(60 * SR, np.float32))
            else:
                add(
                    (np.random.default_rng(seed).standard_normal(30 * SR) * 0.05).astype(np.float32)
                )
            rec.defect_span = (start, t)
        samples, refwords = spoken[p]
        if p in offsets:
            for char, start in refwords:
                k_word = index_at.get(offsets[p] + char)
                if k_word is not None:
                    truth[k_word] = t + start
                    if defect == "swapped" and p in (order[mid], order[mid + 1]):
                        rec.defect_words.add(k_word)
        elif defect == "deleted":
            rec.defect_span = (t, t + samples.size / SR)
        add(samples)
    if -1 in offsets:
        first = index_at[offsets[-1]]
        count = len(spoken_words(extra))
        rec.unspoken = set(range(first, first + count))
        rec.defect_words |= rec.unspoken
    rec.samples = np.concatenate(audio)
    return rec


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def run_cli(wav: Path, txt: Path, out: Path, engine: str, extra: list[str] | None = None) -> dict:
    """Run ``qalign align`` in a child process: exit code, stderr, seconds, peak RSS (MB).

    The peak is the child's own (:mod:`peak_rss`): this process holds the whole
    recording while building it, and a plain ``wait4`` would report that as the child's.
    """
    cmd = [
        sys.executable,
        "-m",
        "qalign.cli",
        "align",
        str(wav),
        str(txt),
        "--engine",
        engine,
        "--language",
        "en",
        "-o",
        str(out),
        *(extra or []),
    ]
    return run_measured(cmd)


def score(rec: Recording, result) -> dict:  # type: ignore[no-untyped-def]
    """Errors and statuses of an alignment against a recording's truth."""
    units = result.units
    clean = [abs(units[k].start - s) for k, s in rec.truth.items() if k not in rec.defect_words]
    spoken = [k for k in rec.truth if k not in rec.defect_words]
    placed = [
        k
        for k in spoken
        if units[k].status != "unaligned" and abs(units[k].start - rec.truth[k]) <= 0.1
    ]
    unsp = [k for k in rec.unspoken if units[k].status == "unaligned"]
    return {
        "words": len(units),
        "mean_start_error_ms": 1000 * float(np.mean(clean)) if clean else None,
        "spoken_placed_within_100ms": len(placed) / max(1, len(spoken)),
        "unspoken_unaligned": len(unsp) / len(rec.unspoken) if rec.unspoken else None,
        "unaligned": sum(1 for u in units if u.status == "unaligned"),
        "stretches": [(round(s.start, 1), round(s.end, 1), s.reason) for s in result.stretches],
    }


def cached(
    minutes: float, defect: str | None, workdir: Path, seed: int = 0
) -> tuple[Recording, Path, Path]:
    """The recording with its WAV and transcript in ``workdir``, built once and reused after.

    Its samples are not kept in memory (``rec.samples`` is empty): the aligner reads the WAV.
    """
    name = f"{defect or 'clean'}_{minutes:g}_{seed}"
    wav, txt, meta = (workdir / f"{name}.{ext}" for ext in ("wav", "txt", "truth.json"))
    if not (wav.exists() and txt.exists() and meta.exists()):
        rec = build(minutes, defect, seed)
        write_wav(wav, rec.samples)
        txt.write_text(rec.transcript, encoding="utf-8")
        facts = {
            "truth": {str(k): v for k, v in rec.truth.items()},
            "unspoken": sorted(rec.unspoken),
            "defect_words": sorted(rec.defect_words),
            "defect_span": rec.defect_span,
        }
        meta.write_text(json.dumps(facts), encoding="utf-8")
    facts = json.loads(meta.read_text(encoding="utf-8"))
    rec = Recording(
        np.zeros(0, np.float32),
        txt.read_text(encoding="utf-8"),
        {int(k): v for k, v in facts["truth"].items()},
        set(facts["unspoken"]),
        set(facts["defect_words"]),
        tuple(facts["defect_span"]) if facts["defect_span"] else None,
    )
    return rec, wav, txt


def run_case(
    minutes: float,
    defect: str | None,
    engine: str,
    workdir: Path,
    seed: int = 0,
    *,
    keep: bool = False,
    extra: list[str] | None = None,
) -> dict:
    from qalign import formats

    rec, wav, txt = cached(minutes, defect, workdir, seed)
    out = workdir / f"{wav.stem}.{engine}.json"
    run = run_cli(wav, txt, out, engine, extra)
    row = {
        "case": defect or "clean",
        "minutes": round(len(rec.truth) and minutes, 1),
        "audio_s": round(os.path.getsize(wav) / 2 / SR, 1),
        **run,
    }
    row["summary"] = next((line for line in run["stderr"].splitlines() if "aligned " in line), "")
    if out.exists():
        row.update(score(rec, formats.load(out)))
        out.unlink()
    if not keep:
        for path in (wav, txt, wav.with_suffix(".truth.json")):
            path.unlink()
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0])
    ap.add_argument("--engine", default="sphinx")
    ap.add_argument(
        "--defects", nargs="*", default=[], help=f"defect names ({', '.join(DEFECTS)}), or 'all'"
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-clean", action="store_true", help="only the defects (no clean run)")
    ap.add_argument(
        "--cache",
        type=Path,
        help="keep the built recordings in this folder and reuse them (two hours take minutes to build)",
    )
    args = ap.parse_args(argv)
    defects = list(DEFECTS) if args.defects == ["all"] else args.defects
    unknown = sorted(set(defects) - set(DEFECTS))
    if unknown:  # an unknown name would otherwise build the clean recording under its name
        ap.error(f"unknown defect {', '.join(unknown)} (known: {', '.join(DEFECTS)}, or all)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.cache or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for minutes in args.minutes:
            for defect in [*([] if args.no_clean else [None]), *defects]:
                row = run_case(minutes, defect, args.engine, workdir, keep=args.cache is not None)
                row.pop("stderr", None)
                rows.append(row)
                print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
