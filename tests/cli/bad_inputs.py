"""The bad inputs of the bad-input matrix (tests/cli/test_bad_input_matrix.py).

Each maker writes its files into a folder and returns ``(argv, needles)``: the
command line, and the strings the error line must hold (the file's name and the
problem). Files are small; the memory bombs are small files that claim to be big.
"""

from __future__ import annotations

import json
import struct
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
HELLO_WAV = REPO / "examples" / "hello.wav"
HELLO_TXT = REPO / "examples" / "hello.txt"

CTM = "rec 1 0.100 0.200 hello 0.9\nrec 1 0.400 0.300 world 0.8\n"
GOOD_JSON = json.dumps(
    {"version": 2, "duration": 1.0, "words": [{"text": "hi", "start": 0.1, "end": 0.4}]}
)
TEXTGRID_HEAD = 'File type = "ooTextFile"\nObject class = "TextGrid"\n\n'


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def wav(
    path: Path,
    rate: int = 16000,
    seconds: float = 1.0,
    samples: int | None = None,
    channels: int = 1,
) -> Path:
    n = int(rate * seconds) if samples is None else samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = np.repeat(np.sin(np.arange(n) / 7.0) * 3000, channels).astype(np.int16)
        w.writeframes(frames.tobytes())
    return path


def float_wav(path: Path, values: np.ndarray) -> Path:
    body = values.astype(np.float32).tobytes()
    fmt = struct.pack("<IHHIIHH", 16, 3, 1, 16000, 64000, 4, 32)
    head = b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVEfmt " + fmt
    return write(path, head + b"data" + struct.pack("<I", len(body)) + body)


def nan_wav(path: Path) -> Path:
    values = np.zeros(16000, np.float32)
    values[4000] = np.nan
    return float_wav(path, values)


def textgrid(intervals: list[tuple[float, float, str]], xmax: float = 2.0) -> str:
    lines = [TEXTGRID_HEAD + f'0\n{xmax}\n<exists>\n1\n"IntervalTier"\n"words"\n0\n{xmax}']
    lines.append(str(len(intervals)))
    for start, end, label in intervals:
        lines.append(f'{start}\n{end}\n"{label}"')
    return "\n".join(lines) + "\n"


def _sentence(words: int) -> str:
    return " ".join(f"word{i}" for i in range(words)) + "\n"


# -- convert ------------------------------------------------------------------------


def _convert(src: Path, *extra: str, out: str = "out.json") -> list[str]:
    return ["convert", str(src), str(src.parent / out), *extra]


