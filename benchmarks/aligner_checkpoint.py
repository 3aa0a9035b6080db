"""Random-weight Qwen3-ForcedAligner checkpoints for benchmarks, in both on-disk layouts.

The config is the tiny parity checkpoint's (``fa-tiny-hf`` / ``fa-tiny``) with
the sizes of a real model written in (:data:`REAL_SIZES`, from
docs/MODEL_FACTS.md); the tokenizer and every token id stay the tiny ones.
Compute does not depend on which ids the text uses, only on how many tokens
there are, and the tiny ids (< 4096) are valid rows of any larger vocabulary.

:func:`build_checkpoints` writes, once per size and seed, into a cache folder:

* ``native/``: the transformers ``-hf`` layout, through ``save_pretrained``
  (``Qwen3ASRForTokenClassification``), plus the template's tokenizer and
  processor files;
* ``original/``: the same tensors under the original ``thinker.*`` names with
  a ``thinker_config`` config, plus the template's tokenizer and Whisper
  feature-extractor files: what the official ``qwen-asr`` package loads.

Weights are bf16, drawn by ``random_weights.py`` (shared with ``asr_checkpoint.py``)
straight into a model built on the meta device, so no float32 copy of the 0.9 B
parameters is ever made: matrices N(0, 0.02), norm scales 1, biases 0.

Heavy imports (torch, transformers, safetensors) happen inside the functions.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from random_weights import copy_files, random_bf16_model, renamed, renamed_key  # noqa: E402

#: Bumped when the files written here change, so an old cache is rebuilt.
FORMAT_VERSION = 1
#: Files copied from the template folders besides config and weights.
_NATIVE_EXTRA = (
    "tokenizer.json",
    "tokenizer_config.json",
    "processor_config.json",
    "chat_template.jinja",
)
_ORIGINAL_EXTRA = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "preprocessor_config.json",
    "chat_template.json",
)
# Native -> original weight-name prefixes (the inverse of the loader's renames).
_TO_ORIGINAL = (
    ("model.multi_modal_projector.linear_1.", "thinker.audio_tower.proj1."),
    ("model.multi_modal_projector.linear_2.", "thinker.audio_tower.proj2."),
    ("model.audio_tower.", "thinker.audio_tower."),
    ("model.language_model.", "thinker.model."),
    ("score.", "thinker.lm_head."),
)


@dataclass(frozen=True)
class AlignerSizes:
    """The sizes of a Qwen3-ForcedAligner: audio encoder, Qwen3 language model and head.

    ``mrope_section`` is only written to the original layout's config; its
    three parts must add up to ``head_dim / 2``.
    """

    audio_d_model: int
    audio_layers: int
    audio_heads: int
    audio_ffn: int
    audio_output_dim: int
    downsample_hidden_size: int
    text_hidden: int
    text_intermediate: int
    text_layers: int
    text_heads: int
    text_kv_heads: int
    head_dim: int
    vocab_size: int
    num_labels: int
    mrope_section: tuple[int, int, int]

    def __post_init__(self) -> None:
        if sum(self.mrope_section) * 2 != self.head_dim:
            raise ValueError(
                f"mrope_section {self.mrope_section} adds up to {sum(self.mrope_section)}, "
                f"not head_dim / 2 = {self.head_dim // 2}"
            )

    @property
    def tag(self) -> str:
        """A short folder name for these sizes."""
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()
        return f"a{self.audio_d_model}x{self.audio_layers}-t{self.text_hidden}x{self.text_layers}-{digest[:8]}"


#: Qwen3-ForcedAligner-0.6B (docs/MODEL_FACTS.md): about 918 M parameters.
REAL_SIZES = AlignerSizes(
    audio_d_model=1024,
    audio_layers=24,
    audio_heads=16,
    audio_ffn=4096,
    audio_output_dim=1024,
    downsample_hidden_size=480,
    text_hidden=1024,
    text_intermediate=3072,
    text_layers=28,
    text_heads=16,
    text_kv_heads=8,
    head_dim=128,
    vocab_size=152064,
    num_labels=5000,
    mrope_section=(24, 20, 20),
)
#: The tiny parity checkpoint's own sizes (smoke runs and tests).
TINY_SIZES = AlignerSizes(
    audio_d_model=64,
    audio_layers=2,
    audio_heads=4,
    audio_ffn=128,
    audio_output_dim=64,
    downsample_hidden_size=32,
    text_hidden=64,
    text_intermediate=128,
    text_layers=2,
    text_heads=4,
    text_kv_heads=2,
    head_dim=16,
    vocab_size=4096,
    num_labels=5000,
    mrope_section=(4, 2, 2),
)


@dataclass(frozen=True)
class Checkpoints:
    """The two folders holding the same random weights."""

    native: Path
    original: Path
    num_parameters: int


def find_templates(shared: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """The tiny parity folders ``(fa-tiny-hf, fa-tiny)``.

    Looked up in ``shared`` (the shared folder or its ``parity`` subfolder), else
    ``$QALIGN_SHARED``, else ``<repo>/../shared``.

    Raises:
        FileNotFoundError: a folder or its ``config.json`` is missing.
    """
    if shared is None:
        env = os.environ.get("QALIGN_SHARED")
        shared = env if env else Path(__file__).resolve().parents[1].parent / "shared"
    root = Path(shared)
    parity = root / "parity" if (root / "parity").is_dir() else root
    folders = (parity / "fa-tiny-hf", parity / "fa-tiny")
    for folder in folders:
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(
                f"tiny aligner checkpoint not found at {folder} (set QALIGN_SHARED or --shared)"
            )
    return folders


def native_config(template: dict[str, Any], sizes: AlignerSizes) -> dict[str, Any]:
    """The template's native (``-hf``) ``config.json`` with ``sizes`` written in."""
    raw = copy.deepcopy(template)
    raw["audio_config"].update(
        d_model=sizes.audio_d_model,
        encoder_layers=sizes.audio_layers,
        encoder_attention_heads=sizes.audio_heads,
        num_key_value_heads=sizes.audio_heads,
        encoder_ffn_dim=sizes.audio_ffn,
        output_dim=sizes.audio_output_dim,
        downsample_hidden_size=sizes.downsample_hidden_size,
        dtype="bfloat16",
    )
    raw["text_config"].update(
        hidden_size=sizes.text_hidden,
        intermediate_size=sizes.text_intermediate,
        num_hidden_layers=sizes.text_layers,
        num_attention_heads=sizes.text_heads,
        num_key_value_heads=sizes.text_kv_heads,
        head_dim=sizes.head_dim,
        vocab_size=sizes.vocab_size,
        layer_types=["full_attention"] * sizes.text_layers,
        max_window_layers=sizes.text_layers,
        dtype="bfloat16",
    )
    raw.pop("id2label", None)
    raw.pop("label2id", None)
    raw["num_labels"] = sizes.num_labels
    raw["dtype"] = "bfloat16"
    return raw


