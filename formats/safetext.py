"""Text that cannot break a file: control characters made visible before writing.

A transcript or a file read back may hold raw control characters: NUL, BEL,
ESC (which starts terminal escape sequences), backspace, DEL, the C1 controls
(U+0080..U+009F, one of which is the 8-bit CSI), or a lone surrogate (from a
JSON ``\\ud800`` escape) that UTF-8 cannot encode. Written raw, they change what
a file means or how it displays (Praat warns about null bytes; a terminal
running ``cat`` obeys ESC). :func:`visible` keeps the text and replaces each
such character with a visible stand-in:

* C0 controls U+0000..U+001F except tab, newline and carriage return become
  the matching Unicode control picture (NUL -> ``␀`` U+2400, ESC -> ``␛``);
* DEL becomes ``␡`` (U+2421);
* C1 controls and lone surrogates become ``�`` (U+FFFD).

Tab, newline and carriage return are left to each format (most turn them
into spaces). :func:`json_escape_controls` is the lossless variant for JSON:
it writes those characters as ``\\uXXXX`` escapes, which read back unchanged.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_JSON_RAW = re.compile("[\x7f-\x9f\ud800-\udfff]")  # json.dumps escapes C0 itself


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def visible(text: str) -> str:
    """``text`` with control characters and lone surrogates replaced (see the module
    docstring); text without them is returned as is."""
    return _CONTROLS.sub(_stand_in, text) if _CONTROLS.search(text) else text


def json_escape_controls(json_text: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with DEL, C1 controls
    and lone surrogates written as ``\\uXXXX`` escapes: same data, no raw controls."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)
