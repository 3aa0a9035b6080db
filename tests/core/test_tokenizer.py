"""qalign.tokenizer: the checkpoint's tokenizer without transformers gives transformers' ids."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qalign.errors import ModelLoadError
from qalign.tokenizer import load_tokenizer

TEXTS = [
    "hello", "Hello, world!", "McDonald's", "Feed'st", "  two  spaces\n\nlines", "日本語のテキスト",
    "안녕하세요", "combining e\u0301 and é", "3.14159", "<timestamp>x<|audio_pad|>", "emoji 😀 ok",
    "it’s", "",
]  # fmt: skip
TOKENS = ["<timestamp>", "<|audio_pad|>", "<|audio_start|>", "<asr_text>", "<|im_end|>", "zzqq"]


def _vocab_and_merges(parity_dir: Path, folder: Path) -> Path:
    """The tiny tokenizer written as vocab.json + merges.txt (the other form checkpoints use)."""
    folder.mkdir()
    data = json.loads((parity_dir / "fa-tiny" / "tokenizer.json").read_text(encoding="utf-8"))
    (folder / "vocab.json").write_text(json.dumps(data["model"]["vocab"]), encoding="utf-8")
    merges = "\n".join(" ".join(pair) for pair in data["model"]["merges"])
    (folder / "merges.txt").write_text("#version: 0.2\n" + merges + "\n", encoding="utf-8")
    shutil.copy(parity_dir / "fa-tiny" / "tokenizer_config.json", folder)
    return folder


@pytest.mark.parametrize("form", ["fa-tiny", "fa-tiny-hf", "asr-tiny-hf", "vocab+merges"])
def test_ids_equal_transformers(parity_dir: Path, tmp_path: Path, form: str) -> None:
    transformers = pytest.importorskip("transformers")
    if form == "vocab+merges":
        folder = _vocab_and_merges(parity_dir, tmp_path / "vm")
        assert not (folder / "tokenizer.json").exists()
    else:
        folder = parity_dir / form
    want = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    got = load_tokenizer(folder)
    batch = got(TEXTS, add_special_tokens=False)["input_ids"]
    assert batch == want(TEXTS, add_special_tokens=False)["input_ids"]
    one = got("McDonald's")["input_ids"]
    assert one == want("McDonald's", add_special_tokens=False)["input_ids"]
    for token in TOKENS:
        assert got.convert_tokens_to_ids(token) == want.convert_tokens_to_ids(token), token
    assert got.pad_token_id == want.pad_token_id == 4000
    ids = want(TEXTS[1], add_special_tokens=False)["input_ids"]
    assert got.decode(ids) == want.decode(ids) == TEXTS[1]


def test_no_tokenizer_files(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no tokenizer.json"):
        load_tokenizer(tmp_path)


def test_broken_tokenizer_json(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="tokenizer cannot be loaded"):
        load_tokenizer(tmp_path)


def test_added_token_at_the_wrong_id_is_refused(parity_dir: Path, tmp_path: Path) -> None:
    folder = _vocab_and_merges(parity_dir, tmp_path / "vm")
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    decoder = config["added_tokens_decoder"]
    first = min(decoder, key=int)
    decoder[str(int(first) + 5000)] = decoder.pop(first)
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="does not get its id"):
        load_tokenizer(folder)