def original_config(template: dict[str, Any], sizes: AlignerSizes) -> dict[str, Any]:
    """The template's original-layout ``config.json`` (``thinker_config``) with ``sizes`` written in."""
    raw = copy.deepcopy(template)
    thinker = raw["thinker_config"]
    thinker["classify_num"] = sizes.num_labels
    thinker["dtype"] = "bfloat16"
    thinker["audio_config"].update(
        d_model=sizes.audio_d_model,
        encoder_layers=sizes.audio_layers,
        num_hidden_layers=sizes.audio_layers,
        encoder_attention_heads=sizes.audio_heads,
        encoder_ffn_dim=sizes.audio_ffn,
        output_dim=sizes.audio_output_dim,
        downsample_hidden_size=sizes.downsample_hidden_size,
    )
    text = thinker["text_config"]
    text.update(
        hidden_size=sizes.text_hidden,
        intermediate_size=sizes.text_intermediate,
        num_hidden_layers=sizes.text_layers,
        num_attention_heads=sizes.text_heads,
        num_key_value_heads=sizes.text_kv_heads,
        head_dim=sizes.head_dim,
        vocab_size=sizes.vocab_size,
    )
    rope = dict(text.get("rope_scaling") or {})
    rope["mrope_section"] = list(sizes.mrope_section)
    text["rope_scaling"] = rope
    return raw


