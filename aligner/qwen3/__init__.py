"""The Qwen3-ForcedAligner engine and its internals.

* :mod:`~qalign.aligner.qwen3.units`: transcript -> alignable units (per language;
  Japanese words in :mod:`~qalign.aligner.qwen3.japanese_words`);
* :mod:`~qalign.aligner.qwen3.features`: log-mel features and the token layout;
* :mod:`~qalign.aligner.qwen3.audio_encoder`: the audio tower, one clip at a time;
* :mod:`~qalign.aligner.qwen3.model`: one forward pass -> logits at the timestamp slots;
* :mod:`~qalign.aligner.qwen3.decoding`: slot logits -> times;
* :mod:`~qalign.aligner.qwen3.engine`: :class:`Qwen3Aligner`, the :class:`~qalign.aligner.Aligner` backend.

Importing this package does not import torch.
"""

from __future__ import annotations

from qalign.aligner.qwen3.engine import DEFAULT_MAX_DURATION, Qwen3Aligner

__all__ = ["DEFAULT_MAX_DURATION", "Qwen3Aligner"]