CONVERT = {
    "missing": lambda d: (_convert(d / "nope.ctm"), ["nope.ctm", "No such file"]),
    "folder": lambda d: (["convert", str(d), str(d / "o.json")], [str(d), "directory"]),
    "unknown-in-ext": lambda d: (
        _convert(write(d / "a.xyz", "x")),
        ["a.xyz: unknown format", ".xyz"],
    ),
    "unknown-out-ext": lambda d: (
        _convert(write(d / "a.ctm", CTM), out="o.xyz"),
        ["o.xyz: unknown format", ".xyz"],
    ),
    "unknown-format-id": lambda d: (
        _convert(write(d / "a.ctm", CTM), "--format", "nope"),
        ["unknown format 'nope'"],
    ),
    "unknown-in-format": lambda d: (
        _convert(write(d / "a.ctm", CTM), "--in-format", "nope"),
        ["unknown format 'nope'"],
    ),
    "read-only-format": lambda d: (
        _convert(write(d / "a.ctm", CTM), out="o.ssa"),
        ["o.ssa", "can be read but not written"],
    ),
    "out-folder-missing": lambda d: (
        _convert(write(d / "a.ctm", CTM), out="no/o.json"),
        ["o.json", "does not exist"],
    ),
    "out-is-folder": lambda d: (
        ["convert", str(write(d / "a.ctm", CTM)), str((d / "x.json").mkdir() or d / "x.json")],
        ["x.json"],
    ),
    "out-name-too-long": lambda d: (
        _convert(write(d / "a.ctm", CTM), out="n" * 300 + ".json"),
        ["longer than"],
    ),
    "out-under-a-file": lambda d: (
        _convert(write(d / "a.ctm", CTM), out="a.ctm/o.json"),
        ["o.json", "not a folder"],
    ),
    "ctm-short-line": lambda d: (_convert(write(d / "a.ctm", "rec 1 0.5\n")), ["a.ctm", "line 1"]),
    "ctm-not-number": lambda d: (
        _convert(write(d / "a.ctm", "rec 1 zero 0.5 hi\n")),
        ["a.ctm", "not numbers"],
    ),
    "ctm-1e308": lambda d: (
        _convert(write(d / "a.ctm", "rec 1 0.5 1e308 hi\n")),
        ["a.ctm", "largest time"],
    ),
    "ctm-overlap": lambda d: (
        _convert(write(d / "a.ctm", "rec 1 0.5 1.0 a\nrec 1 0.7 1.0 b\n")),
        ["a.ctm", "before the end"],
    ),
    "ctm-negative": lambda d: (
        _convert(write(d / "a.ctm", "rec 1 -0.5 1.0 a\n")),
        ["a.ctm", "negative"],
    ),
    "ctm-nan": lambda d: (_convert(write(d / "a.ctm", "rec 1 nan 1.0 a\n")), ["a.ctm", "finite"]),
    "ctm-binary": lambda d: (
        _convert(write(d / "a.ctm", bytes(range(256)) * 4)),
        ["a.ctm", "not UTF-8"],
    ),
    "latin1": lambda d: (
        _convert(write(d / "a.ctm", "rec 1 0.1 0.2 caf\xe9\n".encode("latin-1"))),
        ["a.ctm", "not UTF-8"],
    ),
    "utf16-truncated": lambda d: (
        _convert(write(d / "a.ctm", b"\xff\xfea\x00b")),
        ["a.ctm", "not UTF-8 or UTF-16"],
    ),
    "json-syntax": lambda d: (_convert(write(d / "a.json", "{"), out="o.tsv"), ["a.json", "JSON"]),
    "json-array": lambda d: (
        _convert(write(d / "a.json", "[1, 2]"), out="o.tsv"),
        ["a.json", "not an object"],
    ),
    "json-no-words": lambda d: (
        _convert(write(d / "a.json", '{"version": 2}'), out="o.tsv"),
        ["a.json", "no 'words'"],
    ),
    "json-version": lambda d: (
        _convert(write(d / "a.json", '{"version": 99, "words": []}'), out="o.tsv"),
        ["a.json", "version 99"],
    ),
    "json-nan": lambda d: (
        _convert(
            write(d / "a.json", '{"words": [{"text": "a", "start": NaN, "end": 1}]}'), out="o.tsv"
        ),
        ["a.json", "finite"],
    ),
    "json-1e308": lambda d: (
        _convert(
            write(d / "a.json", '{"words": [{"text": "a", "start": 0, "end": 1e308}]}'),
            out="o.tsv",
        ),
        ["a.json", "largest time"],
    ),
    "json-reversed": lambda d: (
        _convert(
            write(d / "a.json", '{"words": [{"text": "a", "start": 2, "end": 1}]}'), out="o.tsv"
        ),
        ["a.json", "before start"],
    ),
    "json-bad-type": lambda d: (
        _convert(
            write(d / "a.json", '{"words": [{"text": "a", "start": "x", "end": 1}]}'),
            out="o.tsv",
        ),
        ["a.json", "not a qalign alignment JSON"],
    ),
    "json-deep": lambda d: (
        _convert(write(d / "a.json", "[" * 100_000 + "]" * 100_000), out="o.tsv"),
        ["a.json", "nested too deeply"],
    ),
    "textgrid-garbage": lambda d: (
        _convert(write(d / "a.TextGrid", "hello\n")),
        ["a.TextGrid", "not a TextGrid"],
    ),
    "textgrid-binary": lambda d: (
        _convert(write(d / "a.TextGrid", b"ooBinaryFile\x08TextGrid\x00\x00")),
        ["a.TextGrid", "binary TextGrid"],
    ),
    "textgrid-truncated": lambda d: (
        _convert(write(d / "a.TextGrid", textgrid([(0, 1, "a"), (1, 2, "b")])[:-20])),
        ["a.TextGrid", "line", "ends where"],
    ),
    "textgrid-overlap": lambda d: (
        _convert(write(d / "a.TextGrid", textgrid([(0, 1.5, "a"), (1.0, 2, "b")]))),
        ["a.TextGrid", "line 18", "before the previous one ends"],
    ),
    "textgrid-past-end": lambda d: (
        _convert(write(d / "a.TextGrid", textgrid([(0, 3.0, "a")]))),
        ["a.TextGrid", "line 15", "past the tier's end"],
    ),
    "textgrid-no-tier": lambda d: (
        _convert(write(d / "a.TextGrid", textgrid([(0, 1, "a")])), "--tier", "nope"),
        ["a.TextGrid", "no tier named 'nope'"],
    ),
    "tsv-not-integer": lambda d: (
        _convert(write(d / "a.tsv", "start\tend\ttext\n0.5\t1.0\thi\n")),
        ["a.tsv", "line 2", "integer milliseconds"],
    ),
    "tsv-header": lambda d: (
        _convert(write(d / "a.tsv", "start\tfoo\tbar\n1\t2\thi\n")),
        ["a.tsv", "lacks a start, end or text column"],
    ),
    "audacity-line": lambda d: (
        _convert(write(d / "a.labels.txt", "0.5 1.0 hi\n")),
        ["a.labels.txt", "line 1"],
    ),
    "srt-garbage": lambda d: (
        _convert(write(d / "a.srt", "1\nnot a time\nhello\n")),
        ["a.srt"],
    ),
    "vtt-no-header": lambda d: (
        _convert(write(d / "a.vtt", "00:00.000 --> 00:01.000\nhi\n")),
        ["a.vtt"],
    ),
    "eaf-garbage": lambda d: (_convert(write(d / "a.eaf", "<ANNOTATION_DOC")), ["a.eaf"]),
    "symlink-loop": lambda d: (
        _convert((d / "loop.ctm").symlink_to("loop.ctm") or d / "loop.ctm"),
        ["loop.ctm"],
    ),
}