def original_key(native_key: str) -> str:
    """The original-layout (``thinker.*``) name of a native weight name."""
    return renamed_key(native_key, _TO_ORIGINAL)


def random_model(config_dict: dict[str, Any], seed: int = 0, std: float = 0.02):
    """A ``Qwen3ASRForTokenClassification`` of this config with random bf16 weights
    (:func:`random_weights.random_bf16_model`: for saving, not for running)."""
    from transformers import Qwen3ASRForTokenClassification

    return random_bf16_model(Qwen3ASRForTokenClassification, config_dict, seed, std)


def _stamp(sizes: AlignerSizes, seed: int, templates: tuple[Path, Path]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for folder in templates:
        for name in ("config.json", "tokenizer.json"):
            digest.update((folder / name).read_bytes())
    stamp = {
        "format": FORMAT_VERSION,
        "sizes": asdict(sizes),
        "seed": seed,
        "templates": digest.hexdigest(),
    }
    return json.loads(json.dumps(stamp))  # as read back from build.json (tuples become lists)


def build_checkpoints(
    cache: str | os.PathLike[str],
    sizes: AlignerSizes = REAL_SIZES,
    *,
    templates: tuple[Path, Path] | None = None,
    seed: int = 0,
) -> Checkpoints:
    """Write (or reuse) the native and original checkpoints of ``sizes`` under ``cache``.

    The folders are ``<cache>/<sizes.tag>-s<seed>/{native,original}``. A
    ``build.json`` stamp, written last, records the sizes, seed and template
    files; a folder whose stamp matches is reused as it is. The real sizes take
    about 1.8 GB of disk per layout.
    """
    from safetensors.torch import save_file

    templates = templates or find_templates()
    native_tpl, original_tpl = templates
    root = Path(cache) / f"{sizes.tag}-s{seed}"
    stamp_file = root / "build.json"
    stamp = _stamp(sizes, seed, templates)
    out = Checkpoints(root / "native", root / "original", 0)
    if stamp_file.is_file():
        old = json.loads(stamp_file.read_text(encoding="utf-8"))
        if {k: v for k, v in old.items() if k != "num_parameters"} == stamp:
            return Checkpoints(out.native, out.original, int(old.get("num_parameters", 0)))
    if root.exists():
        shutil.rmtree(root)
    out.native.mkdir(parents=True)
    out.original.mkdir(parents=True)

    native_raw = json.loads((native_tpl / "config.json").read_text(encoding="utf-8"))
    model = random_model(native_config(native_raw, sizes), seed=seed)
    n_params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(out.native)
    copy_files(native_tpl, out.native, _NATIVE_EXTRA)

    tensors = renamed(model.state_dict(), _TO_ORIGINAL)
    del model
    save_file(tensors, str(out.original / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    original_raw = json.loads((original_tpl / "config.json").read_text(encoding="utf-8"))
    (out.original / "config.json").write_text(
        json.dumps(original_config(original_raw, sizes), indent=2) + "\n", encoding="utf-8"
    )
    copy_files(original_tpl, out.original, _ORIGINAL_EXTRA)

    stamp_file.write_text(
        json.dumps({**stamp, "num_parameters": n_params}, indent=2) + "\n", encoding="utf-8"
    )
    return Checkpoints(out.native, out.original, n_params)
