"""Cutting aligned audio into clips with a training manifest (``qalign split``).

Clips are decoded from the source audio at 16 kHz mono (the rate the alignment was
made at) and written as 16-bit WAV or FLAC, each atomically, as
``DIR/KEY_NNNN.wav``. The manifest, ``DIR/manifest.jsonl`` (written atomically at the
end), has one JSON object per clip, in NeMo's manifest form:

* ``audio_filepath``: the clip (absolute path); ``duration``: its seconds;
  ``text``: its words as written in the transcript, joined by spaces;
* ``offset``: ``0.0``: NeMo reads ``offset`` as the start *inside* ``audio_filepath``,
  and each clip is its own file; where the clip came from is ``source`` (the source
  audio) and ``source_offset`` (its start there, seconds);
* ``words``: ``[{"word", "start", "end"}]`` in seconds from the clip's start;
* ``speaker`` when known.

Where to cut is :func:`qalign.corpus.clips.plan_clips`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qalign.alignment import Alignment
from qalign.atomic import write_atomic
from qalign.corpus.clips import Clip, plan_clips
from qalign.errors import QalignError

logger = logging.getLogger("qalign")

RATE = 16000
AUDIO_FORMATS = ("wav", "flac")


@dataclass(frozen=True)
class SplitOptions:
    """How to cut. Durations in seconds; see :func:`qalign.corpus.clips.plan_clips`."""

    mode: str = "segment"
    min_duration: float = 0.0
    max_duration: float = float("inf")
    pad: float = 0.0
    audio_format: str = "wav"


@dataclass(frozen=True)
class SplitSource:
    """One alignment to cut: its audio, the clip name prefix and the speaker."""

    audio: str
    alignment: str
    key: str
    speaker: str | None = None
    #: A TextGrid of several speakers: this speaker's word tier (its utterance tier,
    #: named ``speaker``, gives the segments).
    tier: str | None = None


def encode(samples: np.ndarray, audio_format: str) -> bytes:
    """Mono float samples at 16 kHz as 16-bit WAV or FLAC bytes."""
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    if audio_format == "wav":
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(pcm.tobytes())
        return buffer.getvalue()
    if audio_format != "flac":
        raise QalignError(f"unknown clip format {audio_format!r}; choose wav or flac")
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def _row(alignment: Alignment, clip: Clip, path: Path, source: SplitSource) -> dict:
    units = alignment.units[clip.unit_start : clip.unit_end]
    row = {
        "audio_filepath": str(path),
        "duration": round(clip.duration, 4),
        "text": " ".join(u.text for u in units),
        "offset": 0.0,
        "source": source.audio,
        "source_offset": round(clip.start, 4),
        "words": [
            {
                "word": u.text,
                "start": round(max(u.start - clip.start, 0.0), 4),
                "end": round(min(u.end - clip.start, clip.duration), 4),
            }
            for u in units
        ],
    }
    if source.speaker:
        row["speaker"] = source.speaker
    return row


def split_one(source: SplitSource, outdir: Path, options: SplitOptions) -> tuple[list[dict], int]:
    """Cut one alignment; returns its manifest rows and the words left out.

    Raises:
        QalignError: the alignment or the audio cannot be read, or they do not fit
            (the alignment is longer than the audio).
    """
    from qalign import formats
    from qalign.audio import load_audio

    if source.tier:
        alignment = _speaker_alignment(source)
    else:
        alignment = formats.load(source.alignment)
    plan = plan_clips(
        alignment,
        options.mode,
        min_duration=options.min_duration,
        max_duration=options.max_duration,
        pad=options.pad,
    )
    if not plan.clips:
        return [], plan.dropped_words
    samples = load_audio(source.audio)
    seconds = samples.shape[0] / RATE
    if alignment.units and alignment.units[-1].end > seconds + 0.05:
        raise QalignError(
            f"{source.alignment}: words reach {alignment.units[-1].end:.2f} s but "
            f"{source.audio} lasts {seconds:.2f} s: not the audio of this alignment"
        )
    rows = []
    for n, clip in enumerate(plan.clips, 1):
        path = outdir / f"{source.key}_{n:04d}.{options.audio_format}"
        path.parent.mkdir(parents=True, exist_ok=True)
        lo, hi = round(clip.start * RATE), min(round(clip.end * RATE), samples.shape[0])
        write_atomic(path, encode(samples[lo:hi], options.audio_format))
        rows.append(
            _row(
                alignment,
                Clip(lo / RATE, hi / RATE, clip.unit_start, clip.unit_end),
                path.resolve(),
                source,
            )
        )
    return rows, plan.dropped_words


def batch_sources(batch_outdir: Path) -> Iterator[SplitSource]:
    """The alignments of a ``qalign batch`` output folder, from its ``alignment_report.csv``:
    ``KEY.json`` (or one ``KEY.SPEAKER.json`` per speaker), else ``KEY.TextGrid``.

    Raises:
        QalignError: the folder has no ``alignment_report.csv``.
    """
    report = batch_outdir / "alignment_report.csv"
    if not report.is_file():
        raise QalignError(f"{batch_outdir}: not a qalign batch output (no alignment_report.csv)")
    with open(report, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        key, audio = row.get("item") or "", row.get("audio") or ""
        base = batch_outdir / key
        single = base.parent / f"{base.name}.json"
        speaker = row.get("speaker") or None
        if single.is_file():
            yield SplitSource(audio, str(single), key, speaker)
            continue
        per_speaker = sorted(base.parent.glob(f"{base.name}.*.json"))
        for path in per_speaker:
            speaker = path.name[len(base.name) + 1 : -len(".json")]
            yield SplitSource(audio, str(path), f"{key}.{speaker}", speaker)
        if not per_speaker:
            grid = base.parent / f"{base.name}.TextGrid"
            if grid.is_file():  # one source per speaker, as the JSON outputs are
                yield from file_sources(audio, str(grid), key, speaker)
            else:
                logger.warning("%s: no JSON or TextGrid output to split", key)


def file_sources(
    audio: str, alignment: str, key: str, speaker: str | None = None
) -> list[SplitSource]:
    """What to cut of one audio file with its alignment.

    A TextGrid with word tiers of several speakers (``"SPEAKER - words"``, as
    ``qalign batch`` and Montreal Forced Aligner write them), or of speakers with
    an utterance tier each (``qalign batch``'s TextGrid of utterances), gives one
    source per speaker, named ``KEY.SPEAKER``, in tier order; anything else is one
    source (``speaker`` is then its speaker, if known). A TextGrid that cannot be
    read is one source too: cutting it reports the error.
    """
    speakers: list[str] = []
    if Path(alignment).suffix.lower() == ".textgrid":
        try:
            speakers, with_utterances = _grid_speakers(Path(alignment))
        except (OSError, ValueError):
            speakers, with_utterances = [], []
        if len(speakers) < 2 and not with_utterances:
            speakers = []
    if not speakers:
        return [SplitSource(audio, alignment, key, speaker)]
    return [
        SplitSource(audio, alignment, f"{key}.{name}", name, f"{name} - words") for name in speakers
    ]


def _grid_speakers(grid: Path) -> tuple[list[str], list[str]]:
    """The speakers of a TextGrid's ``"SPEAKER - words"`` interval tiers, and those of
    them that also have an utterance tier named ``SPEAKER``.

    Raises:
        ValueError: not a readable TextGrid.
    """
    from qalign.formats.base import decode_text
    from qalign.formats.praat_text import parse_textgrid
    from qalign.formats.wordlist import tier_role

    tiers = parse_textgrid(decode_text(grid.read_bytes())).tiers
    names = [t.name for t in tiers if t.kind == "IntervalTier"]
    speakers = [n.rsplit(" - ", 1)[0] for n in names if " - " in n and tier_role(n) == "words"]
    return speakers, [s for s in speakers if s in names]


def _speaker_alignment(source: SplitSource):
    """One speaker's words from a multi-speaker TextGrid, its utterances (when it has an
    utterance tier) as segments."""
    import dataclasses

    from qalign import formats
    from qalign.alignment import Segment
    from qalign.corpus.utterances import read_utterances

    alignment = formats.load(source.alignment, tier=source.tier)
    if source.speaker not in _grid_speakers(Path(source.alignment))[1]:
        return alignment  # word tiers only (Montreal Forced Aligner): its own segments
    utterances, _ = read_utterances(source.alignment)
    units = alignment.units
    segments, i = [], 0
    for utt in sorted(
        (u for u in utterances if u.speaker == source.speaker), key=lambda u: u.start
    ):
        first = i
        while i < len(units) and units[i].start < utt.end:
            i += 1
        segments.append(Segment(utt.text, utt.start, utt.end, first, i))
    return dataclasses.replace(alignment, segments=tuple(segments))


def write_manifest(path: Path, rows: list[dict]) -> None:
    write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
