"""Speech recognition front end (Qwen3-ASR): transcribe, then align.

>>> from qalign.asr import transcribe
>>> alignment = transcribe("talk.wav")                      # doctest: +SKIP
>>> transcript = transcribe("talk.wav", align=False)        # doctest: +SKIP

:func:`transcribe` / :func:`transcribe_batch` run the whole pipeline
(:mod:`qalign.asr.pipeline`): long audio is cut at quiet points, every chunk
is transcribed and aligned, and the chunks are merged into one alignment.
:class:`Transcriber` is the interface recognisers implement; Qwen3-ASR is
:class:`qalign.asr.qwen3.Qwen3Transcriber`.

Importing this package does not import torch or transformers; loading a model does.
"""

from qalign.asr.base import Transcriber, TranscribeRequest, Transcript, TranscriptChunk
from qalign.asr.pipeline import transcribe, transcribe_batch

__all__ = [
    "TranscribeRequest",
    "Transcriber",
    "Transcript",
    "TranscriptChunk",
    "transcribe",
    "transcribe_batch",
]
