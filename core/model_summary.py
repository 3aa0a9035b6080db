"""What qalign needs to know about a checkpoint, read from its own files (config and tokenizer).

Token ids come from the config where it names them and are checked against the
tokenizer; the others from the tokenizer. Nothing here imports torch or transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from qalign.errors import ModelLoadError
from qalign.model_files import Kind


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """What the rest of qalign needs to know about a checkpoint, read from its own files.

    Attributes:
        kind: ``"aligner"`` or ``"asr"``.
        layout: ``"original"`` (``thinker_config``) or ``"native"`` (transformers ``-hf``).
        audio_start_token_id: id of ``<|audio_start|>``.
        audio_end_token_id: id of ``<|audio_end|>``.
        audio_pad_token_id: id of ``<|audio_pad|>``, the placeholder each audio token replaces.
        timestamp_token_id: id of ``<timestamp>`` (aligner), else ``None``.
        timestamp_segment_time: milliseconds per timestamp class (aligner: 80), else ``None``.
        num_labels: number of timestamp classes (aligner: 5000), else ``None``.
        support_languages: language names the checkpoint declares, or ``None`` when it declares none.
        eos_token_ids: ids that end generation (``<|im_end|>``, ``<|endoftext|>``).
        pad_token_id: id used to pad batches of text.
        asr_text_token_id: id of ``<asr_text>`` when the tokenizer has it, else ``None``.
        num_mel_bins: log-mel bins the audio encoder expects (128).
        n_window: half the encoder's conv chunk, in mel frames (50: chunks of 100 frames = 1 s).
        n_window_infer: encoder attention window in mel frames (800 = 8 s).
    """

    kind: Kind
    layout: Literal["original", "native"]
    audio_start_token_id: int
    audio_end_token_id: int
    audio_pad_token_id: int
    timestamp_token_id: int | None
    timestamp_segment_time: float | None
    num_labels: int | None
    support_languages: tuple[str, ...] | None
    eos_token_ids: tuple[int, ...]
    pad_token_id: int
    asr_text_token_id: int | None
    num_mel_bins: int
    n_window: int
    n_window_infer: int

    @property
    def max_duration(self) -> float | None:
        """Longest time the head can express, in seconds (``num_labels`` x segment time), or ``None``."""
        if self.num_labels is None or self.timestamp_segment_time is None:
            return None
        return self.num_labels * self.timestamp_segment_time / 1000.0


def token_id(tokenizer: Any, token: str) -> int | None:
    tid = tokenizer.convert_tokens_to_ids(token)
    unk = getattr(tokenizer, "unk_token_id", None)
    if tid is None or (unk is not None and tid == unk and token != tokenizer.unk_token):
        return None
    return int(tid)


def summarize(
    folder: Path,
    raw: dict[str, Any],
    layout: Literal["original", "native"],
    kind: Kind,
    tokenizer: Any,
    sizes: dict[str, Any],
) -> ModelSummary:
    """The :class:`ModelSummary` of a checkpoint.

    Args:
        raw: its ``config.json`` as written (either layout).
        tokenizer: its tokenizer (``convert_tokens_to_ids``, ``pad_token_id``).
        sizes: from the (native) config: ``audio_token_id``, ``timestamp_token_id``,
            ``num_labels`` (aligner), ``num_mel_bins``, ``n_window``, ``n_window_infer``.

    Raises:
        ModelLoadError: a token the model needs is missing, or the config and the
            tokenizer disagree on its id; no timestamp segment time (aligner).
    """
    thinker = raw.get("thinker_config") or {}

    def need(token: str, from_config: Any) -> int:
        found = token_id(tokenizer, token)
        if from_config is not None and found is not None and int(from_config) != found:
            raise ModelLoadError(
                folder, f"config says {token} is id {from_config} but the tokenizer says {found}"
            )
        value = from_config if from_config is not None else found
        if value is None:
            raise ModelLoadError(folder, f"the tokenizer has no {token} token")
        return int(value)

    audio_start = need("<|audio_start|>", thinker.get("audio_start_token_id"))
    audio_end = need("<|audio_end|>", thinker.get("audio_end_token_id"))
    audio_pad = need("<|audio_pad|>", sizes["audio_token_id"])
    timestamp_id: int | None = None
    segment_ms: float | None = None
    num_labels: int | None = None
    if kind == "aligner":
        timestamp_id = need("<timestamp>", sizes["timestamp_token_id"])
        segment = raw.get("timestamp_segment_time")
        if segment is None:
            proc = folder / "processor_config.json"
            if proc.is_file():
                try:
                    segment = json.loads(proc.read_text(encoding="utf-8")).get(
                        "timestamp_segment_time"
                    )
                except (OSError, ValueError):
                    segment = None
        if segment is None:
            raise ModelLoadError(
                folder, "no timestamp_segment_time in config.json or processor_config.json"
            )
        segment_ms = float(segment)
        num_labels = int(sizes["num_labels"])
    eos: list[int] = []
    for token in ("<|im_end|>", "<|endoftext|>"):
        tid = token_id(tokenizer, token)
        if tid is not None:
            eos.append(tid)
    conf_eos = raw.get("eos_token_id")
    for tid in (
        conf_eos if isinstance(conf_eos, list) else [conf_eos] if conf_eos is not None else []
    ):
        if int(tid) not in eos:
            eos.append(int(tid))
    pad = raw.get("pad_token_id")
    if pad is None:
        pad = (
            token_id(tokenizer, "<|endoftext|>") or tokenizer.pad_token_id or (eos[0] if eos else 0)
        )
    langs = raw.get("support_languages")
    return ModelSummary(
        kind=kind,
        layout=layout,
        audio_start_token_id=audio_start,
        audio_end_token_id=audio_end,
        audio_pad_token_id=audio_pad,
        timestamp_token_id=timestamp_id,
        timestamp_segment_time=segment_ms,
        num_labels=num_labels,
        support_languages=tuple(str(x) for x in langs) if isinstance(langs, list) else None,
        eos_token_ids=tuple(eos),
        pad_token_id=int(pad),
        asr_text_token_id=token_id(tokenizer, "<asr_text>"),
        num_mel_bins=int(sizes["num_mel_bins"]),
        n_window=int(sizes["n_window"]),
        n_window_infer=int(sizes["n_window_infer"]),
    )


__all__ = ["ModelSummary", "summarize", "token_id"]
