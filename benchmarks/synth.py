"""Synthetic English speech with exact word times, from the espeak-ng C library.

espeak-ng reports, through its synthesis callback, an event at the sample
where each word starts and where each phoneme (pauses included) starts. From
them :func:`synthesize` builds a reference alignment whose boundaries are exact
by construction:

* a word starts at its WORD event and ends where the next word starts;
* next to a pause phoneme (``_``, ``_:``, ...) events can be off by up to
  ~150 ms, so there the word is trimmed to its first / last non-silent sample
  (espeak's pauses are exact zeros), which is exact again;
* a token that espeak speaks as several words (``2014`` → "twenty fourteen")
  spans all of them; a token espeak merges into the previous one without an
  event of its own ("of the" is one word for espeak) is merged into that
  reference item, whose text ("of the") then matches no single hypothesis word,
  so it is left out of the scores rather than scored with a guessed boundary.

The library is found as ``libespeak-ng`` (Debian/Ubuntu ``espeak-ng``, Homebrew)
or through the ``espeakng-loader`` wheel, which bundles it with its data.
Speech is generated at espeak's own rate (22050 Hz) and resampled to 16 kHz
with PyAV; times are converted through sample counts.

Usage as a script writes a WAV and a JSON reference::

    python benchmarks/synth.py "Some text." out.wav   # and out.json
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qalign.alignment import Alignment, Phone, Source, Unit

SAMPLE_RATE = 16000

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_EVENT_WORD, _EVENT_END, _EVENT_MSG_TERMINATED, _EVENT_PHONEME = 1, 5, 6, 7
_PARAM_RATE = 1


class _Event(ctypes.Structure):
    # espeak_EVENT from speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class EspeakUnavailable(RuntimeError):
    """The espeak-ng library (or its data) cannot be found."""


@dataclass(frozen=True)
class Synthesis:
    """Speech and its exact word times.

    Attributes:
        samples: mono float32 at 16 kHz.
        reference: words (and espeak phones, in espeak's own symbols) in seconds.
        text: the text spoken.
    """

    samples: np.ndarray
    reference: Alignment
    text: str


class _Espeak:
    """The library, initialised once per process (espeak-ng is not re-entrant)."""

    _instance: _Espeak | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        lib, data = _find_library()
        self.lib = lib
        self.rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_PHONEME_EVENTS
        )
        if self.rate <= 0:
            raise EspeakUnavailable("espeak_Initialize failed (espeak-ng data not found?)")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, int, str]] = []
        self._callback = _CALLBACK(self._on_audio)  # keep a reference: ctypes does not
        lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _Espeak:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_audio(self, wav, count, events):  # type: ignore[no-untyped-def]
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != 0:
            e = events[i]
            name = (
                bytes(e.id).split(b"\0")[0].decode("ascii", "replace")
                if e.type == _EVENT_PHONEME
                else ""
            )
            self._events.append((e.type, e.text_position, e.sample, name))
            i += 1
        return 0

    def speak(
        self, text: str, voice: str, rate: int
    ) -> tuple[np.ndarray, list[tuple[int, int, int, str]]]:
        with self._lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakUnavailable(f"espeak-ng has no voice {voice!r}")
            self.lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8")
            self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, 0, None, None)
            self.lib.espeak_Synchronize()
            audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            return audio, list(self._events)


def _find_library() -> tuple[ctypes.CDLL, bytes | None]:
    name = ctypes.util.find_library("espeak-ng")
    if name:
        return ctypes.CDLL(name), None
    try:
        import espeakng_loader  # type: ignore[import-not-found]
    except ImportError:
        raise EspeakUnavailable(
            "espeak-ng not found: install the Debian package espeak-ng or pip install espeakng-loader"
        ) from None
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    return lib, espeakng_loader.get_data_path().encode()


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """int16 at ``rate`` → float32 at 16 kHz through PyAV (FFmpeg's resampler)."""
    import av

    frame = av.AudioFrame.from_ndarray(
        samples.reshape(1, -1).astype(np.int16), format="s16", layout="mono"
    )
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)


_TOKEN = re.compile(r"\S+")


def _norm(token: str) -> str:
    return "".join(ch for ch in token.lower() if ch.isalnum() or ch == "'").strip("'")


def synthesize(text: str, *, voice: str = "en-us", rate: int = 175) -> Synthesis:
    """Speak ``text`` (ASCII) with espeak-ng and return speech plus its exact word times.

    Args:
        voice: an espeak-ng voice name.
        rate: speaking rate, words per minute (espeak's default is 175).

    Raises:
        EspeakUnavailable: no espeak-ng library.
    """
    engine = _Espeak.get()
    pcm, events = engine.speak(text, voice, rate)
    native = engine.rate
    total = len(pcm)
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    # espeak's text_position is 1-based, in characters.
    word_events = [(pos - 1, sample) for kind, pos, sample, _ in events if kind == _EVENT_WORD]
    phonemes = [(sample, name) for kind, _, sample, name in events if kind == _EVENT_PHONEME]
    pauses = sorted(sample for sample, name in phonemes if name.startswith("_"))
    # Token index of each word event; several events may share a token (numbers).
    starts: dict[int, int] = {}
    for pos, sample in word_events:
        k = next((i for i, (a, b, _) in enumerate(tokens) if a <= pos < b), None)
        if k is not None and k not in starts:
            starts[k] = sample
    items: list[tuple[int, int, int]] = []  # (first token, last token, start sample)
    for k in range(len(tokens)):
        if k in starts:
            items.append((k, k, starts[k]))
        elif items and _norm(tokens[k][2]):
            first, _, s = items[-1]
            items[-1] = (first, k, s)  # spoken together with the previous token
    units: list[Unit] = []
    after_pause = True  # the clip starts with silence
    for n, (first, last, start) in enumerate(items):
        limit = items[n + 1][2] if n + 1 < len(items) else total
        # The first pause after the word's last phoneme ends the word.
        inside = [s for s, name in phonemes if start <= s < limit and not name.startswith("_")]
        last_phone = max(inside) if inside else start
        before_pause = n + 1 == len(items) or any(last_phone <= p < limit for p in pauses)
        end = limit
        # Next to a pause, espeak's events are off by up to ~150 ms (a final phoneme's
        # event can even coincide with the pause's): there the word starts at its
        # first and ends after its last non-silent sample, since espeak writes exact
        # zeros in pauses. Between words without a pause, events are exact.
        if after_pause:
            loud = np.flatnonzero(np.abs(pcm[start:end].astype(np.int32)) > 1)
            start = start + int(loud[0]) if loud.size else start
        if before_pause:
            loud = np.flatnonzero(np.abs(pcm[start:end].astype(np.int32)) > 1)
            end = start + int(loud[-1]) + 1 if loud.size else end
        after_pause = before_pause
        a, b = tokens[first][0], tokens[last][1]
        label = " ".join(t for _, _, t in tokens[first : last + 1])
        norm = " ".join(_norm(t) for _, _, t in tokens[first : last + 1])
        units.append(Unit(label, norm, start / native, end / native, None, a, b))
    phones = []
    ordered = sorted(phonemes)
    for i, (sample, name) in enumerate(ordered):
        nxt = ordered[i + 1][0] if i + 1 < len(ordered) else total
        if not name.startswith("_") and nxt > sample:
            phones.append(Phone(name, sample / native, nxt / native))
    samples = _resample(pcm, native)
    duration = len(samples) / SAMPLE_RATE
    # Resampling may round the length by a sample; keep every time inside the audio.
    units = [
        Unit(
            u.text,
            u.norm,
            min(u.start, duration),
            min(u.end, duration),
            None,
            u.char_start,
            u.char_end,
        )
        for u in units
    ]
    phones = [Phone(p.label, min(p.start, duration), min(p.end, duration)) for p in phones]
    reference = Alignment(
        units=tuple(units),
        duration=duration,
        language="English",
        source=Source("espeak-ng", f"voice {voice}, {rate} wpm"),
        phones=tuple(phones),
    )
    return Synthesis(samples, reference, text)


def add_noise(samples: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """``samples`` plus white Gaussian noise at ``snr_db`` (signal power over the whole clip)."""
    power = float(np.mean(samples.astype(np.float64) ** 2))
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(len(samples)) * np.sqrt(power / 10 ** (snr_db / 10))
    return (samples + noise).astype(np.float32)


def _main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("Usage as a script")[1], file=sys.stderr)
        return 2
    import wave

    from qalign import formats

    result = synthesize(argv[0])
    out = Path(argv[1])
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(result.samples, -1, 1) * 32767).astype("<i2").tobytes())
    formats.save(result.reference, out.with_suffix(".json"))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