# -- align (offline engine; every case fails before the engine runs) ---------------


def _align(audio: Path | str, transcript: Path | str, *extra: str, out: str = "out.json"):
    folder = Path(audio).parent if str(audio).startswith("/") else Path(".")
    return [
        "align", str(audio), str(transcript), "--engine", "sphinx", "-q",
        "-o", str(folder / out), *extra,
    ]  # fmt: skip


def _hello(d: Path) -> Path:
    return write(d / "hello.wav", HELLO_WAV.read_bytes())


ALIGN = {
    "audio-missing": lambda d: (_align(d / "nope.wav", HELLO_TXT), ["nope.wav", "no such file"]),
    "audio-folder": lambda d: (
        _align((d / "dir.wav").mkdir() or d / "dir.wav", HELLO_TXT),
        ["dir.wav", "folder"],
    ),
    "audio-empty": lambda d: (_align(write(d / "e.wav", b""), HELLO_TXT), ["e.wav", "empty"]),
    "audio-not-audio": lambda d: (
        _align(write(d / "t.wav", "just text\n" * 50), HELLO_TXT),
        ["t.wav", "cannot decode"],
    ),
    "audio-1hz": lambda d: (
        _align(wav(d / "one.wav", rate=1, samples=100_000), HELLO_TXT),
        ["one.wav", "sample rate of 1 Hz"],
    ),
    "audio-1mhz": lambda d: (
        _align(wav(d / "mega.wav", rate=1_000_000, samples=1000), HELLO_TXT),
        ["mega.wav", "sample rate of 1000000 Hz"],
    ),
    "audio-nan": lambda d: (_align(nan_wav(d / "nan.wav"), HELLO_TXT), ["nan.wav", "NaN"]),
    "audio-100-channels": lambda d: (
        _align(wav(d / "many.wav", channels=100, samples=100), HELLO_TXT),
        ["many.wav", "100 channels"],
    ),
    "transcript-missing": lambda d: (_align(_hello(d), d / "no.txt"), ["no.txt", "no such file"]),
    "transcript-folder": lambda d: (_align(_hello(d), d), [str(d), "folder"]),
    "transcript-empty": lambda d: (
        _align(_hello(d), write(d / "e.txt", "  \n\n")),
        ["e.txt", "is empty"],
    ),
    "transcript-latin1": lambda d: (
        _align(_hello(d), write(d / "l.txt", "caf\xe9\n".encode("latin-1"))),
        ["l.txt", "not UTF-8"],
    ),
    "transcript-too-fast": lambda d: (
        _align(_hello(d), write(d / "long.txt", _sentence(5000))),
        ["long.txt", "5000 words", "per second"],
    ),
    "transcript-punctuation": lambda d: (
        _align(_hello(d), write(d / "p.txt", "... !!! ???\n")),
        ["p.txt", "no letters or digits to align"],
    ),
    "transcript-music-cues-only": lambda d: (
        _align(_hello(d), write(d / "m.srt", "1\n00:00:01,000 --> 00:00:02,000\n\u266a\n")),
        ["m.srt", "no letters or digits to align"],
    ),
    "transcript-bad-srt": lambda d: (
        _align(_hello(d), write(d / "cues.srt", "1\n00:00:01 --> nonsense\nhi\n")),
        ["cues.srt"],
    ),
    "language-unknown": lambda d: (
        _align(_hello(d), HELLO_TXT, "--language", "Klingon"),
        ["Klingon"],
    ),
    "phones-not-english": lambda d: (
        _align(_hello(d), HELLO_TXT, "--language", "French", "--phones", "sphinx"),
        ["French"],
    ),
    "out-unknown-ext": lambda d: (_align(_hello(d), HELLO_TXT, out="o.xyz"), [".xyz"]),
    "out-folder-missing": lambda d: (
        _align(_hello(d), HELLO_TXT, out="no/o.json"),
        ["o.json", "does not exist"],
    ),
    "out-twice": lambda d: (
        _align(_hello(d), HELLO_TXT, "-o", str(d / "out.json")),
        ["out.json", "named twice"],
    ),
    "format-with-two-outputs": lambda d: (
        _align(_hello(d), HELLO_TXT, "-o", str(d / "b.srt"), "--format", "json"),
        ["--format applies to a single output"],
    ),
    "out-is-folder": lambda d: (
        _align(_hello(d), HELLO_TXT, out=(d / "x.json").mkdir() or "x.json"),
        ["x.json", "is a directory"],
    ),
    "qwen3-model-missing": lambda d: (
        [
            "align",
            str(_hello(d)),
            str(HELLO_TXT),
            "--engine",
            "qwen3",
            "--model",
            str(d / "no-model"),
            "-q",
            "-o",
            str(d / "o.json"),
        ],  # fmt: skip
        ["no-model"],
    ),
}


