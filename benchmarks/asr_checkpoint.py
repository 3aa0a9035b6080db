"""A random-weight Qwen3-ASR-0.6B-size checkpoint on disk, in both layouts, for benchmarks.

The configs are the tiny parity checkpoints' (``asr-tiny-hf`` native, ``asr-tiny``
original) with the real sizes written in (``bench_asr.REAL_AUDIO`` / ``REAL_TEXT``,
from docs/MODEL_FACTS.md); the tokenizers and token ids stay the tiny ones.
Weights are bf16, N(0, 0.02) for matrices, 1 for norm scales, 0 for biases, drawn
by ``random_weights.py`` (shared with ``aligner_checkpoint.py``) straight into bf16
on a model built on the meta device. The head is a matrix of
its own (not tied to the embeddings) in both layouts, so both packages load
exactly the same tensors.

``native/`` is what qalign loads, ``original/`` (``thinker.*`` names and a
``thinker_config``) what the official ``qwen-asr`` package loads. Heavy imports
happen inside the functions.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from random_weights import copy_files, random_bf16_model, renamed  # noqa: E402

#: Bumped when the files written here change, so an old cache is rebuilt.
FORMAT_VERSION = 1
_NATIVE_EXTRA = ("tokenizer.json", "tokenizer_config.json", "processor_config.json", "chat_template.jinja", "generation_config.json")  # fmt: skip
_ORIGINAL_EXTRA = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json", "chat_template.json")  # fmt: skip
_TO_ORIGINAL = (
    ("model.multi_modal_projector.linear_1.", "thinker.audio_tower.proj1."),
    ("model.multi_modal_projector.linear_2.", "thinker.audio_tower.proj2."),
    ("model.audio_tower.", "thinker.audio_tower."),
    ("model.language_model.", "thinker.model."),
    ("lm_head.", "thinker.lm_head."),
)


def templates(shared: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """The tiny parity folders ``(asr-tiny-hf, asr-tiny)`` (``$QALIGN_SHARED`` or ``../shared``)."""
    if shared is None:
        env = os.environ.get("QALIGN_SHARED")
        shared = env if env else Path(__file__).resolve().parents[1].parent / "shared"
    parity = Path(shared) / "parity"
    folders = (parity / "asr-tiny-hf", parity / "asr-tiny")
    for folder in folders:
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(
                f"tiny ASR checkpoint not found at {folder} (set QALIGN_SHARED)"
            )
    return folders


def _native_config(template: dict[str, Any], audio: dict, text: dict) -> dict[str, Any]:
    raw = copy.deepcopy(template)
    raw["audio_config"].update(audio)
    raw["text_config"].update(text, tie_word_embeddings=False)
    raw["text_config"]["layer_types"] = ["full_attention"] * text["num_hidden_layers"]
    raw["text_config"]["max_window_layers"] = text["num_hidden_layers"]
    raw["tie_word_embeddings"] = False
    raw["dtype"] = "bfloat16"
    return raw


def _original_config(template: dict[str, Any], audio: dict, text: dict) -> dict[str, Any]:
    raw = copy.deepcopy(template)
    thinker = raw["thinker_config"]
    thinker["dtype"] = "bfloat16"
    a = {k: v for k, v in audio.items() if k != "num_key_value_heads"}
    thinker["audio_config"].update(a, num_hidden_layers=audio["encoder_layers"])
    thinker["text_config"].update(text, tie_word_embeddings=False)
    rope = dict(thinker["text_config"].get("rope_scaling") or {})
    half = text["head_dim"] // 2
    rope["mrope_section"] = [half - 2 * (half * 5 // 16), half * 5 // 16, half * 5 // 16]
    thinker["text_config"]["rope_scaling"] = rope
    return raw


def _random_model(config_dict: dict[str, Any], seed: int):
    from transformers import Qwen3ASRForConditionalGeneration

    return random_bf16_model(Qwen3ASRForConditionalGeneration, config_dict, seed)


def build(
    cache: str | os.PathLike[str], audio: dict, text: dict, seed: int = 0
) -> tuple[Path, Path]:
    """Write (or reuse) ``<cache>/asr-<digest>/{native,original}``; returns both folders."""
    import hashlib

    from safetensors.torch import save_file

    native_tpl, original_tpl = templates()
    stamp = {"format": FORMAT_VERSION, "audio": audio, "text": text, "seed": seed}
    digest = hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:10]
    root = Path(cache) / f"asr-{digest}"
    native, original = root / "native", root / "original"
    if (root / "build.json").is_file():
        return native, original
    if root.exists():
        shutil.rmtree(root)
    native.mkdir(parents=True)
    original.mkdir(parents=True)
    raw = json.loads((native_tpl / "config.json").read_text(encoding="utf-8"))
    model = _random_model(_native_config(raw, audio, text), seed)
    model.save_pretrained(native)
    copy_files(native_tpl, native, _NATIVE_EXTRA)
    tensors = renamed(model.state_dict(), _TO_ORIGINAL)
    del model
    save_file(tensors, str(original / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    raw = json.loads((original_tpl / "config.json").read_text(encoding="utf-8"))
    (original / "config.json").write_text(
        json.dumps(_original_config(raw, audio, text), indent=2) + "\n", encoding="utf-8"
    )
    copy_files(original_tpl, original, _ORIGINAL_EXTRA)
    (root / "build.json").write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return native, original
