"""Fuzz the readers and writers in one loop: read a mutated file, write what was read in
every writable format, read each of those back.

Only qalign's own errors may come out (a ReadError for a bad file; ``formats.loads``
raises ValueError by contract); any other exception, a hang past the time limit of
one step, or memory past the bound is a finding, printed with the seed that
reproduces it. Our own output that our reader refuses is listed apart ("round
trip"): not a crash, but a writer that let text break its file.

    python benchmarks/fuzz_formats.py --seconds 600          # the long run
    python benchmarks/fuzz_formats.py --seed 1234 --cases 1  # replay one case

The short run in CI is tests/formats/test_fuzz_formats.py (a few seconds).
"""

from __future__ import annotations

import argparse
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

SEEDS = {
    "json": '{"version": 2, "duration": 2.0, "language": "English", "words": ['
    '{"text": "Hello,", "norm": "hello", "start": 0.1, "end": 0.5, "score": 0.9},'
    '{"text": "world!", "norm": "world", "start": 0.6, "end": 1.2}],'
    ' "segments": [{"text": "Hello, world!", "start": 0.1, "end": 1.2, "words": [0, 2]}]}',
    "ctm": "rec 1 0.100 0.400 Hello, 0.9\nrec 1 0.600 0.600 world! 0.8\n",
    "tsv": "start\tend\ttext\tscore\n100\t500\tHello,\t0.900\n600\t1200\tworld!\t\n",
    "audacity": "0.100000\t0.500000\tHello,\n0.600000\t1.200000\tworld!\n",
    "textgrid": 'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0 \nxmax = 2 \n'
    'tiers? <exists> \nsize = 1 \nitem []: \n    item [1]:\n        class = "IntervalTier" \n'
    '        name = "words" \n        xmin = 0 \n        xmax = 2 \n        intervals: size = 3 \n'
    "        intervals [1]:\n            xmin = 0 \n            xmax = 0.5 \n"
    '            text = "Hello," \n        intervals [2]:\n            xmin = 0.5 \n'
    '            xmax = 1.2 \n            text = "world!" \n        intervals [3]:\n'
    '            xmin = 1.2 \n            xmax = 2 \n            text = "" \n',
    "srt": "1\n00:00:00,100 --> 00:00:01,200\nHello, world!\n\n2\n00:00:01,300 --> 00:00:01,900\nAgain\n",
    "vtt": "WEBVTT\n\n00:00.100 --> 00:01.200\nHello, <00:00.600>world!\n",
    "lrc": "[00:00.10]Hello, <00:00.60>world!\n[00:01.30]Again\n",
    "eaf": '<?xml version="1.0" encoding="UTF-8"?><ANNOTATION_DOCUMENT><HEADER TIME_UNITS='
    '"milliseconds"/><TIME_ORDER><TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="100"/><TIME_SLOT '
    'TIME_SLOT_ID="ts2" TIME_VALUE="500"/></TIME_ORDER><TIER TIER_ID="words"><ANNOTATION>'
    '<ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">'
    "<ANNOTATION_VALUE>Hello</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION></TIER>"
    "</ANNOTATION_DOCUMENT>",
    "ass": "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, "
    "Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:00.10,0:00:01.20,Default,,"
    "0,0,0,,{\\k40}Hello, {\\k60}world!\n",
}

# Pieces a mutation may insert: syntax of the formats, extreme numbers, control characters.
TOKENS = [
    '"',
    '""',
    "\n",
    "\r\n",
    "\t",
    " --> ",
    "item [2]:",
    '"IntervalTier"',
    "<exists>",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "1e308",
    "-1",
    "nan",
    "inf",
    "1.5e-05",
    "0",
    "99999999999",
    "\x00",
    "\x1b[31m",
    "\x07",
    "\x08",
    "\ud800",
    "\u202e",
    "\ufeff",
    "<ALT_BEGIN>",
    "WEBVTT",
    "-->",
    "Dialogue:",
    "\\k",
    '{"words": []}',
    "\\N",
]