# -- transcribe (fails before a model is needed, or on the model folder) -----------

TRANSCRIBE = {
    "audio-missing": lambda d: (
        ["transcribe", str(d / "nope.wav"), "--asr-model", str(d), "-q", "-o", str(d / "o.json")],
        ["nope.wav"],
    ),
    "several-without-o": lambda d: (
        ["transcribe", str(_hello(d)), str(wav(d / "b.wav")), "-q"],
        ["several audio files need -o"],
    ),
    "out-unknown-ext": lambda d: (
        ["transcribe", str(_hello(d)), "-q", "-o", str(d / "o.xyz")],
        [".xyz"],
    ),
    "same-stem-one-name": lambda d: (
        ["transcribe", str(_hello(d)), str(wav(d / "b.wav")), "-q", "-o", str(d / "o.json")],
        ["o.json", "several audio files would overwrite it"],
    ),
    "asr-model-missing": lambda d: (
        [
            "transcribe",
            str(_hello(d)),
            "--asr-model",
            str(d / "no-model"),
            "-q",
            "-o",
            str(d / "o.json"),
        ],  # fmt: skip
        ["no-model"],
    ),
    "format-unknown": lambda d: (
        ["transcribe", str(_hello(d)), "-q", "--format", "nope"],
        ["unknown format 'nope'"],
    ),
}


# -- evaluate -----------------------------------------------------------------------


def _pair(d: Path) -> tuple[Path, Path]:
    return write(d / "hyp.ctm", CTM), write(d / "ref.ctm", CTM)


EVALUATE = {
    "hyp-missing": lambda d: (["evaluate", str(d / "h.ctm"), str(_pair(d)[1])], ["h.ctm"]),
    "ref-missing": lambda d: (["evaluate", str(_pair(d)[0]), str(d / "r.ctm")], ["r.ctm"]),
    "hyp-garbage": lambda d: (
        ["evaluate", str(write(d / "h.json", "{oops")), str(_pair(d)[1])],
        ["h.json", "JSON"],
    ),
    "ref-cues-only": lambda d: (
        [
            "evaluate",
            str(_pair(d)[0]),
            str(write(d / "r.srt", "1\n00:00:00,100 --> 00:00:01,000\nhello world\n")),
        ],  # fmt: skip
        ["r.srt"],
    ),
    "unknown-format": lambda d: (
        ["evaluate", str(write(d / "h.xyz", "x")), str(_pair(d)[1])],
        ["unknown format"],
    ),
    "tier-missing": lambda d: (
        [
            "evaluate",
            str(write(d / "h.TextGrid", textgrid([(0, 1, "a")]))),
            str(write(d / "r.TextGrid", textgrid([(0, 1, "a")]))),
            "--tier",
            "nope",
        ],  # fmt: skip
        ["h.TextGrid", "no tier named 'nope'"],
    ),
    "hyp-1e308": lambda d: (
        ["evaluate", str(write(d / "h.ctm", "rec 1 0 1e308 a\n")), str(_pair(d)[1])],
        ["h.ctm", "largest time"],
    ),
}


