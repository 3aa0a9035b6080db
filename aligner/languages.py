"""The languages Qwen3-ForcedAligner supports, and turning user input into one of them.

The aligner was trained on eleven languages (:data:`SUPPORTED`). Users name
them in many ways: ``English``, ``english``, ``en``, ``eng``, ``en-US``,
``zh_CN``, ``mandarin``, ``日本語``. :func:`resolve_language` maps all of these
to the canonical English name, which the rest of qalign passes around.

Unlike the official package, which lower-cases any name it is given and
splits unknown languages on whitespace, qalign refuses a language outside the
eleven: the model was not trained on it, and silent output would mislead.
"""

from __future__ import annotations

from qalign.errors import LanguageError

#: Canonical names, in the order the model card lists them.
SUPPORTED: tuple[str, ...] = (
    "Chinese",
    "Cantonese",
    "English",
    "German",
    "Spanish",
    "French",
    "Italian",
    "Portuguese",
    "Russian",
    "Korean",
    "Japanese",
)

# Lower-case spellings -> canonical name: ISO 639-1, 639-2 (T and B) and
# 639-3 codes, common English names and each language's own name.
_ALIASES: dict[str, str] = {
    # Chinese (Mandarin, written Chinese)
    "zh": "Chinese", "zho": "Chinese", "chi": "Chinese", "cmn": "Chinese",
    "mandarin": "Chinese", "putonghua": "Chinese", "中文": "Chinese",
    "汉语": "Chinese", "漢語": "Chinese", "普通话": "Chinese", "國語": "Chinese",
    # Cantonese
    "yue": "Cantonese", "zh-yue": "Cantonese", "粤语": "Cantonese",
    "粵語": "Cantonese", "廣東話": "Cantonese", "广东话": "Cantonese",
    # English
    "en": "English", "eng": "English",
    # German
    "de": "German", "deu": "German", "ger": "German", "deutsch": "German",
    # Spanish
    "es": "Spanish", "spa": "Spanish", "español": "Spanish", "espanol": "Spanish",
    "castilian": "Spanish", "castellano": "Spanish",
    # French
    "fr": "French", "fra": "French", "fre": "French", "français": "French",
    "francais": "French",
    # Italian
    "it": "Italian", "ita": "Italian", "italiano": "Italian",
    # Portuguese
    "pt": "Portuguese", "por": "Portuguese", "português": "Portuguese",
    "portugues": "Portuguese",
    # Russian
    "ru": "Russian", "rus": "Russian", "русский": "Russian",
    # Korean
    "ko": "Korean", "kor": "Korean", "한국어": "Korean", "조선말": "Korean",
    # Japanese
    "ja": "Japanese", "jpn": "Japanese", "日本語": "Japanese",
}  # fmt: skip
_ALIASES.update({name.lower(): name for name in SUPPORTED})


def resolve_language(name_or_code: str) -> str:
    """The canonical name (one of :data:`SUPPORTED`) for a language name or code.

    Matching ignores case and surrounding whitespace. A BCP 47 style tag is
    reduced to its language subtag (``en-US``, ``pt_BR``, ``zh-Hans-CN``), so
    ``zh-HK`` is Chinese; say ``yue`` (or ``zh-yue``) for Cantonese.

    Raises:
        LanguageError: the language is not one of the eleven; the message lists them.
    """
    key = " ".join(str(name_or_code).split()).lower()
    found = _ALIASES.get(key)
    if found is None and key:
        found = _ALIASES.get(key.replace("_", "-").split("-", 1)[0])
    if found is None:
        raise LanguageError(str(name_or_code), SUPPORTED)
    return found
