"""Benchmark inputs for the aligner: noise clips and English-like transcripts of realistic token counts.

With random weights the audio content does not matter, only its length: a
clip is seeded noise with a slow, speech-like loudness envelope (16 kHz mono
float32, peak below 1). What drives the cost of a forward pass is the sequence
length: 13 audio tokens per second plus, per word, its text tokens and two
``<timestamp>`` slots. So a transcript has :data:`WORDS_PER_SECOND` words per
second of audio, drawn from a fixed list of lower-case English words so that,
with the checkpoint's tokenizer, words average ``tokens_per_word`` tokens.

The default :data:`TOKENS_PER_WORD` comes from the measurement in
docs/MODEL_FACTS.md: 30 s of audio with 80 words gave 704 tokens with the real
tokenizer, i.e. 392 audio tokens, 160 slots and 152 text tokens (1.9 per word).

:func:`write_inputs` stores each clip as ``clip_<seconds>s.npy`` with its
transcript in ``clip_<seconds>s.txt``, so that every engine, in whichever
virtual env, reads exactly the same inputs.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
#: Speech rate of the transcripts, in words per second of audio (a brisk English talk).
WORDS_PER_SECOND = 2.7
#: Text tokens per word the transcripts aim at (see the module docstring).
TOKENS_PER_WORD = 1.9
#: Audio tokens per second (one per 80 ms, 13 per 100-frame chunk).
AUDIO_TOKENS_PER_SECOND = 13

# Everyday English words; lower case and letters only, so each is exactly one
# alignment unit whatever the splitter.
WORDS = """
the of and to in is was that for it with as his on be at by this had not are but from or have an
they which one you were her all she there would their we him been has when who will more no if
out so said what up its about into than them can only other new some could time these two may
then do first any my now such like our over man me even most made after also did many before must
through back years where much your way well down should because each just those people how too
little state good very make world still own see men work long get here between both life being
under never day same another know while last might us great old year off come since against go
came right used take three himself few house use during without again place around however home
small found thought went say part once general high upon school every until always number away
something fact though water less public put thing almost hand enough far took head yet government
system better set told nothing night end why called eyes find going look asked later knew point
next program city business give group toward young days let room president side social given
present several order national possible rather second face per among form important often things
looked early white case john become large big need four within felt along children saw best
church ever least power development light thinking morning question window garden river mountain
yesterday tomorrow beautiful interesting remember understand together different everything
""".split()


@dataclass(frozen=True)
class ClipInput:
    """One benchmark clip as written by :func:`write_inputs`.

    Attributes:
        seconds: duration in seconds.
        audio_path: ``.npy`` file of float32 samples at 16 kHz.
        transcript_path: UTF-8 transcript.
        words: words in the transcript (alignment units).
        text_tokens: text tokens of all words, each tokenised on its own.
        sequence_tokens: the aligner's whole input length: audio tokens,
            ``<|audio_start|>``/``<|audio_end|>``, text tokens and two slots per word.
    """

    seconds: float
    audio_path: Path
    transcript_path: Path
    words: int
    text_tokens: int
    sequence_tokens: int


def clip_name(seconds: float) -> str:
    """File stem of a clip: ``clip_30s``, ``clip_2.5s``."""
    return f"clip_{seconds:g}s"


def audio_tokens(seconds: float) -> int:
    """Audio tokens the encoder makes of a clip (13 per full second, fewer for the rest)."""
    frames = int(round(seconds * SAMPLE_RATE)) // 160
    full, rest = divmod(frames, 100)
    tokens = full * AUDIO_TOKENS_PER_SECOND
    if rest:
        for _ in range(3):  # three stride-2 convolutions
            rest = (rest - 1) // 2 + 1
        tokens += rest
    return tokens


def noise_clip(seconds: float, seed: int = 0) -> np.ndarray:
    """``seconds`` of seeded noise at 16 kHz with a syllable-rate loudness envelope, float32, |x| < 1."""
    n = int(round(seconds * SAMPLE_RATE))
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 2 * np.pi))
    samples = rng.standard_normal(n) * 0.1 * envelope
    return np.clip(samples, -0.99, 0.99).astype(np.float32)


def choose_words(
    n_words: int,
    token_count: Callable[[str], int],
    tokens_per_word: float = TOKENS_PER_WORD,
    seed: int = 0,
    pool: Sequence[str] = WORDS,
) -> list[str]:
    """``n_words`` words from ``pool`` whose token counts average about ``tokens_per_word``.

    Words are drawn at random from those at or below the target when the
    running total is ahead of it, and from those above it when behind, so the
    mean stays within one word's tokens of the target.

    Raises:
        ValueError: the pool cannot reach the target (all its words are shorter or longer).
    """
    counts = {w: token_count(w) for w in dict.fromkeys(pool)}
    short = sorted(w for w, c in counts.items() if c <= tokens_per_word)
    long = sorted(w for w, c in counts.items() if c > tokens_per_word)
    if n_words and (not short or not long):
        raise ValueError(
            f"word pool cannot average {tokens_per_word} tokens per word "
            f"(token counts range {min(counts.values())}-{max(counts.values())})"
        )
    rng = np.random.default_rng(seed)
    words: list[str] = []
    total = 0
    for i in range(n_words):
        group = long if total < tokens_per_word * (i + 1) - 0.5 else short
        word = group[int(rng.integers(len(group)))]
        words.append(word)
        total += counts[word]
    return words


def transcript_text(words: Sequence[str], seed: int = 0) -> str:
    """The words joined by spaces, with a full stop every 8 to 15 words (punctuation is not aligned)."""
    rng = np.random.default_rng(seed + 1)
    parts: list[str] = []
    next_stop = int(rng.integers(8, 16))
    for i, word in enumerate(words, 1):
        parts.append(word)
        if i == next_stop or i == len(words):
            parts[-1] += "."
            next_stop = i + int(rng.integers(8, 16))
    return " ".join(parts)


def tokenizer_counter(model_folder: str | os.PathLike[str]) -> Callable[[str], int]:
    """Token count of one word with the checkpoint's tokenizer (no special tokens, no leading space).

    Read with qalign's own loader (``tokenizers`` alone, no transformers import):
    the counts equal transformers' ``AutoTokenizer`` for every word of the pool.
    """
    from qalign.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(Path(model_folder))

    def count(word: str) -> int:
        return len(tokenizer(word, add_special_tokens=False)["input_ids"])

    return count


def write_inputs(
    folder: str | os.PathLike[str],
    seconds: Sequence[float],
    token_count: Callable[[str], int],
    *,
    words_per_second: float = WORDS_PER_SECOND,
    tokens_per_word: float = TOKENS_PER_WORD,
    seed: int = 0,
) -> dict[float, ClipInput]:
    """Write one clip and transcript per duration into ``folder`` (reusing identical files)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    clips: dict[float, ClipInput] = {}
    for sec in seconds:
        n_words = max(1, math.ceil(sec * words_per_second))
        words = choose_words(n_words, token_count, tokens_per_word, seed=seed)
        text = transcript_text(words, seed=seed)
        stem = clip_name(sec)
        audio_path, text_path = out / f"{stem}.npy", out / f"{stem}.txt"
        audio = noise_clip(sec, seed=seed)
        if not audio_path.is_file() or not np.array_equal(np.load(audio_path), audio):
            np.save(audio_path, audio)
        if not text_path.is_file() or text_path.read_text(encoding="utf-8") != text:
            text_path.write_text(text, encoding="utf-8")
        text_tokens = sum(token_count(w) for w in words)
        clips[sec] = ClipInput(
            seconds=sec,
            audio_path=audio_path,
            transcript_path=text_path,
            words=len(words),
            text_tokens=text_tokens,
            sequence_tokens=audio_tokens(sec) + 2 + text_tokens + 2 * len(words),
        )
    (out / "inputs.json").write_text(
        json.dumps(
            {
                clip_name(s): {k: str(v) if isinstance(v, Path) else v for k, v in vars(c).items()}
                for s, c in clips.items()
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return clips
