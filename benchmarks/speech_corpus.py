"""The corpus the corpus benchmarks align (``bench_batch.py``, ``bench_ray.py``), made in one place.

A dataset builder's corpus: utterances of a few seconds to about 20 s, each well
inside one aligner window, as WAV files of espeak-ng speech (``synth.py``) with
their ``.lab`` transcripts, in speaker folders of 20 files (Montreal Forced
Aligner's layout). Speech, not noise: the long-form layer skips audio in which its
speech detector finds no speech, and the model would never run there.

Each file's transcript has :data:`aligner_inputs.WORDS_PER_SECOND` words per
*target* second (cycled through ``seconds``), drawn so that words average the real
tokenizer's token count (``aligner_inputs.py``); espeak-ng speaks them a little
faster, so a file lasts about 0.7 times its target. :func:`describe` says what was
made, from the files themselves.
"""

from __future__ import annotations

import shutil
import statistics
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from aligner_inputs import WORDS_PER_SECOND, choose_words, tokenizer_counter, transcript_text

#: Files per speaker folder.
FILES_PER_SPEAKER = 20


@dataclass(frozen=True)
class Corpus:
    """What :func:`write_corpus` made: its folder, file count and audio seconds."""

    root: Path
    files: int
    audio_seconds: float
    durations: tuple[float, ...]
    words: int

    def describe(self) -> str:
        """One line naming the corpus: size, duration range and median, words."""
        d = sorted(self.durations)
        return (
            f"{self.files} WAV files of espeak-ng English speech with .lab transcripts, "
            f"{-(-self.files // FILES_PER_SPEAKER)} speaker folders; "
            f"{d[0]:.1f} to {d[-1]:.1f} s each (median {statistics.median(d):.1f} s), "
            f"{self.audio_seconds:.0f} s of audio, {self.words} words"
        )


def write_corpus(
    root: Path, files: int, seconds: list[float], model: Path, seed: int = 0
) -> Corpus:
    """Write the corpus under ``root`` (emptied first); ``model``'s tokenizer sizes the words."""
    from synth import synthesize

    if root.exists():
        shutil.rmtree(root)
    count = tokenizer_counter(model)
    durations: list[float] = []
    words_in_all = 0
    for n in range(files):
        target = seconds[n % len(seconds)]
        folder = root / f"spk{n // FILES_PER_SPEAKER:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        words = choose_words(max(1, round(target * WORDS_PER_SECOND)), count, seed=seed + n)
        text = transcript_text(words, seed=seed + n)
        samples = synthesize(text, rate=160).samples
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
        with wave.open(str(folder / f"utt{n:04d}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes(pcm.tobytes())
        (folder / f"utt{n:04d}.lab").write_text(text, encoding="utf-8")
        durations.append(len(samples) / 16000)
        words_in_all += len(words)
    return Corpus(root, files, sum(durations), tuple(durations), words_in_all)


def wav_seconds(path: Path) -> float:
    """Seconds of a WAV file."""
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()
