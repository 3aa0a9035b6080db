"""The Qwen3-ASR prompt, as token ids.

The checkpoints' chat template renders one request as::

    <|im_start|>system\\n{context}<|im_end|>\\n
    <|im_start|>user\\n<|audio_start|><|audio_pad|><|audio_end|><|im_end|>\\n
    <|im_start|>assistant\\n

(without the line breaks after ``<|im_end|>\\n``). The context (hot words,
names, background text) is the system message. A forced language is appended
after the generation prompt as ``language {Language}<asr_text>``, so that the
model answers with the transcript only. The single ``<|audio_pad|>`` is then
repeated once per audio token.

This module renders that string itself instead of running the template, which
gives the same ids for both checkpoint layouts. Unlike the reference, the
context is tokenised as plain text: a context containing ``<|im_end|>`` stays
text and cannot end the system message early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_IM_START = "<|im_start|>"
_IM_END = "<|im_end|>"
_AUDIO_START = "<|audio_start|>"
_AUDIO_END = "<|audio_end|>"
ASR_TEXT_TAG = "<asr_text>"


def prompt_text(context: str = "", language: str | None = None) -> str:
    """The prompt as a string, with one ``<|audio_pad|>`` placeholder (for logs and tests)."""
    text = (
        f"{_IM_START}system\n{context}{_IM_END}\n"
        f"{_IM_START}user\n{_AUDIO_START}<|audio_pad|>{_AUDIO_END}{_IM_END}\n"
        f"{_IM_START}assistant\n"
    )
    if language:
        text += f"language {language}{ASR_TEXT_TAG}"
    return text


@dataclass(frozen=True, slots=True)
class PromptIds:
    """A prompt split around its audio: ``before + [audio_pad] * n + after``.

    Attributes:
        before: ids up to and including ``<|audio_start|>``.
        after: ids from ``<|audio_end|>`` to the end (the generation prompt and any forced language).
        audio_pad_id: the placeholder id each audio embedding replaces.
    """

    before: tuple[int, ...]
    after: tuple[int, ...]
    audio_pad_id: int

    def with_audio(self, num_audio_tokens: int) -> list[int]:
        """The full input ids for a clip of ``num_audio_tokens`` audio tokens."""
        return [*self.before, *([self.audio_pad_id] * num_audio_tokens), *self.after]


def _encode(tokenizer: Any, text: str, *, plain: bool = False) -> list[int]:
    # ``plain`` keeps special-token strings inside user text as ordinary text.
    kwargs = {"split_special_tokens": True} if plain else {}
    return list(tokenizer(text, add_special_tokens=False, **kwargs)["input_ids"])


def build_prompt(
    tokenizer: Any,
    audio_pad_id: int,
    context: str = "",
    language: str | None = None,
) -> PromptIds:
    """Tokenise the prompt for one request.

    Args:
        tokenizer: the checkpoint's tokenizer (its own split regex).
        audio_pad_id: id of ``<|audio_pad|>`` read from the checkpoint.
        context: system-prompt text; ``""`` for none.
        language: canonical language name to force, or ``None`` to let the model
            identify the language.

    Special tokens split the byte-level BPE into independent runs, so tokenising
    the pieces below one by one gives the ids of the whole rendered string; only
    ``system\\n`` and the context share a run and are tokenised together.
    """
    before = _encode(tokenizer, _IM_START)
    before += _encode(tokenizer, "system\n" + (context or ""), plain=True)
    before += _encode(tokenizer, f"{_IM_END}\n{_IM_START}user\n{_AUDIO_START}")
    tail = f"{_AUDIO_END}{_IM_END}\n{_IM_START}assistant\n"
    if language:
        tail += f"language {language}{ASR_TEXT_TAG}"
    after = _encode(tokenizer, tail)
    return PromptIds(tuple(before), tuple(after), int(audio_pad_id))
