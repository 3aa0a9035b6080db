"""The lossless JSON form of an :class:`~qalign.alignment.Alignment`.

Schema version 2 (:data:`~qalign.alignment.SCHEMA_VERSION`): ``version``,
``duration`` (s), ``language``, ``source``, then the lists ``words`` (with
``status`` per word), ``segments``, ``phones`` and ``stretches`` (start, end,
``words`` as a unit range, ``reason``, ``status``). Version 1 files, which have no
statuses or stretches, still read: every word is ``aligned``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from qalign.alignment import (
    READABLE_SCHEMA_VERSIONS,
    SCHEMA_VERSION,
    Alignment,
    Phone,
    Segment,
    Source,
    Stretch,
    Unit,
)
from qalign.errors import ValidationError


def unit_from_dict(w: dict[str, Any]) -> Unit:
    """One word of the JSON form as a :class:`Unit`.

    Raises:
        KeyError, TypeError, ValueError: a field is missing or of the wrong type;
        ValidationError: the values break the data model.
    """
    text = str(w["text"])
    norm = w.get("norm", text)
    return Unit(
        text=text,
        norm=text if norm == text else str(norm),
        start=float(w["start"]),
        end=float(w["end"]),
        score=None if w.get("score") is None else float(w["score"]),
        char_start=w.get("char_start"),
        char_end=w.get("char_end"),
        status=str(w.get("status") or "aligned"),
    )


def alignment_to_dict(alignment: Alignment) -> dict[str, Any]:
    """The whole JSON form as one dict."""
    data = header_dict(alignment)
    for key, items in item_dicts(alignment).items():
        data[key] = list(items)
    return data


def header_dict(alignment: Alignment) -> dict[str, Any]:
    """The fields before the lists: version, duration, language, source."""
    src = alignment.source
    return {
        "version": SCHEMA_VERSION,
        "duration": alignment.duration,
        "language": alignment.language,
        "source": {
            "engine": src.engine,
            "model": src.model,
            "decoder": src.decoder,
            "transcriber": src.transcriber,
        },
    }


def item_dicts(alignment: Alignment) -> dict[str, Iterator[dict[str, Any]]]:
    """The lists, in order, each a generator of one dict per item."""
    return {
        "words": (
            {
                "text": u.text,
                "norm": u.norm,
                "start": u.start,
                "end": u.end,
                "score": u.score,
                "char_start": u.char_start,
                "char_end": u.char_end,
                "status": u.status,
            }
            for u in alignment.units
        ),
        "segments": (
            {"text": s.text, "start": s.start, "end": s.end, "words": [s.unit_start, s.unit_end]}
            for s in alignment.segments
        ),
        "phones": (
            {"label": p.label, "start": p.start, "end": p.end, "score": p.score}
            for p in alignment.phones
        ),
        "stretches": (
            {
                "start": st.start,
                "end": st.end,
                "words": [st.unit_start, st.unit_end],
                "reason": st.reason,
                "status": st.status,
            }
            for st in alignment.stretches
        ),
    }


def alignment_from_dict(data: dict[str, Any]) -> Alignment:
    """Rebuild an alignment from the JSON form; ``words`` items may already be units.

    Raises:
        ValidationError: unknown schema version, missing fields or invalid values.
    """
    try:
        if not isinstance(data.get("words"), list):
            raise ValidationError("not a qalign alignment JSON: no 'words' list")
        version = data.get("version", SCHEMA_VERSION)
        if version not in READABLE_SCHEMA_VERSIONS:
            raise ValidationError(
                f"JSON schema version {version!r} is not supported (expected one of "
                f"{', '.join(map(str, READABLE_SCHEMA_VERSIONS))})"
            )
        src = data.get("source") or {}
        words = [w if isinstance(w, Unit) else unit_from_dict(w) for w in data["words"]]
        segments = []
        for s in data.get("segments", []):
            first, last = s.get("words", [0, 0])
            segments.append(
                Segment(str(s["text"]), float(s["start"]), float(s["end"]), int(first), int(last))
            )
        phones = [
            Phone(
                str(p["label"]),
                float(p["start"]),
                float(p["end"]),
                None if p.get("score") is None else float(p["score"]),
            )
            for p in data.get("phones", [])
        ]
        stretches = [
            Stretch(
                float(st["start"]),
                float(st["end"]),
                int(st["words"][0]),
                int(st["words"][1]),
                str(st.get("reason", "")),
                str(st.get("status") or "unaligned"),
            )
            for st in data.get("stretches", None) or []
        ]
        ends = [x.end for x in (*words, *segments, *phones)]
        duration = data.get("duration")
        duration = float(duration) if duration is not None else max(ends, default=0.0)
        return Alignment(
            units=tuple(words),
            segments=tuple(segments),
            duration=duration,
            language=data.get("language"),
            source=Source(
                engine=str(src.get("engine", "unknown")),
                model=src.get("model"),
                decoder=src.get("decoder"),
                transcriber=src.get("transcriber"),
            ),
            phones=tuple(phones),
            stretches=tuple(stretches),
        )
    except ValidationError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise ValidationError(f"not a qalign alignment JSON: {exc!r}") from None
