"""Japanese word splitting for :func:`qalign.aligner.qwen3.units.split_units` (the ``ja`` extra).

The words are ``nagisa`` 0.2.11's, as in the reference, each cleaned like every other
language's (:func:`~qalign.aligner.qwen3.units.keeps_char`). nagisa segments the NFKC
form of its input, so each of its characters is mapped back to the transcript span it
came from (:func:`_nagisa_view`); runs of scripts nagisa does not segment (Cyrillic,
Greek, Hangul...) are cut out first and split on blanks (:func:`japanese_cores`).
"""

from __future__ import annotations

import unicodedata
from types import ModuleType

from qalign.aligner.qwen3.units import Core, is_cjk_ideograph, keeps_char, whitespace_cores
from qalign.errors import MissingDependencyError, QalignError


def import_nagisa() -> ModuleType:
    """The ``nagisa`` module, imported without the logging handler it installs.

    The import is slow (it loads a DyNet model) and done only when Japanese
    text is split. The root logger's handlers and level are restored
    afterwards, so qalign's messages are not printed twice.

    Raises:
        MissingDependencyError: nagisa is not installed (``pip install "qalign[ja]"``).
    """
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import nagisa  # heavy (loads a DyNet model), and an optional extra
    except ImportError:
        raise MissingDependencyError("nagisa", "ja", "Japanese word splitting") from None
    finally:
        # nagisa calls logging.basicConfig on import, which would print every qalign
        # message a second time through the root logger: undo it.
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return nagisa


def _foreign(ch: str) -> bool:
    """A letter of a script nagisa does not segment (Cyrillic, Greek, Hangul...): not
    Latin and not Japanese (kana, ideographs, full/half-width forms)."""
    if not ch.isalpha():
        return False
    name = unicodedata.name(ch, "")
    return not name.startswith(
        ("LATIN", "HIRAGANA", "KATAKANA", "CJK", "IDEOGRAPHIC", "FULLWIDTH", "HALFWIDTH")
    ) and not is_cjk_ideograph(ch)


def japanese_cores(text: str) -> list[Core]:
    """Words of a Japanese transcript: nagisa's for the Japanese (and Latin) text; runs
    of other scripts (a Russian name, say), which nagisa glues to their neighbours or
    splits into letters, are cut out first and split on blanks like other languages."""
    cores: list[Core] = []
    pos = i = 0
    n = len(text)
    while i < n:
        if not _foreign(text[i]):
            i += 1
            continue
        end = i + 1
        while end < n and (_foreign(text[end]) or unicodedata.category(text[end])[0] == "M"):
            end += 1
        cores += _shifted(_nagisa_cores(text[pos:i]), pos)
        cores += _shifted(whitespace_cores(text[i:end], split_cjk=False), i)
        pos = i = end
    cores += _shifted(_nagisa_cores(text[pos:]), pos)
    return cores


def _shifted(cores: list[Core], offset: int) -> list[Core]:
    return [Core(c.norm, c.start + offset, c.end + offset) for c in cores] if offset else cores


def _nagisa_cores(text: str) -> list[Core]:
    """nagisa's words, cleaned, mapped back to the transcript through its NFKC step."""
    if not text.strip():
        return []
    nagisa = import_nagisa()
    words: list[str] = nagisa.tagging(text).words
    seen, origin = _nagisa_view(text)
    cores: list[Core] = []
    pos = 0
    for word in words:
        at = pos if seen.startswith(word, pos) else seen.find(word, pos)
        if at < 0:
            raise QalignError(
                f"Japanese word splitting failed: nagisa returned {word!r}, which is not in its input"
            )
        pos = at + len(word)
        kept = [k for k in range(at, pos) if keeps_char(seen[k])]
        if not kept:
            continue
        start = origin[kept[0]][0]
        end = origin[kept[-1]][1]
        if cores and start < cores[-1].end:
            # Two words from one character that NFKC expanded (U+337B gives 平成):
            # the first word keeps the character, the second gets an empty span.
            start = cores[-1].end
            end = max(end, start)
        cores.append(Core("".join(seen[k] for k in kept), start, end))
    return cores


def _nagisa_prepare(piece: str) -> str:
    # nagisa 0.2.11 preprocessing, after its rstrip: NFKC, dotted I, spaces.
    return unicodedata.normalize("NFKC", piece).replace("İ", "I").replace(" ", "\u3000")


def _nagisa_view(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The string nagisa segments, and for each of its characters the transcript span it came from."""
    body = text.rstrip()
    seen: list[str] = []
    origin: list[tuple[int, int]] = []
    for start, end in _normalisation_groups(body):
        piece = _nagisa_prepare(body[start:end])
        seen.append(piece)
        origin.extend([(start, end)] * len(piece))
    return "".join(seen), origin


def _continues_cluster(ch: str) -> bool:
    """Whether ``ch`` may combine with the character before it under NFKC."""
    if unicodedata.combining(ch):
        return True
    code = ord(ch)
    if 0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF:  # Hangul medial/final jamo
        return True
    folded = unicodedata.normalize("NFKC", ch)
    return bool(unicodedata.combining(folded[0]))  # half-width (semi-)voiced marks


def _normalisation_groups(s: str) -> list[tuple[int, int]]:
    """Spans of ``s`` whose NFKC forms, concatenated, give the NFKC form of ``s``."""
    if not s:
        return []
    cuts = [i for i in range(1, len(s)) if not _continues_cluster(s[i])]
    spans = list(zip([0, *cuts], [*cuts, len(s)]))
    groups: list[tuple[int, int]] = [spans[0]]
    for start, end in spans[1:]:
        prev_start, prev_end = groups[-1]
        joined = unicodedata.normalize("NFKC", s[prev_start:end])
        if (
            unicodedata.normalize("NFKC", s[prev_start:prev_end])
            + unicodedata.normalize("NFKC", s[start:end])
            != joined
        ):
            groups[-1] = (prev_start, end)
        else:
            groups.append((start, end))
    whole = unicodedata.normalize("NFKC", s)
    if "".join(unicodedata.normalize("NFKC", s[a:b]) for a, b in groups) != whole:
        return [(0, len(s))]  # cannot happen for real text; stay correct anyway
    return groups
