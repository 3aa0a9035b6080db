"""Load Qwen3-ForcedAligner and Qwen3-ASR checkpoints, safely and in either layout.

A model is named by a Hugging Face Hub id or a local folder. Two layouts exist
on disk and both load here:

* the **original** one (``Qwen/Qwen3-ForcedAligner-0.6B``, ``Qwen/Qwen3-ASR-*``):
  ``config.json`` nests the model in ``thinker_config`` and the weights are
  named ``thinker.*``. It is converted in memory (config and weight names);
* the **native** transformers one (``...-hf`` repositories), loaded as it is by
  ``Qwen3ASRForTokenClassification`` (aligner) or
  ``Qwen3ASRForConditionalGeneration`` (ASR).

Loading is strict: safetensors only, never remote code, and any missing,
unexpected or mis-shaped weight raises :class:`~qalign.errors.ModelLoadError`
(transformers on its own would randomly initialise what it cannot find). A Hub
id is looked up in the local cache first; the network is tried only when the
cache misses, and a failure says how to pass a local folder instead.

Heavy imports (torch, transformers) happen inside the functions.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from qalign.errors import ModelLoadError, ModelNotFoundError, QalignError

if TYPE_CHECKING:
    import torch

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

# Weight renames original -> native. Each pattern is anchored and maps an original
# prefix straight to its final name, so the order in which they apply does not matter.
_AUDIO_RENAMES = {
    r"^thinker\.audio_tower\.proj1\.": "model.multi_modal_projector.linear_1.",
    r"^thinker\.audio_tower\.proj2\.": "model.multi_modal_projector.linear_2.",
    r"^thinker\.audio_tower\.(?!proj[12]\.)": "model.audio_tower.",
    r"^thinker\.model\.": "model.language_model.",
}
_HEAD_RENAME = {"aligner": "score.", "asr": "lm_head."}

# Config keys carried over from the original sub-configs; the rest are generation
# defaults or keys the native classes do not know (mrope, max_source_positions).
_AUDIO_KEYS = (
    "activation_dropout", "activation_function", "attention_dropout", "d_model",
    "downsample_hidden_size", "dropout", "encoder_attention_heads", "encoder_ffn_dim",
    "encoder_layers", "initializer_range", "n_window", "n_window_infer", "num_mel_bins",
    "output_dim", "scale_embedding",
)  # fmt: skip
_TEXT_KEYS = (
    "attention_bias", "attention_dropout", "head_dim", "hidden_act", "hidden_size",
    "initializer_range", "intermediate_size", "max_position_embeddings", "num_attention_heads",
    "num_hidden_layers", "num_key_value_heads", "rms_norm_eps", "vocab_size",
    "tie_word_embeddings", "use_cache", "sliding_window", "use_sliding_window",
    "max_window_layers",
)  # fmt: skip
# Number of audio tokens one 100-frame encoder chunk yields; the native encoder's
# sinusoidal table only needs that many rows.
_TOKENS_PER_CHUNK = 13


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


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A checkpoint ready for inference.

    Attributes:
        model: the transformers model, in eval mode, on :attr:`device`, in :attr:`dtype`.
        tokenizer: the checkpoint's own tokenizer (its split regex unchanged).
        config: token ids and sizes read from the checkpoint.
        device: torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
        dtype: parameter dtype.
        source: the model as the user named it (Hub id or folder).
        path: the local folder the files were read from.
    """

    model: Any
    tokenizer: Any
    config: ModelSummary
    device: str
    dtype: torch.dtype
    source: str
    path: Path


# -- device and dtype -------------------------------------------------------------------


