"""ELAN annotation document (EAF 3.0 XML), written and read with ``xml.etree``.

Schema: http://www.mpi.nl/tools/elan/EAFv3.0.xsd

Writing (format id ``eaf``, extension ``.eaf``):

* Independent, time-aligned tiers of ALIGNABLE_ANNOTATIONs, in this order:
  ``words`` (unit text with punctuation; ``chars`` when every unit is one CJK
  ideograph, as in the TextGrid writer), ``status`` when some unit is not
  confidently aligned (``uncertain`` or ``unaligned`` over each such word, at its
  times; read back into ``Unit.status``), ``segments`` when the alignment has
  segments (or no units), ``phones`` when it has phones. All use one
  linguistic type, ``default-lt``.
* Times are rounded once, per tier, to integer milliseconds (half up) by
  :func:`qalign.formats.timing.nonzero_spans`, so no annotation lasts 0 ms;
  TIME_ORDER lists every slot in time order.
* Text is escaped by the XML writer; control characters are made visible
  (:func:`qalign.formats.safetext.visible`) and U+FFFE/U+FFFF, which XML 1.0
  cannot hold, are dropped.
* Options: ``media`` (the audio's path; written as MEDIA_URL and
  RELATIVE_MEDIA_URL so ELAN finds it beside the .eaf), ``author``, ``date``
  (ISO 8601; default now, in UTC).

Reading (any EAF version): time-aligned annotations whose two slots both
have a time. The word tier is ``tier=NAME``, else the first tier named like a
word tier (see :func:`qalign.formats.wordlist.tier_role`), else the first tier
that is neither a segment nor a phone tier; segments and phones come from
tiers named for them. Annotations are sorted by start; reference
(symbolic) annotations and tiers without times are ignored.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from qalign.alignment import Alignment, Phone
from qalign.formats.base import Format
from qalign.formats.registry import register
from qalign.formats.safetext import visible
from qalign.formats.timing import nonzero_spans
from qalign.formats.wordlist import (
    STATUS_TIER,
    Row,
    alignment_from_rows,
    status_rows,
    tier_role,
    unit_tier_name,
    with_statuses,
)

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MIME = {".wav": "audio/x-wav", ".mp3": "audio/mpeg", ".mp4": "video/mp4", ".ogg": "audio/ogg"}


def _clean(text: str) -> str:
    return _NOT_XML.sub("", visible(text))


def _tiers(alignment: Alignment) -> list[tuple[str, list[Row]]]:
    tiers = []
    if alignment.units:
        tiers.append(
            (unit_tier_name(alignment), [Row(u.text, u.start, u.end) for u in alignment.units])
        )
        if status_rows(alignment):  # units not confidently aligned, at their word times
            tiers.append((STATUS_TIER, status_rows(alignment)))
    if alignment.segments or not alignment.units:
        tiers.append(("segments", [Row(s.text, s.start, s.end) for s in alignment.segments]))
    if alignment.phones:
        tiers.append(("phones", [Row(p.label, p.start, p.end) for p in alignment.phones]))
    return tiers


def _header(root: ET.Element, media: str | None, last_id: int) -> None:
    header = ET.SubElement(root, "HEADER", MEDIA_FILE="", TIME_UNITS="milliseconds")
    if media:
        path = Path(media)
        ET.SubElement(
            header,
            "MEDIA_DESCRIPTOR",
            MEDIA_URL=path.resolve().as_uri(),
            MIME_TYPE=_MIME.get(path.suffix.lower(), "unknown"),
            RELATIVE_MEDIA_URL=f"./{path.name}",
        )
    prop = ET.SubElement(header, "PROPERTY", NAME="lastUsedAnnotationId")
    prop.text = str(last_id)


def dumps_eaf(
    alignment: Alignment,
    *,
    media: str | None = None,
    author: str = "qalign",
    date: str | None = None,
) -> str:
    """Render ``alignment`` as an EAF 3.0 document (see the module docstring)."""
    tiers = _tiers(alignment)
    # (time ms, tier index, annotation index, 0 = start / 1 = end) for every slot.
    spans = [
        nonzero_spans([(r.start, r.end) for r in rows], 0.001, alignment.duration)
        for _, rows in tiers
    ]
    slots = sorted(
        (ms, t, a, side)
        for t, tier_spans in enumerate(spans)
        for a, span in enumerate(tier_spans)
        for side, ms in enumerate(span)
    )
    slot_id = {key[1:]: f"ts{i}" for i, key in enumerate(slots, 1)}
    n_annotations = sum(len(rows) for _, rows in tiers)

    root = ET.Element(
        "ANNOTATION_DOCUMENT",
        {
            "AUTHOR": _clean(author),
            "DATE": date or datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "FORMAT": "3.0",
            "VERSION": "3.0",
            "xmlns:xsi": _XSI,
            "xsi:noNamespaceSchemaLocation": "http://www.mpi.nl/tools/elan/EAFv3.0.xsd",
        },
    )
    _header(root, media, n_annotations)
    order = ET.SubElement(root, "TIME_ORDER")
    for i, (ms, *_rest) in enumerate(slots, 1):
        ET.SubElement(order, "TIME_SLOT", TIME_SLOT_ID=f"ts{i}", TIME_VALUE=str(ms))
    number = 0
    for t, (name, rows) in enumerate(tiers):
        tier = ET.SubElement(root, "TIER", LINGUISTIC_TYPE_REF="default-lt", TIER_ID=name)
        for a, row in enumerate(rows):
            number += 1
            ann = ET.SubElement(
                ET.SubElement(tier, "ANNOTATION"),
                "ALIGNABLE_ANNOTATION",
                {
                    "ANNOTATION_ID": f"a{number}",
                    "TIME_SLOT_REF1": slot_id[(t, a, 0)],
                    "TIME_SLOT_REF2": slot_id[(t, a, 1)],
                },
            )
            ET.SubElement(ann, "ANNOTATION_VALUE").text = _clean(row.text)
    ET.SubElement(
        root,
        "LINGUISTIC_TYPE",
        GRAPHIC_REFERENCES="false",
        LINGUISTIC_TYPE_ID="default-lt",
        TIME_ALIGNABLE="true",
    )
    ET.indent(root, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _read_tiers(root: ET.Element) -> list[tuple[str, list[Row]]]:
    times: dict[str, int] = {}
    for slot in root.iter("TIME_SLOT"):
        value = slot.get("TIME_VALUE")
        if value is not None:
            times[slot.get("TIME_SLOT_ID", "")] = int(value)
    tiers = []
    for tier in root.iter("TIER"):
        rows = []
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            start, end = (
                times.get(ann.get("TIME_SLOT_REF1", "")),
                times.get(ann.get("TIME_SLOT_REF2", "")),
            )
            label = (ann.findtext("ANNOTATION_VALUE") or "").strip()
            if start is not None and end is not None and label:
                rows.append(Row(label, start / 1000, end / 1000))
        if rows:
            rows.sort(key=lambda r: (r.start, r.end))
            tiers.append((tier.get("TIER_ID", ""), rows))
    return tiers


def loads_eaf(text: str, *, tier: str | None = None) -> Alignment:
    """Parse an EAF document (see the module docstring).

    Raises:
        ValueError: not EAF XML, an unknown ``tier``, or overlapping annotations.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"not valid XML: {exc}") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise ValueError(f"not an EAF document (root element is <{root.tag}>)")
    tiers = _read_tiers(root)
    if tier is not None:
        words = next((t for t in tiers if t[0] == tier), None)
        if words is None:
            names = ", ".join(repr(t.get("TIER_ID")) for t in root.iter("TIER"))
            raise ValueError(f"no time-aligned tier named {tier!r} (tiers: {names})")
    else:
        words = next((t for t in tiers if tier_role(t[0]) == "words"), None)
        words = words or next((t for t in tiers if not tier_role(t[0])), None)
    rest = [t for t in tiers if t is not words]
    segs = next((rows for name, rows in rest if tier_role(name) == "segments"), [])
    phones = next((rows for name, rows in rest if tier_role(name) == "phones"), [])
    alignment = alignment_from_rows(words[1] if words else [], segments=segs)
    if phones:
        duration = max(alignment.duration, phones[-1].end)
        alignment = replace(
            alignment,
            duration=duration,
            phones=tuple(Phone(r.text, r.start, r.end) for r in phones),
        )
    status = next((rows for name, rows in rest if tier_role(name) == "status"), [])
    if status:
        alignment = with_statuses(alignment, status)
    return alignment


@register
class EafFormat(Format):
    name = "eaf"
    extensions = (".eaf",)
    description = "ELAN annotation document (EAF 3.0): words, segments, phones tiers"

    def dumps(self, alignment: Alignment, **options: Any) -> str:
        known = {k: options[k] for k in ("media", "author", "date") if k in options}
        return dumps_eaf(alignment, **known)

    def loads(self, text: str, *, tier: str | None = None, **_: Any) -> Alignment:
        return loads_eaf(text, tier=tier)