# -- batch and split ------------------------------------------------------------------


def _corpus(d: Path) -> Path:
    corpus = d / "corpus"
    corpus.mkdir()
    return corpus


# Items of a batch that fail are reported and the run goes on: exit code 1, the item
# and its problem in OUTDIR/failures.csv, one summary line and the failures line.
BATCH_ITEM_FAILURES = {
    "manifest-line-garbage": lambda d: (
        ["batch", str(write(d / "m.jsonl", "{not json\n")), "-o", str(d / "out")],
        ["m.jsonl"],
    ),
    "audio-1hz": lambda d: (
        [
            "batch",
            str(_corpus_with(d, wav(d / "one.wav", rate=1, samples=100_000))),
            "-o",
            str(d / "out"),
            "--engine",
            "sphinx",
            "-f",
            "json",
        ],  # fmt: skip
        ["one.wav", "sample rate of 1 Hz"],
    ),
    "transcript-too-fast": lambda d: (
        [
            "batch",
            str(_corpus_with(d, _hello(d), _sentence(5000))),
            "-o",
            str(d / "out"),
            "--engine",
            "sphinx",
            "-f",
            "json",
        ],  # fmt: skip
        ["hello", "5000 words"],
    ),
}


def _corpus_with(d: Path, audio: Path, text: str = "hello world\n") -> Path:
    corpus = _corpus(d)
    audio.rename(corpus / audio.name)
    write(corpus / (audio.stem + ".txt"), text)
    return corpus


BATCH = {
    "corpus-missing": lambda d: (["batch", str(d / "nope"), "-o", str(d / "out")], ["nope"]),
    "corpus-empty": lambda d: (
        ["batch", str(_corpus(d)), "-o", str(d / "out")],
        ["corpus", "holds no items"],
    ),
    "corpus-is-a-text-file": lambda d: (
        ["batch", str(write(d / "c.txt", "hello")), "-o", str(d / "out")],
        ["c.txt", "not a corpus folder or a manifest"],
    ),
    "output-is-a-file": lambda d: (
        ["batch", str(_corpus(d)), "-o", str(write(d / "out", "x"))],
        ["out"],
    ),
    "format-unknown": lambda d: (
        ["batch", str(_corpus(d)), "-o", str(d / "out"), "-f", "nope"],
        ["nope"],
    ),
}

SPLIT = {
    "source-missing": lambda d: (
        ["split", str(d / "nope.wav"), str(write(d / "a.ctm", CTM)), "-o", str(d / "clips")],
        ["nope.wav"],
    ),
    "alignment-missing": lambda d: (
        ["split", str(_hello(d)), str(d / "none.json"), "-o", str(d / "clips")],
        ["none.json"],
    ),
    "alignment-garbage": lambda d: (
        ["split", str(_hello(d)), str(write(d / "bad.json", "{")), "-o", str(d / "clips")],
        ["bad.json"],
    ),
    "audio-1hz": lambda d: (
        [
            "split",
            str(wav(d / "one.wav", rate=1, samples=100_000)),
            str(write(d / "a.json", GOOD_JSON)),
            "-o",
            str(d / "clips"),
        ],  # fmt: skip
        ["one.wav", "sample rate of 1 Hz"],
    ),
    "output-is-a-file": lambda d: (
        [
            "split",
            str(_hello(d)),
            str(write(d / "a.json", GOOD_JSON)),
            "-o",
            str(write(d / "clips", "x")),
        ],  # fmt: skip
        ["clips"],
    ),
}

COMMANDS = {
    "convert": CONVERT,
    "align": ALIGN,
    "transcribe": TRANSCRIBE,
    "evaluate": EVALUATE,
    "batch": BATCH,
    "split": SPLIT,
}