def resolve_device(device: str) -> str:
    """Turn ``"auto"`` into ``"cuda"``, then ``"mps"``, then ``"cpu"``; check any other name.

    Raises:
        QalignError: the device is unknown or not available here.
    """
    import torch

    name = (device or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise QalignError(
            f"unknown device {device!r} (use auto, cpu, cuda, cuda:N or mps)"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise QalignError(f"device {device!r} requested but CUDA is not available")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise QalignError(
                f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise QalignError(f"device {device!r} requested but MPS is not available")
    elif dev.type != "cpu":
        raise QalignError(f"unsupported device {device!r} (use auto, cpu, cuda, cuda:N or mps)")
    return name


_DTYPE_NAMES = {
    "fp32": "float32", "float32": "float32", "float": "float32",
    "bf16": "bfloat16", "bfloat16": "bfloat16",
    "fp16": "float16", "float16": "float16", "half": "float16",
}  # fmt: skip


def cpu_has_fast_bf16(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX), read from ``cpuinfo``.

    Where that file does not exist (macOS, Windows) the answer is ``False``: bf16
    would be emulated there and slower than fp32.
    """
    try:
        text = Path(cpuinfo).read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[-1].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def resolve_dtype(dtype: str, device: str) -> torch.dtype:
    """Turn ``"auto"`` into bf16 where it is fast (CUDA with bf16, CPUs with AVX512-BF16 or AMX), else fp32.

    Explicit names: ``fp32``/``float32``, ``bf16``/``bfloat16``, ``fp16``/``float16``.

    Raises:
        QalignError: unknown dtype name.
    """
    import torch

    name = (dtype or "auto").strip().lower()
    if name == "auto":
        kind = torch.device(device).type
        if kind == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        if kind == "cpu" and cpu_has_fast_bf16():
            return torch.bfloat16
        return torch.float32
    if name not in _DTYPE_NAMES:
        raise QalignError(f"unknown dtype {dtype!r} (use auto, fp32, bf16 or fp16)")
    return getattr(torch, _DTYPE_NAMES[name])


# -- locating the files -----------------------------------------------------------------


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


def _read_config(folder: Path) -> dict[str, Any]:
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


def _check_weight_files(folder: Path) -> None:
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


# -- config conversion ------------------------------------------------------------------


def _layout_and_kind(
    folder: Path, raw: dict[str, Any]
) -> tuple[Literal["original", "native"], Kind]:
    model_type = raw.get("model_type")
    if isinstance(raw.get("thinker_config"), dict):
        thinker = raw["thinker_config"]
        is_aligner = (
            "classify_num" in thinker or thinker.get("model_type") == "qwen3_forced_aligner"
        )
        return "original", "aligner" if is_aligner else "asr"
    if model_type != "qwen3_asr":
        raise ModelLoadError(
            folder, f"model_type {model_type!r} is not a Qwen3-ASR / Qwen3-ForcedAligner checkpoint"
        )
    archs = raw.get("architectures") or []
    if "Qwen3ASRForTokenClassification" in archs:
        return "native", "aligner"
    if "Qwen3ASRForConditionalGeneration" in archs:
        return "native", "asr"
    n_labels = raw.get("num_labels") or len(raw.get("id2label") or {})
    return "native", "aligner" if n_labels > 2 else "asr"


def convert_original_config(raw: dict[str, Any], kind: Kind) -> dict[str, Any]:
    """The native ``Qwen3ASRConfig`` keyword arguments for an original-layout ``config.json``.

    ``thinker_config`` is flattened, ``classify_num`` becomes ``num_labels``, the
    audio table is cut to 13 positions and the mRoPE keys are dropped: with audio
    and text only, the three interleaved position rows are equal, which is plain RoPE.
    """
    thinker = raw["thinker_config"]
    audio_in = thinker.get("audio_config") or {}
    text_in = thinker.get("text_config") or {}
    audio = {k: audio_in[k] for k in _AUDIO_KEYS if k in audio_in}
    if "num_attention_heads" in audio_in and "encoder_attention_heads" not in audio:
        audio["encoder_attention_heads"] = audio_in["num_attention_heads"]
    audio["model_type"] = "qwen3_asr_encoder"
    audio["max_position_embeddings"] = _TOKENS_PER_CHUNK
    text = {k: text_in[k] for k in _TEXT_KEYS if k in text_in}
    text["model_type"] = "qwen3"
    rope = text_in.get("rope_parameters") or {}
    text["rope_parameters"] = {
        "rope_theta": rope.get("rope_theta", text_in.get("rope_theta", 1_000_000)),
        "rope_type": "default",
    }
    out: dict[str, Any] = {
        "audio_config": audio,
        "text_config": text,
        "audio_token_id": thinker["audio_token_id"],
        "tie_word_embeddings": bool(text_in.get("tie_word_embeddings", False)),
    }
    if kind == "aligner":
        out["num_labels"] = int(thinker["classify_num"])
        out["timestamp_token_id"] = raw["timestamp_token_id"]
        out["tie_word_embeddings"] = False
    elif "timestamp_token_id" in raw:
        out["timestamp_token_id"] = raw["timestamp_token_id"]
    return out


def _weight_renames(kind: Kind) -> dict[str, str]:
    return {**_AUDIO_RENAMES, r"^thinker\.lm_head\.": _HEAD_RENAME[kind]}


def rename_original_key(key: str, kind: Kind) -> str:
    """The native name of an original-layout weight name (``thinker.*``)."""
    for pattern, target in _weight_renames(kind).items():
        if re.match(pattern, key):
            return re.sub(pattern, target, key, count=1)
    if key.startswith("thinker."):
        return "model." + key[len("thinker.") :]
    return key


# -- the loader -------------------------------------------------------------------------


def _token_id(tokenizer: Any, token: str) -> int | None:
    tid = tokenizer.convert_tokens_to_ids(token)
    unk = getattr(tokenizer, "unk_token_id", None)
    if tid is None or (unk is not None and tid == unk and token != tokenizer.unk_token):
        return None
    return int(tid)


def _summary(
    folder: Path,
    raw: dict[str, Any],
    layout: Literal["original", "native"],
    kind: Kind,
    config: Any,
    tokenizer: Any,
) -> ModelSummary:
    thinker = raw.get("thinker_config") or {}

    def need(token: str, from_config: Any) -> int:
        found = _token_id(tokenizer, token)
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
    audio_pad = need("<|audio_pad|>", config.audio_token_id)
    timestamp_id: int | None = None
    segment_ms: float | None = None
    num_labels: int | None = None
    if kind == "aligner":
        timestamp_id = need("<timestamp>", config.timestamp_token_id)
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
        num_labels = int(config.num_labels)
    eos: list[int] = []
    for token in ("<|im_end|>", "<|endoftext|>"):
        tid = _token_id(tokenizer, token)
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
            _token_id(tokenizer, "<|endoftext|>")
            or tokenizer.pad_token_id
            or (eos[0] if eos else 0)
        )
    langs = raw.get("support_languages")
    audio_cfg = config.audio_config
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
        asr_text_token_id=_token_id(tokenizer, "<asr_text>"),
        num_mel_bins=int(audio_cfg.num_mel_bins),
        n_window=int(audio_cfg.n_window),
        n_window_infer=int(audio_cfg.n_window_infer),
    )


def load_model(
    name_or_path: str | os.PathLike[str] | None,
    kind: Kind,
    *,
    device: str = "auto",
    dtype: str = "auto",
    mapped: bool | None = None,
) -> LoadedModel:
    """Load a Qwen3-ForcedAligner (``kind="aligner"``) or Qwen3-ASR (``kind="asr"``) checkpoint.

    Args:
        name_or_path: Hub id or local folder; ``None`` uses the kind's environment
            variable (``QALIGN_ALIGNER_MODEL`` / ``QALIGN_ASR_MODEL``), else the default model.
        kind: which model the caller expects; any other checkpoint is refused.
        device: ``"auto"`` (cuda, then mps, then cpu) or a torch device name.
        dtype: ``"auto"`` (see :func:`resolve_dtype`), ``"fp32"``, ``"bf16"`` or ``"fp16"``.
            Weights are loaded directly in this dtype.
        mapped: weights stay memory-mapped views of the file (no copy, pages read on
            first use) or are copied into the process; default: mapped for the aligner
            (one pass per clip), copied for ASR (decoding reads every weight at each step).

    Raises:
        ModelLoadError: the folder or Hub id cannot be found, has no safetensors weights,
            is not the expected kind of model, or any weight is missing, unexpected or mis-shaped.
        QalignError: unknown or unavailable device or dtype.
    """
    if kind not in DEFAULT_MODELS:
        raise ValueError(f"kind must be 'aligner' or 'asr', not {kind!r}")
    source = resolve_model_name(name_or_path, kind)
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    folder = locate(source, kind)
    raw = _read_config(folder)
    layout, found_kind = _layout_and_kind(folder, raw)
    if found_kind != kind:
        wanted = "a forced aligner" if kind == "aligner" else "an ASR model"
        got = "a forced aligner" if found_kind == "aligner" else "an ASR model"
        raise ModelLoadError(folder, f"is {got} checkpoint, but {wanted} is needed here")
    _check_weight_files(folder)

    from transformers import (
        AutoTokenizer,
        Qwen3ASRConfig,
        Qwen3ASRForConditionalGeneration,
        Qwen3ASRForTokenClassification,
    )

    model_cls = (
        Qwen3ASRForTokenClassification if kind == "aligner" else Qwen3ASRForConditionalGeneration
    )
    try:
        if layout == "original":
            config = Qwen3ASRConfig(**convert_original_config(raw, kind))
        else:
            config = Qwen3ASRConfig.from_pretrained(folder, local_files_only=True)
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed config, in whatever way
        raise ModelLoadError(
            folder, f"config.json is not a valid Qwen3-ASR config: {exc}"
        ) from None
    if kind == "aligner" and not (getattr(config, "num_labels", 0) or 0) > 2:
        raise ModelLoadError(folder, "config has no timestamp classes (num_labels / classify_num)")

    from qalign.weights import build_model

    renames = (lambda key: rename_original_key(key, kind)) if layout == "original" else None
    keep_mapped = kind == "aligner" if mapped is None else mapped
    model = build_model(folder, model_cls, config, torch_dtype, renames, mapped=keep_mapped)

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
    except Exception as exc:  # noqa: BLE001
        raise ModelLoadError(folder, f"tokenizer cannot be loaded: {exc}") from None
    summary = _summary(folder, raw, layout, kind, config, tokenizer)

    model.eval()
    if dev != "cpu":
        model.to(dev)
    log.info(
        "loaded %s (%s layout, %s) on %s as %s",
        source,
        layout,
        kind,
        dev,
        str(torch_dtype).replace("torch.", ""),
    )
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        config=summary,
        device=dev,
        dtype=torch_dtype,
        source=source,
        path=folder,
    )
