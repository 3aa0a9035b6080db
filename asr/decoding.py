"""Greedy decoding for a batch of prompts given as embeddings, with a static KV cache.

Why not ``model.generate``: qalign needs a per-request token budget (scaled to
each clip's length), stop ids read from the checkpoint and the time of the first
token for benchmarks, and decodes the chunks of a file together at little more
than the cost of one.

The prompts run as one packed pass (no padding; positions from 0 in each, as
the reference's ``cumsum(mask) - 1`` gives them), which fills a key/value cache
allocated once for the batch (:class:`~qalign.aligner.qwen3.text_model.StaticCache`).
Each step then feeds one token per row; a row attends to its own cache rows
only, through an additive mask updated in place. Each row stops at its first
stop id or at its own budget, so a row's output is the one it would get alone:
greedy decoding of a row never depends on the other rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

#: Answer positions the cache holds at first; a longer answer doubles it.
CACHE_STEP = 256


@torch.inference_mode()
def greedy_decode(
    model: Any,
    prompts: Sequence[torch.Tensor],
    budgets: Sequence[int],
    stop_ids: Sequence[int],
    pad_id: int,
    on_first_token: Callable[[], None] | None = None,
) -> list[list[int]]:
    """Generate greedily for every prompt.

    Args:
        model: a ``Qwen3ASRForConditionalGeneration``.
        prompts: one ``(length, hidden)`` embedding tensor per request.
        budgets: the most tokens each request may generate (``>= 0``).
        stop_ids: ids that end a request (not included in its output).
        pad_id: id fed to rows that have finished.
        on_first_token: called once, right after the first token of the batch is chosen.

    Returns:
        The generated ids of each request, without the stop id.
    """
    from qalign.aligner.qwen3.text_model import TextModel

    if len(prompts) != len(budgets):
        raise ValueError(f"{len(prompts)} prompts but {len(budgets)} budgets")
    steps = max((int(b) for b in budgets), default=0)
    if not prompts or steps <= 0:
        return [[] for _ in prompts]
    lm = model.model.language_model
    text = TextModel(lm)
    embed = lm.get_input_embeddings()
    device = prompts[0].device
    batch = len(prompts)
    longest = max(p.shape[0] for p in prompts)

    stops = torch.tensor(sorted(set(int(i) for i in stop_ids)), dtype=torch.long, device=device)
    limits = torch.tensor([int(b) for b in budgets], dtype=torch.long, device=device)
    pad = torch.full((batch,), pad_id, dtype=torch.long, device=device)
    outputs: list[list[int]] = [[] for _ in prompts]
    done = limits <= 0

    # Room for the prompts and the first CACHE_STEP answer tokens; a longer answer
    # doubles the room (a few times per decode, never per step).
    cache = text.new_cache(batch, longest + min(steps, CACHE_STEP), prompts[0])
    hidden = text.prefill(list(prompts), cache)
    for step in range(steps):
        chosen = model.lm_head(hidden).argmax(dim=-1)
        if step == 0 and on_first_token is not None:
            on_first_token()
        stopped = torch.isin(chosen, stops) if stops.numel() else torch.zeros_like(done)
        for row in torch.nonzero(~done & ~stopped).flatten().tolist():
            outputs[row].append(int(chosen[row]))
        done = done | stopped | (limits <= step + 1)
        if bool(done.all()):
            break
        if int(cache.lengths.max()) >= cache.capacity:
            text.grow(cache, min(2 * cache.capacity, longest + steps))
        hidden = text.step(embed(torch.where(done, pad, chosen)), cache)
    return outputs
