"""Speech probability every 10 ms from silero-vad (the ``vad`` extra: ``pip install "qalign[vad]"``).

silero-vad (MIT licence) ships its model inside its wheel, so it works
offline. It reads 32 ms chunks one after another through a small recurrent
network. Run that way it manages about 100x real time on one CPU core (2 hours:
72 s); so the audio is cut into :data:`STREAM_SECONDS` streams that run side by
side as one batch, each preceded by :data:`PREROLL_SECONDS` of the audio before
it, whose output is dropped, so the network's state has settled when the
stream's own audio starts. That runs at several hundred times real time.

Importing silero-vad sets torch's thread count to 1 for the whole process;
:meth:`SpeechDetector.create` puts it back.

The network is a TorchScript module, run with the graph executor's optimisation off
(:data:`OPTIMIZE_GRAPH`, for every clip): its first calls otherwise profile and
re-plan the graph, about 0.04 s of a 30 s clip's 0.13 s (measured); what the
optimised graph would save on longer clips was not measured. The probabilities are
the same bit for bit (tested).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

logger = logging.getLogger("qalign")

CHUNK = 512  # samples per silero-vad step at 16 kHz (32 ms)
STREAM_SECONDS = 6.0
PREROLL_SECONDS = 1.5
_FRAME = 160
#: Whether TorchScript's graph executor may profile and optimise the network's graph.
OPTIMIZE_GRAPH = False


class SpeechDetector:
    """Streams audio blocks through silero-vad; :meth:`feed` returns speech probability per 10 ms."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._tail = np.zeros(0, np.float32)  # audio before the current block, for the pre-roll
        self._carry = np.zeros(0, np.float32)  # samples not yet a whole chunk
        self._done_frames = 0  # 10 ms frames returned so far
        self._probs: list[np.ndarray] = []  # chunk probabilities not yet turned into frames
        self._chunks_done = 0

    @classmethod
    def create(cls) -> SpeechDetector | None:
        """A detector, or ``None`` (logged once) when silero-vad is not installed."""
        try:
            import torch
        except ImportError:
            return None
        threads = torch.get_num_threads()
        try:
            from silero_vad import load_silero_vad
        except ImportError:
            logger.debug("silero-vad is not installed; pauses are found from the energy alone")
            return None
        finally:
            torch.set_num_threads(threads)
        return cls(load_silero_vad())

    def feed(self, block: np.ndarray) -> np.ndarray:
        """Speech probabilities (float32, one per 10 ms frame) for ``block``, appended after earlier blocks.

        A block's last partial chunk is held back and answered with the next
        block; the frames returned for all blocks together cover every frame.
        """
        samples = np.concatenate([self._carry, np.asarray(block, np.float32)])
        whole = samples.size // CHUNK * CHUNK
        self._carry = samples[whole:]
        if whole:
            self._run(samples[:whole])
        frames = -(-(self._tail_total + self._carry.size) // _FRAME)
        return self._frames(frames)

    @property
    def _tail_total(self) -> int:
        return self._chunks_done * CHUNK

    def _run(self, audio: np.ndarray) -> None:
        import torch

        per = int(STREAM_SECONDS * 16000) // CHUNK * CHUNK
        pre = int(PREROLL_SECONDS * 16000) // CHUNK * CHUNK
        history = np.concatenate([self._tail, audio])
        offset = self._tail.size  # where ``audio`` starts inside ``history``
        starts = list(range(0, audio.size, per))
        rows = np.zeros((len(starts), pre + per), np.float32)
        for r, s in enumerate(starts):
            a = offset + s - pre
            piece = history[max(0, a) : offset + min(audio.size, s + per)]
            rows[
                r, pre - (offset + s - max(0, a)) : pre - (offset + s - max(0, a)) + piece.size
            ] = piece
        batch = torch.from_numpy(rows)
        self._model.reset_states()
        out = []
        # One thread: the steps are small, and on a busy machine a second thread
        # waiting for its share makes them 100x slower (measured).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode(), torch.jit.optimized_execution(OPTIMIZE_GRAPH):
                for c in range(0, rows.shape[1], CHUNK):
                    out.append(self._model(batch[:, c : c + CHUNK], 16000).reshape(-1, 1))
        finally:
            torch.set_num_threads(threads)
        probs = torch.cat(out, dim=1).numpy()[:, pre // CHUNK :]
        flat = probs.reshape(-1)[: audio.size // CHUNK]
        self._probs.append(flat.astype(np.float32))
        self._chunks_done += audio.size // CHUNK
        self._tail = history[-pre:] if pre else np.zeros(0, np.float32)

    def _frames(self, upto: int) -> np.ndarray:
        chunk_probs = np.concatenate(self._probs) if self._probs else np.zeros(0, np.float32)
        self._probs = [chunk_probs]
        frames = np.arange(self._done_frames, upto)
        if frames.size == 0:
            return np.zeros(0, np.float32)
        idx = ((frames * _FRAME + _FRAME // 2) // CHUNK).astype(np.int64)
        last = chunk_probs[-1] if chunk_probs.size else 0.0
        values = np.where(
            idx < chunk_probs.size,
            chunk_probs[np.minimum(idx, max(0, chunk_probs.size - 1))] if chunk_probs.size else 0.0,
            last,
        )
        self._done_frames = upto
        return values.astype(np.float32)
