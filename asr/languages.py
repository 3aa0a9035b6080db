"""The languages Qwen3-ASR can be told to transcribe, and turning user input into one of them.

Qwen3-ASR recognises 30 languages (:data:`ASR_LANGUAGES`, the list its
checkpoints declare in ``support_languages``), a superset of the eleven the
forced aligner times. A forced language is written into the prompt by its
English name (``language English<asr_text>``), so user spellings (``en``,
``english``, ``pt-BR``, ``Deutsch``) are mapped to that name first.

The eleven aligner languages resolve through
:func:`qalign.aligner.languages.resolve_language`, so both commands accept the
same spellings for them; the other nineteen have their ISO codes and names here.
"""

from __future__ import annotations

from qalign.errors import LanguageError

#: The languages Qwen3-ASR-0.6B and -1.7B declare, in their order.
ASR_LANGUAGES: tuple[str, ...] = (
    "Chinese", "English", "Cantonese", "Arabic", "German", "French", "Spanish",
    "Portuguese", "Indonesian", "Italian", "Korean", "Russian", "Thai", "Vietnamese",
    "Japanese", "Turkish", "Hindi", "Malay", "Dutch", "Swedish", "Danish", "Finnish",
    "Polish", "Czech", "Filipino", "Persian", "Greek", "Romanian", "Hungarian", "Macedonian",
)  # fmt: skip

# Lower-case ISO 639-1 / 639-2 / 639-3 codes and own-language names of the
# languages the aligner does not cover.
_EXTRA_ALIASES: dict[str, str] = {
    "ar": "Arabic", "ara": "Arabic", "العربية": "Arabic",
    "id": "Indonesian", "ind": "Indonesian", "bahasa indonesia": "Indonesian",
    "th": "Thai", "tha": "Thai", "ไทย": "Thai",
    "vi": "Vietnamese", "vie": "Vietnamese", "tiếng việt": "Vietnamese",
    "tr": "Turkish", "tur": "Turkish", "türkçe": "Turkish",
    "hi": "Hindi", "hin": "Hindi", "हिन्दी": "Hindi", "हिंदी": "Hindi",
    "ms": "Malay", "msa": "Malay", "may": "Malay", "zsm": "Malay", "bahasa melayu": "Malay",
    "nl": "Dutch", "nld": "Dutch", "dut": "Dutch", "nederlands": "Dutch", "flemish": "Dutch",
    "sv": "Swedish", "swe": "Swedish", "svenska": "Swedish",
    "da": "Danish", "dan": "Danish", "dansk": "Danish",
    "fi": "Finnish", "fin": "Finnish", "suomi": "Finnish",
    "pl": "Polish", "pol": "Polish", "polski": "Polish",
    "cs": "Czech", "ces": "Czech", "cze": "Czech", "čeština": "Czech",
    "fil": "Filipino", "tl": "Filipino", "tgl": "Filipino", "tagalog": "Filipino",
    "fa": "Persian", "fas": "Persian", "per": "Persian", "farsi": "Persian", "فارسی": "Persian",
    "el": "Greek", "ell": "Greek", "gre": "Greek", "ελληνικά": "Greek",
    "ro": "Romanian", "ron": "Romanian", "rum": "Romanian", "română": "Romanian",
    "hu": "Hungarian", "hun": "Hungarian", "magyar": "Hungarian",
    "mk": "Macedonian", "mkd": "Macedonian", "mac": "Macedonian", "македонски": "Macedonian",
}  # fmt: skip
_EXTRA_ALIASES.update({name.lower(): name for name in ASR_LANGUAGES})


def resolve_asr_language(name_or_code: str, supported: tuple[str, ...] | None = None) -> str:
    """The canonical English name of a language Qwen3-ASR can be forced to.

    Args:
        name_or_code: a name or code in any case (``"en"``, ``"chinese"``, ``"pt-BR"``).
        supported: the checkpoint's own ``support_languages`` when it declares them,
            else :data:`ASR_LANGUAGES`.

    Raises:
        LanguageError: not a language the model supports; the message lists them.
    """
    from qalign.aligner.languages import resolve_language

    allowed = tuple(supported) if supported else ASR_LANGUAGES
    try:
        found: str | None = resolve_language(name_or_code)
    except LanguageError:
        key = " ".join(str(name_or_code).split()).lower()
        found = _EXTRA_ALIASES.get(key)
        if found is None and key:
            found = _EXTRA_ALIASES.get(key.replace("_", "-").split("-", 1)[0])
    if found is None or found not in allowed:
        raise LanguageError(str(name_or_code), allowed)
    return found


def normalize_language_name(name: str) -> str:
    """The model's spelling of a language it named itself: first letter upper, the rest lower.

    ``"cHINese"`` becomes ``"Chinese"``. Used on the model's answers, which are
    not validated (a model may name a language outside its list).
    """
    s = name.strip()
    return s[:1].upper() + s[1:].lower()
