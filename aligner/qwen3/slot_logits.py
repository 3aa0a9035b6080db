"""Per-slot reductions of ``[2n, C]`` slot logits, computed in torch where the logits are.

The decoders need few numbers from each slot's ``C`` classes (5,000 in the released
checkpoints): the row's log-sum-exp and first argmax, the logits at a few classes
around a pick, the logits over a band of classes, the best logit outside a band, and
the first and last class reaching a threshold. :class:`SlotLogits` computes them with
torch ops on the logits' own device (the same code on CPU and CUDA) and hands the
host only ``[slots]`` or ``[slots, k]`` arrays, or the window of classes a dynamic
programme needs;
:attr:`SlotLogits.host_bytes` counts what crossed. The sequential parts (the order
repair, the dynamic programme) run on the host over those small arrays.

Every value handed over is an exact copy of a logit, an index, or a comparison, so
the decoders' class picks do not depend on where the reductions ran; only the
log-sum-exp is rounded (sums of exponentials in the logits' dtype, log in float64).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["CHUNK_ROWS", "SlotLogits"]

#: Rows per chunk in the whole-row passes, to keep temporaries small.
CHUNK_ROWS = 1024
# Columns per block in the first-argmax search.
_BLOCK = 64
# Lowest shifted logit the log-sum-exp exponentiates (exp(-80) is a normal float32).
_FLOOR = -80.0


def _as_tensor(logits: Any) -> torch.Tensor:
    import torch

    if isinstance(logits, torch.Tensor):
        return logits.detach()
    values = np.ascontiguousarray(logits)
    with warnings.catch_warnings():  # read-only arrays are only read here
        warnings.simplefilter("ignore", UserWarning)
        return torch.as_tensor(values)


def _top_and_first_argmax(rows: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Each row's maximum (NaN where it holds one), the first column holding it (int64),
    and the maxima of its blocks of ``_BLOCK`` columns (``[rows, ceil(C / _BLOCK)]``).

    Blocks of ``_BLOCK`` columns are reduced with ``amax`` (vectorised, unlike
    ``argmax`` on the CPU); the row's maximum is the best block's, and the first
    block holding it is then searched.
    """
    import torch

    n_rows, n_cols = rows.shape
    whole = n_cols - n_cols % _BLOCK
    parts = []
    if whole:
        parts.append(rows[:, :whole].unflatten(1, (whole // _BLOCK, _BLOCK)).amax(dim=2))
    if whole < n_cols:
        parts.append(rows[:, whole:].amax(dim=1, keepdim=True))
    blocks = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
    top = blocks.amax(dim=1)
    block = (blocks == top[:, None]).to(torch.uint8).argmax(dim=1)
    cols = (block * _BLOCK)[:, None] + torch.arange(_BLOCK, device=rows.device)
    inside = cols < n_cols
    window = rows.gather(1, torch.where(inside, cols, n_cols - 1))
    first = ((window == top[:, None]) & inside).to(torch.uint8).argmax(dim=1)
    return top, block * _BLOCK + first, blocks


class SlotLogits:
    """``[2n, C]`` slot logits (numpy array or torch tensor on any device) and their
    per-row statistics.

    Attributes:
        values: the logits as a float32 or float64 tensor, on their own device
            (numpy input is wrapped without a copy where its dtype allows).
        lse: float64 ``[2n]`` per-row log-sum-exp (host).
        best: int64 ``[2n]`` per-row first argmax (host).
        host_bytes: bytes copied from the logits' device to the host so far.

    ``pairs`` (the default) asks for two rows (start, end) per unit.

    Raises:
        ValueError: not 2-D, an odd number of rows with ``pairs``, no classes, or a row with NaN,
            +inf, or every class -inf.
    """

    def __init__(self, logits: Any, *, pairs: bool = True) -> None:
        import torch

        values = _as_tensor(logits)
        if values.ndim != 2:
            raise ValueError(
                f"logits must be 2-D [2 * units, classes], got shape {tuple(values.shape)}"
            )
        if pairs and values.shape[0] % 2:
            raise ValueError(f"logits need two slots per unit, got an odd {values.shape[0]} rows")
        if values.shape[1] == 0:
            raise ValueError("logits have no classes")
        if values.dtype not in (torch.float32, torch.float64):
            wide = values.element_size() > 4 and not values.is_complex()
            values = values.to(torch.float64 if wide else torch.float32)
        self.values = values
        self.host_bytes = 0
        n_slots = values.shape[0]
        top = values.new_empty(n_slots)
        self._blocks = values.new_empty((n_slots, -(-values.shape[1] // _BLOCK)))
        best = torch.empty(n_slots, dtype=torch.int64, device=values.device)
        sums = values.new_empty(n_slots)
        for r0 in range(0, n_slots, CHUNK_ROWS):
            chunk = values[r0 : r0 + CHUNK_ROWS]
            rows = slice(r0, r0 + chunk.shape[0])
            # NaN propagates into the maximum: such rows are refused below.
            row_top, best[rows], self._blocks[rows] = _top_and_first_argmax(chunk)
            top[rows] = row_top
            # Classes more than _FLOOR below the top add under 1e-31 to the sum;
            # the floor keeps exp off its slow underflow path.
            shifted = (chunk - row_top[:, None]).clamp_(min=_FLOOR).exp_()
            sums[rows] = shifted.sum(dim=1)
        top_host = self._host(top).astype(np.float64)
        unusable = np.flatnonzero(~np.isfinite(top_host))
        if unusable.size:
            raise ValueError(
                f"logits row {int(unusable[0])} is not usable: NaN, +inf, or every class -inf"
            )
        self.best = self._host(best)
        self.lse = top_host + np.log(self._host(sums).astype(np.float64))

    @classmethod
    def of(cls, logits: Any, *, pairs: bool = True) -> SlotLogits:
        """``logits`` itself when already a :class:`SlotLogits`, else a new one."""
        return logits if isinstance(logits, SlotLogits) else cls(logits, pairs=pairs)

    @property
    def shape(self) -> tuple[int, int]:
        """``(slots, classes)``."""
        return int(self.values.shape[0]), int(self.values.shape[1])

    def _host(self, tensor: torch.Tensor) -> np.ndarray:
        self.host_bytes += tensor.numel() * tensor.element_size()
        return tensor.cpu().numpy()

    def _index(self, array: np.ndarray) -> torch.Tensor:
        import torch

        return torch.as_tensor(
            np.ascontiguousarray(array, dtype=np.int64), device=self.values.device
        )

    def at(self, classes: np.ndarray) -> np.ndarray:
        """float64 ``[slots, k]``: row ``s``'s logits at ``classes[s]`` (each in ``[0, C)``)."""
        if classes.size == 0:
            return np.zeros(classes.shape, dtype=np.float64)
        picked = self.values.gather(1, self._index(classes))
        return self._host(picked).astype(np.float64)

    def probs_around(self, centre: np.ndarray, radius: int) -> np.ndarray:
        """float64 ``[slots, 2 * radius + 1]``: row ``s``'s probabilities (softmax over its
        classes) at classes ``centre[s] - radius .. centre[s] + radius``; 0 for a class
        outside ``[0, C)``. ``centre``: int64 ``[slots]``, each in ``[0, C)``."""
        n_classes = self.shape[1]
        around = centre[:, None] + np.arange(-radius, radius + 1)
        inside = (around >= 0) & (around < n_classes)
        picked = self.at(np.clip(around, 0, n_classes - 1))
        return np.where(inside, np.exp(picked - self.lse[:, None]), 0.0)

    def _ranges(self, lo: np.ndarray, hi: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """``[slots, W]`` classes ``lo[s] + j`` (``W``: widest range) and which are in
        ``[lo[s], hi[s]]``; the others repeat ``lo[s]``."""
        import torch

        lo_t = self._index(lo)
        offsets = torch.arange(int((hi - lo).max()) + 1, device=lo_t.device)
        valid = offsets <= self._index(hi - lo)[:, None]
        return torch.where(valid, lo_t[:, None] + offsets, lo_t[:, None]), valid

    def window(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The logits (in their own dtype) that cover classes ``lo[s]..hi[s]`` of each
        row, as ``(values, base)``: ``values[s, j]`` is class ``base[s] + j``.

        Narrow ranges come as ``[slots, widest]`` (``base = lo``); where that would
        be at least half of the rows up to ``max(hi)``, the rows themselves come
        (``base = 0``). ``lo <= hi`` within ``[0, C)``.
        """
        n_slots = self.shape[0]
        width = int((hi - lo).max()) + 1 if n_slots else 1
        end = int(hi.max()) + 1 if n_slots else 1
        if 2 * width >= end:
            return self._host(self.values[:, :end]), np.zeros(n_slots, dtype=np.int64)
        cols, _ = self._ranges(lo, hi)
        return self._host(self.values.gather(1, cols)), np.asarray(lo, dtype=np.int64)

    def outside_max(self, lo: np.ndarray, hi: np.ndarray, last: int) -> np.ndarray:
        """float64 ``[slots]``: each row's best logit among classes ``<= last`` outside
        ``[lo[s], hi[s]]`` (``hi <= last``); ``-inf`` where there is none.

        Blocks of ``_BLOCK`` classes wholly outside the range and up to ``last`` give
        their maxima (kept from the first pass); the at most three blocks holding
        ``lo``, ``hi`` or ``last`` are searched class by class.
        """
        import torch

        n_slots, n_classes = self.shape
        if n_slots == 0:
            return np.zeros(0, dtype=np.float64)
        lo_t, hi_t = self._index(lo), self._index(hi)
        device = lo_t.device
        starts = torch.arange(self._blocks.shape[1], device=device) * _BLOCK
        ends = torch.clamp(starts + _BLOCK - 1, max=n_classes - 1)
        whole = (ends <= last) & ((ends < lo_t[:, None]) | (starts > hi_t[:, None]))
        best = self._blocks.masked_fill(~whole, float("-inf")).amax(dim=1)
        edges = torch.stack([lo_t, hi_t, torch.full_like(lo_t, last)], dim=1) // _BLOCK
        cols = ((edges * _BLOCK)[:, :, None] + torch.arange(_BLOCK, device=device)).flatten(1)
        keep = (cols <= last) & ((cols < lo_t[:, None]) | (cols > hi_t[:, None]))
        near = self.values.gather(1, cols.clamp(max=n_classes - 1))
        near = near.masked_fill(~keep, float("-inf")).amax(dim=1)
        return self._host(torch.maximum(best, near)).astype(np.float64)

    def reaching(
        self, rows: np.ndarray, thresholds: np.ndarray, last: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """For rows ``rows``: the first and last class ``<= last`` whose logit is
        ``>= thresholds`` (float64, one per row given); ``-1`` for both where none is."""
        import torch

        first = np.full(rows.size, -1, dtype=np.int64)
        final = np.full(rows.size, -1, dtype=np.int64)
        cols = torch.arange(last + 1, device=self.values.device)
        limit = torch.as_tensor(np.asarray(thresholds, dtype=np.float64), device=cols.device)
        index = self._index(rows)
        for c0 in range(0, rows.size, CHUNK_ROWS):
            which = index[c0 : c0 + CHUNK_ROWS]
            # float32 logits promote to float64 here: the comparison is exact.
            keep = self.values[which, : last + 1] >= limit[c0 : c0 + CHUNK_ROWS, None]
            lo = torch.where(keep, cols, last + 1).amin(dim=1)
            hi = torch.where(keep, cols, -1).amax(dim=1)
            found = hi >= 0
            both = torch.stack([torch.where(found, lo, -1), hi])
            span = self._host(both)
            first[c0 : c0 + which.shape[0]] = span[0]
            final[c0 : c0 + which.shape[0]] = span[1]
        return first, final
