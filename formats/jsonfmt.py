"""qalign's own JSON: the lossless form of :class:`qalign.alignment.Alignment`.

Times are float seconds written with ``repr`` precision, so a round trip is exact.
Schema: see the README ("JSON schema").

Writing streams the word list in chunks (the text is never held whole), and
writes control characters as ``\\uXXXX`` escapes
(:func:`qalign.formats.safetext.json_escape_controls`). Reading builds each
word straight from its JSON object as the parser meets it, so memory holds the
text and the alignment, not a dictionary per word besides.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from qalign.alignment import Alignment
from qalign.errors import ValidationError
from qalign.formats.base import Format
from qalign.formats.registry import register
from qalign.formats.safetext import json_escape_controls
from qalign.schema import unit_from_dict

_CHUNK = 2000  # list items per chunk of written text


def _dump(value: Any, indent: int | None, level: int) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    if indent:
        text = text.replace("\n", "\n" + " " * (indent * level))
    return text


def _list_chunks(items: Iterable[Any], indent: int, pad: str) -> Iterator[str]:
    inner = pad + " " * indent
    batch: list[str] = []
    first = True
    for item in items:
        batch.append(inner + _dump(item, indent, 2))
        if len(batch) >= _CHUNK:
            yield ("" if first else ",\n") + ",\n".join(batch)
            first, batch = False, []
    if batch:
        yield ("" if first else ",\n") + ",\n".join(batch)


def iter_json(alignment: Alignment, indent: int | None = 2) -> Iterator[str]:
    """The JSON text of ``alignment`` in chunks; the same text as
    ``json.dumps(alignment.to_dict(), ensure_ascii=False, indent=indent)`` plus a newline."""
    if not indent:
        yield json_escape_controls(
            json.dumps(alignment.to_dict(), ensure_ascii=False, indent=indent)
        )
        yield "\n"
        return
    pad = " " * indent
    fields = [(k, v) for k, v in alignment.header_dict().items()]
    yield "{\n"
    parts = [f"{pad}{json.dumps(k)}: {_dump(v, indent, 1)}" for k, v in fields]
    yield json_escape_controls(",\n".join(parts))
    for key, items in alignment.item_dicts().items():
        yield f",\n{pad}{json.dumps(key)}: "
        empty = True
        for chunk in _list_chunks(items, indent, pad):
            if empty:
                yield "[\n"
                empty = False
            yield json_escape_controls(chunk)
        yield "[]" if empty else f"\n{pad}]"
    yield "\n}\n"


@register
class JsonFormat(Format):
    name = "json"
    extensions = (".json",)
    description = "qalign JSON (lossless: words, segments, phones, metadata)"

    def dumps(self, alignment: Alignment, *, indent: int | None = 2, **_: Any) -> str:
        return "".join(iter_json(alignment, indent))

    def iter_dumps(
        self, alignment: Alignment, *, indent: int | None = 2, **_: Any
    ) -> Iterator[str]:
        return iter_json(alignment, indent)

    def loads(self, text: str, **_: Any) -> Alignment:
        return loads_json(text)


def _word_hook(obj: dict[str, Any]) -> Any:
    """Called by the parser for every JSON object as soon as it is complete: a word
    becomes a :class:`~qalign.alignment.Unit` at once (segments, phones and stretches
    have ``words``/``label``/``reason`` and are left as they are)."""
    if "text" in obj and "start" in obj and "end" in obj and "words" not in obj:
        return unit_from_dict(obj)
    return obj


def loads_json(text: str) -> Alignment:
    """Parse qalign JSON (any readable schema version).

    Raises:
        ValueError: not JSON, or not an alignment; ValidationError for values that
            break the data model.
    """
    try:
        data = json.loads(text, object_hook=_word_hook)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    except ValidationError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise ValidationError(f"not a qalign alignment JSON: {exc!r}") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("JSON top level is not an object")
    return Alignment.from_dict(data)
