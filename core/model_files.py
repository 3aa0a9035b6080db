"""Finding a model's folder: a local path, the Hugging Face cache, or (online) the Hub.

Only configs, tokenizer files and safetensors weights are ever fetched; a folder
holding only pickled weights is refused (pickles can run code). A Hub id is
looked up in the local cache first; the network is tried only when the cache
misses, and a failure says how to pass a local folder instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from qalign.errors import ModelLoadError, ModelNotFoundError

log = logging.getLogger("qalign")

Kind = Literal["aligner", "asr"]

#: Default models, and the environment variables that override them.
DEFAULT_MODELS: Mapping[str, str] = {
    "aligner": "Qwen/Qwen3-ForcedAligner-0.6B",
    "asr": "Qwen/Qwen3-ASR-0.6B",
}
MODEL_ENV_VARS: Mapping[str, str] = {
    "aligner": "QALIGN_ALIGNER_MODEL",
    "asr": "QALIGN_ASR_MODEL",
}
_CLI_FLAGS: Mapping[str, str] = {"aligner": "--model", "asr": "--asr-model"}

# Files fetched from the Hub: configs, tokenizer and safetensors weights; never pickles or code.
_HUB_PATTERNS = ["*.json", "*.jinja", "*.txt", "*.safetensors", "*.model", "*.tiktoken"]
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def resolve_model_name(name_or_path: str | os.PathLike[str] | None, kind: Kind) -> str:
    """The model to load: the argument, else the kind's environment variable, else the default."""
    if name_or_path:
        return os.fspath(name_or_path)
    return os.environ.get(MODEL_ENV_VARS[kind]) or DEFAULT_MODELS[kind]


def _how_to_pass_folder(kind: Kind) -> str:
    return (
        f"download it where the Hub is reachable and pass the folder with "
        f"{_CLI_FLAGS[kind]} /path/to/folder or the {MODEL_ENV_VARS[kind]} environment variable"
    )


def locate(name_or_path: str, kind: Kind) -> Path:
    """The local folder holding a model: the path itself, or the Hub cache (downloading if online).

    Raises:
        ModelLoadError: the folder does not exist.
        ModelNotFoundError: a Hub id that is neither cached nor reachable.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ModelLoadError(name_or_path, "is a file, not a model folder")
    if not _HUB_ID.match(name_or_path) or name_or_path.startswith((".", "~", "/")):
        raise ModelLoadError(name_or_path, "model folder does not exist")

    from huggingface_hub import snapshot_download

    try:
        return Path(
            snapshot_download(name_or_path, local_files_only=True, allow_patterns=_HUB_PATTERNS)
        )
    except Exception:  # noqa: BLE001 - any cache miss falls through to the network
        pass
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    if not offline:
        try:
            log.info("downloading %s from the Hugging Face Hub", name_or_path)
            return Path(
                snapshot_download(name_or_path, allow_patterns=_HUB_PATTERNS, etag_timeout=10)
            )
        except Exception as exc:  # noqa: BLE001 - every hub failure becomes one message
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelNotFoundError(
                name_or_path,
                f"not a local folder, not in the Hugging Face cache, and the Hub cannot be reached "
                f"({detail}); {_how_to_pass_folder(kind)}",
            ) from None
    raise ModelNotFoundError(
        name_or_path,
        f"not a local folder and not in the Hugging Face cache (HF_HUB_OFFLINE is set); "
        f"{_how_to_pass_folder(kind)}",
    )


def read_config(folder: Path) -> dict[str, Any]:
    """The folder's ``config.json`` as a dict.

    Raises:
        ModelLoadError: missing, unreadable, or not a JSON object.
    """
    file = folder / "config.json"
    if not file.is_file():
        raise ModelLoadError(folder, "no config.json: not a model folder")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(folder, f"config.json cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ModelLoadError(folder, "config.json is not a JSON object")
    return data


def check_weight_files(folder: Path) -> None:
    """Raise :class:`ModelLoadError` unless the folder has safetensors weights (pickles are refused)."""
    if (folder / "model.safetensors").is_file() or (
        folder / "model.safetensors.index.json"
    ).is_file():
        return
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in _PICKLE_SUFFIXES)
    if pickles:
        raise ModelLoadError(
            folder,
            f"has only PyTorch pickle weights ({', '.join(pickles[:3])}); qalign loads safetensors "
            "only, since pickles can run code: convert them to model.safetensors first",
        )
    raise ModelLoadError(folder, "no model weights (model.safetensors) in the folder")


__all__ = [
    "DEFAULT_MODELS",
    "MODEL_ENV_VARS",
    "Kind",
    "check_weight_files",
    "locate",
    "read_config",
    "resolve_model_name",
]
