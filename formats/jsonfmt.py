"""qalign's own JSON: the lossless form of :class:`qalign.alignment.Alignment`.

Times are float seconds written with ``repr`` precision, so a round trip is exact.
Schema: see the README ("JSON schema").
"""

from __future__ import annotations

import json
from typing import Any

from qalign.alignment import Alignment
from qalign.formats.base import Format
from qalign.formats.registry import register


@register
class JsonFormat(Format):
    name = "json"
    extensions = (".json",)
    description = "qalign JSON (lossless: words, segments, phones, metadata)"

    def dumps(self, alignment: Alignment, *, indent: int | None = 2, **_: Any) -> str:
        return json.dumps(alignment.to_dict(), ensure_ascii=False, indent=indent) + "\n"

    def loads(self, text: str, **_: Any) -> Alignment:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("JSON top level is not an object")
        return Alignment.from_dict(data)
