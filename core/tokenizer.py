"""A checkpoint's own tokenizer, read with the ``tokenizers`` package alone (no transformers).

Qwen3-ASR and Qwen3-ForcedAligner checkpoints ship a byte-level BPE tokenizer,
either as one ``tokenizer.json`` (read as it is, its split regex unchanged) or as
``vocab.json`` + ``merges.txt`` with the added tokens listed in
``tokenizer_config.json`` (``added_tokens_decoder``). The second form is built
here the way transformers' ``Qwen2Tokenizer`` builds it: NFC normaliser, Qwen2's
split regex, byte-level pre-tokeniser and decoder, no unknown token. Either way
the ids equal what ``AutoTokenizer`` gives for the same folder (tested on both
layouts and on a vocab/merges-only folder).

:class:`CheckpointTokenizer` answers the few calls qalign makes
(``tokenizer(texts, add_special_tokens=False)["input_ids"]``,
``convert_tokens_to_ids``, ``decode``, ``pad_token_id``), with the same names as
transformers' tokenizers so that either can be passed where a tokenizer is used.
Importing ``tokenizers`` costs about 30 ms; transformers several seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qalign.errors import ModelLoadError

#: Qwen2's pre-tokeniser split pattern (contractions, letter runs, single digits,
#: punctuation runs, line breaks, spaces), used when the folder has no tokenizer.json.
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


class CheckpointTokenizer:
    """A ``tokenizers.Tokenizer`` with the special tokens the checkpoint's config names.

    Attributes:
        backend: the ``tokenizers.Tokenizer``.
        pad_token: the pad token's text (``tokenizer_config.json``), or ``None``.
    """

    unk_token: str | None = None
    unk_token_id: int | None = None

    def __init__(self, backend: Any, pad_token: str | None = None) -> None:
        self.backend = backend
        self.pad_token = pad_token

    def __call__(
        self, texts: str | list[str], *, add_special_tokens: bool = False
    ) -> dict[str, Any]:
        """``{"input_ids": ...}``: one list of ids for a string, one per string for a list."""
        if isinstance(texts, str):
            ids = self.backend.encode(texts, add_special_tokens=add_special_tokens).ids
            return {"input_ids": list(ids)}
        encoded = self.backend.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        return {"input_ids": [list(e.ids) for e in encoded]}

    def convert_tokens_to_ids(self, token: str) -> int | None:
        """The id of one token (added tokens included), or ``None`` when it has none."""
        return self.backend.token_to_id(token)

    @property
    def pad_token_id(self) -> int | None:
        return None if self.pad_token is None else self.convert_tokens_to_ids(self.pad_token)

    def decode(self, ids: list[int], *, skip_special_tokens: bool = False) -> str:
        """The text of ``ids`` (byte-level decoding)."""
        return self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens)


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _from_vocab_and_merges(folder: Path, config: dict[str, Any]) -> Any:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import BPE

    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    merges = []
    for line in (folder / "merges.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#version"):
            continue
        left, _, right = line.partition(" ")
        merges.append((left, right))
    backend = Tokenizer(
        BPE(
            vocab=vocab,
            merges=merges,
            unk_token=None,
            continuing_subword_prefix="",
            end_of_word_suffix="",
            fuse_unk=False,
            byte_fallback=False,
        )
    )
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    added = config.get("added_tokens_decoder") or {}
    for tid, spec in sorted(added.items(), key=lambda item: int(item[0])):
        token = AddedToken(
            spec["content"],
            single_word=bool(spec.get("single_word", False)),
            lstrip=bool(spec.get("lstrip", False)),
            rstrip=bool(spec.get("rstrip", False)),
            normalized=bool(spec.get("normalized", False)),
            special=bool(spec.get("special", False)),
        )
        backend.add_tokens([token])
        if backend.token_to_id(spec["content"]) != int(tid):
            raise ValueError(f"added token {spec['content']!r} does not get its id {tid}")
    return backend


def load_tokenizer(folder: Path) -> CheckpointTokenizer:
    """The tokenizer in a model folder (``tokenizer.json``, else ``vocab.json`` + ``merges.txt``).

    Raises:
        ModelLoadError: no tokenizer files, or files that cannot be read.
    """
    config: dict[str, Any] = {}
    config_file = folder / "tokenizer_config.json"
    try:
        if config_file.is_file():
            config = json.loads(config_file.read_text(encoding="utf-8"))
        if (folder / "tokenizer.json").is_file():
            from tokenizers import Tokenizer

            backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
        elif (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
            backend = _from_vocab_and_merges(folder, config)
        else:
            raise ModelLoadError(
                folder,
                "tokenizer cannot be loaded: no tokenizer.json, nor vocab.json and merges.txt",
            )
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed files, in whatever way
        raise ModelLoadError(folder, f"tokenizer cannot be loaded: {exc}") from None
    return CheckpointTokenizer(backend, _token_text(config.get("pad_token")))


__all__ = ["QWEN2_SPLIT", "CheckpointTokenizer", "load_tokenizer"]
