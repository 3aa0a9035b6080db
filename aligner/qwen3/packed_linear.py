"""bf16 linear layers whose weights are packed once for oneDNN, on the CPU.

``torch.nn.functional.linear`` in bf16 on the CPU runs oneDNN's matrix product,
which first copies the weight into its own blocked layout, on every call. At the
aligner's shapes (hundreds to thousands of rows, 1-12 MB weights read from a
memory-mapped file) that copy made the products about 15 % slower with two
threads. :class:`PackedLinear` keeps the packed weight instead, made on the
second call (so loading a model costs nothing more, and a layer that runs once,
as in the one pass of a one-file run, is never packed: the packed copies are new
memory, about 470,000 page faults and 0.4 s of the first pass at real size), and
gives the same result bit for bit (the same kernel reads
the same blocked weight; checked in the tests for the model's shapes, with and
without bias, from 1 row up).

:func:`pack_linears` swaps the ``nn.Linear`` modules of a model's chosen parts
for :class:`PackedLinear` modules in place; the model's own forward code calls
them as before. It only does so where the packed path exists: CPU, bf16 weights,
a torch built with oneDNN that supports bf16 on this CPU. After packing, the
layer no longer holds its original weight, and the pages of a memory-mapped
original are handed back to the kernel (``MADV_PAGEOUT``, which never changes
their contents), so packing does not double the weights' share of memory.
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

import torch

log = logging.getLogger("qalign")

#: The call on which a layer's weight is packed (earlier calls use the original weight).
PACK_ON_CALL = 2
#: ``madvise`` advice that reclaims pages without changing what they hold (Linux 5.4+).
_MADV_PAGEOUT = 21


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


def _page_out(tensor: torch.Tensor) -> None:
    """Ask the kernel to reclaim the whole pages under ``tensor``'s bytes (best effort).

    ``MADV_PAGEOUT`` drops clean file-backed pages (a memory-mapped weight comes back
    from the file if it is ever read again) and swaps anonymous ones out where swap
    exists; it never changes what the memory holds, so it is safe whatever else
    still refers to those bytes.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import mmap

    start = tensor.data_ptr()
    end = start + tensor.numel() * tensor.element_size()
    page = mmap.PAGESIZE
    first, last = -(-start // page) * page, end // page * page
    if last <= first:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_PAGEOUT)
    except (OSError, AttributeError):  # no libc symbol: nothing to hand back
        return


class PackedLinear(torch.nn.Module):
    """``y = x @ weight.T + bias`` like the ``nn.Linear`` it replaces, weight packed for oneDNN.

    The first call runs ``torch.nn.functional.linear`` on the original weight; the
    weight is packed on the second (and the original released, see the module
    doc); the bias stays an ordinary bf16 tensor. Inputs are ``(..., in_features)``
    bf16 CPU tensors; the result has the layer's output width, in bf16.
    """

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        self._weight: torch.Tensor | None = linear.weight.detach()
        self._packed: torch.Tensor | None = None
        self._calls = 0
        self.bias = linear.bias.detach() if linear.bias is not None else None

    @property
    def packed(self) -> bool:
        """Whether the weight has been packed yet (on the first call)."""
        return self._packed is not None

    def _pack(self) -> torch.Tensor:
        weight = self._weight
        assert weight is not None
        self._packed = pack_weight(weight)
        self._weight = None
        _page_out(weight)
        return self._packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packed = self._packed
        if packed is None:
            self._calls += 1
            if self._calls < PACK_ON_CALL:
                return torch.nn.functional.linear(x, self._weight, self.bias)
            packed = self._pack()
        rows = x.reshape(-1, self.in_features)
        out = packed_product(rows, packed, self.bias)
        return out.view(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, packed=True"


def pack_linears(*modules: Any) -> int:
    """Replace every bf16 CPU ``nn.Linear`` inside ``modules`` by a :class:`PackedLinear`.

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
                    setattr(parent, name, PackedLinear(child))
                    count += 1
    if count:
        log.debug("packed %d linear layers for oneDNN", count)
    return count


__all__ = ["PACK_ON_CALL", "PackedLinear", "can_pack", "pack_linears"]
