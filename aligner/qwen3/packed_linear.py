"""bf16 linear layers whose weights are packed once for oneDNN, on the CPU.

``torch.nn.functional.linear`` in bf16 on the CPU runs oneDNN's matrix product,
which first copies the weight into its own blocked layout, on every call. At the
aligner's shapes (hundreds to thousands of rows, 1-12 MB weights read from a
memory-mapped file) that copy made the products about 15 % slower with two
threads. :class:`PackedLinear` keeps the packed weight instead, made on its first
call in a later *pass* than its first call (:class:`PassCounter`): a model run
once, as in the one pass of a one-file run, is never packed, even though its row
tiles (:mod:`~qalign.aligner.qwen3.shapes`) call every layer several times. The
packed copies are new memory (about 840 MB at real size: 205,000 page faults and
0.4-0.6 s of a one-file run's pass when the second tile packed them), and give
the same result bit for bit (the same kernel reads the same blocked weight;
checked in the tests for the model's shapes, with and without bias, from 1 row up).

:func:`pack_linears` swaps the ``nn.Linear`` modules of a model's chosen parts
for :class:`PackedLinear` modules in place; the model's own forward code calls
them as before. It only does so where the packed path exists: CPU, bf16 weights,
a torch built with oneDNN that supports bf16 on this CPU. After packing, the
layer no longer holds its original weight, and the process lets go of a
memory-mapped original's pages (:func:`qalign.weights.release_pages`; not when
the process wrote to them), so packing does not double the weights' share of
the process's memory, while the file stays in the kernel's page cache for the
next process to map.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

import torch

from qalign.weights import release_pages

log = logging.getLogger("qalign")


@functools.cache
def can_pack(dtype: torch.dtype, device: torch.device) -> bool:
    """Whether weights of ``dtype`` on ``device`` can be packed for oneDNN (bf16 on a CPU
    whose oneDNN has bf16 kernels, and a torch that exposes the packing)."""
    if device.type != "cpu" or dtype != torch.bfloat16 or not torch.backends.mkldnn.is_available():
        return False
    ops = torch.ops.mkldnn
    try:
        return bool(ops._is_mkldnn_bf16_supported()) and all(
            hasattr(ops, name) for name in ("_reorder_linear_weight", "_linear_pointwise")
        )
    except (AttributeError, RuntimeError):
        return False


def pack_weight(weight: torch.Tensor, rows: int | None = None) -> torch.Tensor:
    """``weight`` (``(out, in)``) reordered once for oneDNN (an opaque tensor for
    :func:`packed_product`); ``rows``: the row count it will mostly see, if known."""
    if rows is None:
        return torch.ops.mkldnn._reorder_linear_weight(weight.contiguous())
    return torch.ops.mkldnn._reorder_linear_weight(weight.contiguous(), rows)


def packed_product(
    rows: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """``rows @ weight.T + bias`` for a 2-D ``rows`` with a weight from :func:`pack_weight`."""
    return torch.ops.mkldnn._linear_pointwise(rows, packed, bias, "none", [], "")


class PassCounter:
    """Counts a model's passes, so that its :class:`PackedLinear` layers pack on the
    first call of a later pass than the one they first ran in (see the module doc).
    The model calls :meth:`begin` at the start of every pass. :attr:`packing` is set
    when the second pass begins, the first in which layers pack (and release their
    originals' pages): a thread mapping those pages ahead stops on it."""

    def __init__(self) -> None:
        self.passes = 0
        self.packing = threading.Event()

    def begin(self) -> None:
        """A new pass starts."""
        self.passes += 1
        if self.passes >= 2:
            self.packing.set()


class PackedLinear(torch.nn.Module):
    """``y = x @ weight.T + bias`` like the ``nn.Linear`` it replaces, weight packed for oneDNN.

    Calls run ``torch.nn.functional.linear`` on the original weight until the weight
    is packed: on the first call of a later pass of ``passes`` than the layer's first
    call (with no ``passes``, every call counts as a pass of its own: packed on the
    second call). The original is then released (see the module doc); the bias stays
    an ordinary bf16 tensor. Inputs are ``(..., in_features)`` bf16 CPU tensors; the
    result has the layer's output width, in bf16, the same bits packed or not.
    """

    def __init__(self, linear: torch.nn.Linear, passes: PassCounter | None = None) -> None:
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        self._weight: torch.Tensor | None = linear.weight.detach()
        self._packed: torch.Tensor | None = None
        self._passes = passes
        self._first_pass: int | None = None
        self.bias = linear.bias.detach() if linear.bias is not None else None

    @property
    def packed(self) -> bool:
        """Whether the weight has been packed yet."""
        return self._packed is not None

    @property
    def original(self) -> torch.Tensor | None:
        """The original weight the layer runs on until it is packed (None once packed)."""
        return self._weight

    def _pack(self) -> torch.Tensor:
        weight = self._weight
        assert weight is not None
        self._packed = pack_weight(weight)
        self._weight = None
        release_pages(weight)
        return self._packed

    def _pass_now(self) -> int:
        if self._passes is not None:
            return self._passes.passes
        return 0 if self._first_pass is None else self._first_pass + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packed = self._packed
        if packed is None:
            now = self._pass_now()
            if self._first_pass is None:
                self._first_pass = now
            if now == self._first_pass:
                return torch.nn.functional.linear(x, self._weight, self.bias)
            packed = self._pack()
        rows = x.reshape(-1, self.in_features)
        out = packed_product(rows, packed, self.bias)
        return out.view(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"packed={self.packed}"
        )


def pack_linears(*modules: Any, passes: PassCounter | None = None) -> int:
    """Replace every bf16 CPU ``nn.Linear`` inside ``modules`` by a :class:`PackedLinear`
    (packed in the second pass counted by ``passes``, or on its second call without it).

    Returns how many layers were replaced (0 where the packed path is unavailable:
    another device or dtype, or no oneDNN bf16 support). The modules are changed in
    place and must stay on the CPU in bf16 afterwards.
    """
    count = 0
    for root in modules:
        for parent in list(root.modules()):
            for name, child in list(parent.named_children()):
                if type(child) is torch.nn.Linear and can_pack(
                    child.weight.dtype, child.weight.device
                ):
                    setattr(parent, name, PackedLinear(child, passes))
                    count += 1
    if count:
        log.debug("%d linear layers to pack for oneDNN from the second pass", count)
    return count


__all__ = ["PackedLinear", "PassCounter", "can_pack", "pack_linears"]
