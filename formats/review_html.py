"""The HTML review page: read the transcript while listening, and jump to what needs checking.

One self-contained file: the style sheet and script are inline and allowed by their SHA-256
hashes in a Content-Security-Policy that forbids every other source, so the page makes no
network request. The audio is linked by a relative URL, or embedded as a ``data:`` URI.

Each word is a ``<span class="w">`` with ``data-start`` / ``data-end`` (seconds, written
exactly as the JSON writes them), ``data-status`` and ``data-score``; it is coloured by its
status and, for aligned words, by its score (buckets of 0.2). Flagged stretches (the
alignment's stretches, plus runs of uncertain or unaligned words no stretch covers) are
listed with jump links. A loudness strip shows the RMS envelope (10 ms frames, in dB over a
60 dB range) with the word boundaries; it needs the samples, passed by the caller or decoded
from ``audio`` block by block.

Writer options:
    audio: path of the audio file on disk (embedded with ``embed_audio``; decoded for the
        strip when ``samples`` is not given).
    audio_href: the URL the page plays, relative to the page (default: ``audio`` as a URL).
    samples: mono float32 samples at 16 kHz (what :func:`qalign.audio.load_audio` returns).
    embed_audio: put the audio file in the page (at most :data:`MAX_EMBED_BYTES`).
    title: the page's heading (default: the audio file's name).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import mimetypes
import urllib.parse
from pathlib import Path
from typing import Any

from qalign.alignment import Alignment, Stretch, Unit
from qalign.errors import AudioError
from qalign.formats.base import Format
from qalign.formats.registry import register
from qalign.formats.review_page import CSS, JS

#: Largest audio file ``embed_audio`` puts into a page (bytes); base64 makes it a third larger.
MAX_EMBED_BYTES = 100 * 1024 * 1024
#: Loudness frame length in seconds, and the most frames a page holds (longer audio gets
#: longer frames).
FRAME_SECONDS = 0.01
MAX_FRAMES = 200_000
_RANGE_DB = 60.0
_AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
}


def _hop(total_samples: int, sample_rate: int) -> int:
    """Samples per loudness frame: 10 ms, longer when that would exceed :data:`MAX_FRAMES`."""
    return max(int(round(FRAME_SECONDS * sample_rate)), -(-total_samples // MAX_FRAMES))


def _frame_power(x: Any, hop: int) -> Any:
    """Mean square of each ``hop``-sample frame of ``x`` (the last one zero-padded)."""
    import numpy as np

    frames = -(-x.size // hop)
    padded = np.zeros(frames * hop, dtype=np.float32)
    padded[: x.size] = x
    shaped = padded.reshape(frames, hop)
    return np.einsum("ij,ij->i", shaped, shaped, dtype=np.float64) / hop


def _levels(power: Any) -> bytes:
    """Frame powers as bytes: 0..255 over the 60 dB below the loudest frame; silence 0."""
    import numpy as np

    if power.size == 0:
        return b""
    db = 10.0 * np.log10(np.maximum(power, 1e-12))
    top = float(db.max())
    level = np.clip((db - (top - _RANGE_DB)) / _RANGE_DB, 0.0, 1.0)
    level[power <= 1e-12] = 0.0
    return np.round(level * 255).astype(np.uint8).tobytes()


def loudness_envelope(samples: Any, sample_rate: int = 16000) -> tuple[float, bytes]:
    """RMS loudness per frame: ``(frame length in seconds, one byte per frame)``.

    Bytes map 0..255 onto the 60 dB below the loudest frame; silence is 0. Frames are
    10 ms, longer when the audio would need more than :data:`MAX_FRAMES` of them.
    """
    import numpy as np

    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    hop = _hop(x.size, sample_rate)
    return hop / sample_rate, _levels(_frame_power(x, hop) if x.size else np.zeros(0))


def loudness_envelope_of_file(path: str | Path, sample_rate: int = 16000) -> tuple[float, bytes]:
    """:func:`loudness_envelope` of an audio file, decoded block by block (memory: one
    block of 30 s and the envelope, whatever the file's length).

    Raises:
        AudioError: the file is missing, not audio or corrupt.
    """
    import numpy as np

    from qalign.audio import iter_blocks, probe

    hop = _hop(int(probe(path).duration * sample_rate) + 1, sample_rate)
    per_block = hop * max(1, int(30 * sample_rate) // hop)  # whole frames per block
    powers = [
        _frame_power(block, hop)
        for block in iter_blocks(path, per_block / sample_rate, sample_rate)
        if block.size
    ]
    return hop / sample_rate, _levels(np.concatenate(powers) if powers else np.zeros(0))


def _seconds(value: float) -> str:
    """A time exactly as the JSON writer writes it (``repr`` of the float)."""
    return json.dumps(value)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds * 100)), 6000)
    return f"{minutes}:{rest // 100:02d}.{rest % 100:02d}"


def _score_class(unit: Unit) -> str:
    if unit.score is None:
        return "qn"
    return f"q{min(4, int(unit.score * 5))}"


def flagged_stretches(alignment: Alignment) -> list[Stretch]:
    """The alignment's stretches, plus a stretch for each run of uncertain or unaligned
    units that no stretch covers, in time order."""
    covered = set()
    for st in alignment.stretches:
        covered.update(range(st.unit_start, st.unit_end))
    extra: list[Stretch] = []
    units = alignment.units
    i = 0
    while i < len(units):
        if units[i].status == "aligned" or i in covered:
            i += 1
            continue
        j = i
        while j < len(units) and units[j].status == units[i].status and j not in covered:
            j += 1
        status = units[i].status
        reason = "low confidence" if status == "uncertain" else "not placed"
        extra.append(Stretch(units[i].start, units[j - 1].end, i, j, reason, status))
        i = j
    return sorted((*alignment.stretches, *extra), key=lambda s: (s.start, s.unit_start))


def _stretch_item(alignment: Alignment, st: Stretch) -> str:
    text = " ".join(u.text for u in alignment.units[st.unit_start : st.unit_end])
    if len(text) > 80:
        text = text[:77] + "..."
    target = f"#w{st.unit_start}" if st.unit_end > st.unit_start else "#strip"
    quoted = f" “{html.escape(text)}”" if text else ""
    return (
        f'<li><a href="{target}" class="{html.escape(st.status)}" data-start="{_seconds(st.start)}"'
        f' data-end="{_seconds(st.end)}" data-status="{html.escape(st.status)}">'
        f"<time>{_clock(st.start)}–{_clock(st.end)}</time> {html.escape(st.reason)}{quoted}</a></li>"
    )


def _word(i: int, unit: Unit) -> str:
    score = "" if unit.score is None else f"{unit.score:.3f}"
    tip = f"{_clock(unit.start)}–{_clock(unit.end)} · {unit.status}" + (
        f" · score {score}" if score else ""
    )
    return (
        f'<span class="w {unit.status} {_score_class(unit)}" id="w{i}" data-i="{i}"'
        f' data-start="{_seconds(unit.start)}" data-end="{_seconds(unit.end)}"'
        f' data-status="{unit.status}" data-score="{score}" title="{html.escape(tip)}">'
        f"{html.escape(unit.text)}</span>"
    )


def _paragraphs(alignment: Alignment) -> str:
    breaks = {s.unit_start for s in alignment.segments if s.unit_end > s.unit_start}
    paragraphs: list[list[str]] = [[]]
    for i, unit in enumerate(alignment.units):
        if i in breaks and paragraphs[-1]:
            paragraphs.append([])
        paragraphs[-1].append(_word(i, unit))
    return "\n".join(f"<p>{' '.join(p)}</p>" for p in paragraphs if p)


def check_embeddable(audio: str | None) -> Path:
    """The audio file ``embed_audio`` would put in a page.

    Raises:
        AudioError: no file, or one larger than :data:`MAX_EMBED_BYTES`.
    """
    if not audio or audio == "-":
        raise AudioError(audio or "-", "--embed-audio needs the audio file")
    path = Path(audio)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioError(path, exc.strerror or str(exc)) from None
    if size > MAX_EMBED_BYTES:
        raise AudioError(
            path, f"{size} bytes is too large to embed (limit {MAX_EMBED_BYTES}); link it instead"
        )
    return path


def _audio_source(audio: str | None, audio_href: str | None, embed: bool) -> str:
    if embed:
        path = check_embeddable(audio)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AudioError(path, exc.strerror or str(exc)) from None
        kind = _AUDIO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
        return f"data:{kind or 'application/octet-stream'};base64,{base64.b64encode(data).decode()}"
    if audio_href is not None:
        return audio_href
    if audio and audio != "-":
        return urllib.parse.quote(Path(audio).as_posix())
    return ""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@register
class ReviewHtmlFormat(Format):
    name = "html"
    extensions = (".html", ".htm")
    description = "review page: transcript coloured by confidence, click to play (self-contained)"

    def dumps(
        self,
        alignment: Alignment,
        *,
        audio: str | None = None,
        audio_href: str | None = None,
        samples: Any = None,
        embed_audio: bool = False,
        title: str | None = None,
        **_: Any,
    ) -> str:
        src = _audio_source(audio, audio_href, embed_audio)
        # No src at all without audio: an empty one would make the browser fetch the page.
        src_attr = f' src="{html.escape(src)}"' if src else ""
        if samples is not None:
            hop, envelope = loudness_envelope(samples)
        elif audio and audio != "-":
            hop, envelope = loudness_envelope_of_file(audio)
        else:
            hop, envelope = FRAME_SECONDS, b""
        data = {
            "duration": alignment.duration,
            "hop": hop,
            "envelope": base64.b64encode(envelope).decode(),
        }
        # "<" escaped so that no text can close the data block.
        data_json = json.dumps(data).replace("<", "\\u003c")
        heading = title or (Path(audio).name if audio and audio != "-" else "alignment")
        flags = flagged_stretches(alignment)
        counts = ", ".join(
            f"{alignment.count(s)} {s}" for s in ("aligned", "uncertain", "unaligned")
        )
        engine = alignment.source.engine + (
            f" ({alignment.source.model})" if alignment.source.model else ""
        )
        flag_list = (
            "<ol>\n" + "\n".join(_stretch_item(alignment, st) for st in flags) + "\n</ol>"
            if flags
            else "<p>Nothing flagged.</p>"
        )
        csp = (
            f"default-src 'none'; script-src {_csp_hash(JS)}; style-src {_csp_hash(CSS)}; "
            "media-src 'self' data: blob:; img-src data:; base-uri 'none'; form-action 'none'"
        )
        return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review: {html.escape(heading)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{html.escape(heading)}</h1>
<p class="summary">{len(alignment.units)} words: {counts} · {_clock(alignment.duration)} ·
{html.escape(engine)}</p></header>
<div id="player"><audio id="audio" controls preload="auto"{src_attr}></audio>
<canvas id="strip" title="loudness and word boundaries; click to seek"></canvas></div>
<section id="flags"><h2>To check: {len(flags)}</h2>
{flag_list}
</section>
<main id="transcript">
{_paragraphs(alignment)}
</main>
<footer><p>Click a word to play from it. <kbd>space</kbd> play/pause · <kbd>n</kbd> next
flagged · <kbd>p</kbd> previous flagged.</p></footer>
<script type="application/json" id="qalign-data">{data_json}</script>
<script>{JS}</script>
</body>
</html>
"""
