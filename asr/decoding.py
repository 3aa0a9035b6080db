"""Greedy decoding for a batch of prompts given as embeddings, with a static KV cache.

Why not ``model.generate``: qalign needs a per-request token budget (scaled to
each clip's length), stop ids read from the checkpoint and the time of the first
token for benchmarks, and decodes the chunks of a file together at little more
than the cost of one.

The prompts run as one packed pass (no padding; positions from 0 in each, as
the reference's ``cumsum(mask) - 1`` gives them), which fills a key/value cache
allocated once for the batch (:class:`~qalign.aligner.qwen3.text_model.StaticCache`).
A bf16 decode of at least :data:`PACK_MIN_STEPS` steps on a CPU packs the layer
weights once for oneDNN's products (the same bits; a copy held until the decode
ends, see :mod:`qalign.asr.batch_decoder`).
Each step then feeds one token per row; a row attends to its own cache rows
only, through an additive mask updated in place. Each row stops at its first
stop id or at its own budget, so a row's output is the one it would get alone:
greedy decoding of a row never depends on the other rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

#: Answer positions the cache holds at first, and how many more each time it is full:
#: attention reads the whole capacity every step, so room far beyond the answer
#: costs bandwidth, and growing costs one copy of the cache per CACHE_STEP steps.
CACHE_STEP = 256
#: Fewest steps for which a decode packs the layer weights for oneDNN (bf16 on a CPU, see
#: :mod:`qalign.asr.batch_decoder`): packing rewrites every layer weight once (about
#: 0.5 s at the 0.6B size on two cores) and saves tens of milliseconds a step.
PACK_MIN_STEPS = 48


@torch.inference_mode()
def greedy_decode(
    model: Any,
    prompts: Sequence[torch.Tensor],
    budgets: Sequence[int],
    stop_ids: Sequence[int],
    pad_id: int,
    on_first_token: Callable[[], None] | None = None,
    on_steps: Callable[[int], None] | None = None,
) -> list[list[int]]:
    """Generate greedily for every prompt.

    Args:
        model: a ``Qwen3ASRForConditionalGeneration``.
        prompts: one ``(length, hidden)`` embedding tensor per request.
        budgets: the most tokens each request may generate (``>= 0``).
        stop_ids: ids that end a request (not included in its output).
        pad_id: id fed to rows that have finished.
        on_first_token: called once, right after the first token of the batch is chosen.
        on_steps: called once at the end with the number of steps run: the most tokens
            chosen for one request (its answer, plus the stop id that ended it before its
            budget).

    Returns:
        The generated ids of each request, without the stop id.
    """
    from qalign.asr.batch_decoder import BatchDecoder

    if len(prompts) != len(budgets):
        raise ValueError(f"{len(prompts)} prompts but {len(budgets)} budgets")
    steps = max((int(b) for b in budgets), default=0)
    if not prompts or steps <= 0:
        if on_steps is not None:
            on_steps(0)
        return [[] for _ in prompts]
    device = prompts[0].device
    batch = len(prompts)
    longest = max(p.shape[0] for p in prompts)

    stops = torch.tensor(sorted(set(int(i) for i in stop_ids)), dtype=torch.long, device=device)
    limits = torch.tensor([int(b) for b in budgets], dtype=torch.long, device=device)
    pad = torch.full((batch,), pad_id, dtype=torch.long, device=device)
    chosen_ids = torch.empty((batch, steps), dtype=torch.long, device=device)
    feed = torch.empty(batch, dtype=torch.long, device=device)
    done = limits <= 0
    stopped = torch.zeros_like(done)

    # Room for the prompts and the first CACHE_STEP answer tokens; a longer answer
    # grows it by CACHE_STEP positions (once per CACHE_STEP steps, never per step).
    decoder = BatchDecoder(
        model, batch, longest + min(steps, CACHE_STEP), prompts[0], pack=steps >= PACK_MIN_STEPS
    )
    try:
        hidden = decoder.prefill(list(prompts))
        taken = steps
        for step in range(steps):
            chosen = decoder.choose(hidden)
            if step == 0 and on_first_token is not None:
                on_first_token()
            chosen_ids[:, step] = chosen
            if stops.numel():
                torch.isin(chosen, stops, out=stopped)
            done |= stopped
            done |= limits <= step + 1
            if bool(done.all()):
                taken = step + 1
                break
            if step + 1 + longest > decoder.capacity:
                decoder.grow(min(decoder.capacity + CACHE_STEP, longest + steps))
            torch.where(done, pad, chosen, out=feed)
            hidden = decoder.step(feed)
    finally:
        decoder.release()  # the cache and the packed weights go now, not at the next collection
    if on_steps is not None:
        on_steps(taken)
    return _answers(chosen_ids[:, :taken].tolist(), [int(b) for b in budgets], set(stops.tolist()))


def _answers(chosen: list[list[int]], budgets: list[int], stops: set[int]) -> list[list[int]]:
    """Each row's ids up to its budget and before its first stop id."""
    out = []
    for ids, budget in zip(chosen, budgets):
        ids = ids[: max(budget, 0)]
        end = next((i for i, t in enumerate(ids) if t in stops), len(ids))
        out.append(ids[:end])
    return out