def mutate(text: str, rng: random.Random) -> str:
    """A few random edits: insert a token, delete, duplicate or swap a slice, flip a byte."""
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        at = rng.randint(0, len(chars))
        if op < 0.35:
            chars[at:at] = list(rng.choice(TOKENS))
        elif op < 0.55 and chars:
            del chars[at : at + rng.randint(1, 8)]
        elif op < 0.7 and chars:
            piece = chars[at : at + rng.randint(1, 40)]
            chars[at:at] = piece * rng.randint(1, 4)
        elif op < 0.85 and chars:
            i = rng.randrange(len(chars))
            chars[i] = chr(rng.choice([0, 9, 10, 13, 34, 45, 46, 48, 57, 0x7F, 0x85, 0x2028]))
        elif chars:
            i, j = sorted(rng.randrange(len(chars)) for _ in range(2))
            chars[i:j] = chars[i:j][::-1]
    return "".join(chars)


class Hang(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise Hang


def one_case(seed: int, folder: Path, step_seconds: float = 5.0) -> str | None:
    """Run the case of ``seed``; ``None`` when it only raised our typed errors, else a
    report (``round trip: ...`` when only the read-back of our own output failed)."""
    from qalign import formats
    from qalign.errors import QalignError

    rng = random.Random(seed)
    source_format = rng.choice(sorted(SEEDS))
    text = mutate(SEEDS[source_format], rng)
    path = folder / f"case.{'labels.txt' if source_format == 'audacity' else source_format}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, step_seconds)
    stage = f"read {source_format}"
    try:
        try:
            alignment = formats.load(path, source_format)
        except QalignError:
            return None
        for name in formats.names(writable=True):
            if name == "html":
                continue  # the review page embeds audio; it has its own tests
            stage = f"write {name}"
            rendered = "".join(formats.render(alignment, name))
            rendered.encode("utf-8")  # what the writer produced must be encodable
            if not formats.get(name).can_read():
                continue
            stage = f"read back {name}"
            try:
                formats.loads(rendered, name)
            except (QalignError, ValueError) as exc:
                return f"round trip: seed {seed}: {name} refuses its own output: {exc}"
        return None
    except QalignError:
        return None
    except Hang:
        return f"seed {seed}: {stage}: no answer within {step_seconds} s"
    except Exception:  # noqa: BLE001 - every other exception is a finding
        return f"seed {seed}: {stage}: " + traceback.format_exc(limit=4).strip().splitlines()[-1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def fuzz(seconds: float, first_seed: int = 0, cases: int | None = None) -> tuple[int, list[str]]:
    """Run cases from ``first_seed`` for ``seconds`` (or ``cases`` cases); returns how many
    ran and the reports (crashes and hangs, then round-trip refusals)."""
    import logging

    logging.getLogger("qalign").setLevel(logging.ERROR)  # readers' warnings are expected
    findings: list[str] = []
    end = time.monotonic() + seconds
    ran = 0
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < end and (cases is None or ran < cases):
            report = one_case(first_seed + ran, Path(tmp))
            if report:
                findings.append(report)
            ran += 1
    return ran, findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--cases", type=int, help="stop after this many cases")
    parser.add_argument(
        "--max-rss-mib",
        type=float,
        default=1024.0,
        help="fail when the process grows past this (default 1024)",
    )
    args = parser.parse_args()
    ran, reports = fuzz(args.seconds, args.seed, args.cases)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    crashes = [r for r in reports if not r.startswith("round trip")]
    for line in reports:
        print(line)
    print(
        f"{ran} cases, {len(crashes)} crashes or hangs, {len(reports) - len(crashes)} "
        f"round-trip refusals, peak memory {peak:.0f} MiB"
    )
    return 1 if crashes or peak > args.max_rss_mib else 0


if __name__ == "__main__":
    sys.exit(main())
