"""Greedy decoding for a batch of prompts given as embeddings, with a KV cache.

Why not ``model.generate``: qalign needs a per-request token budget (scaled to
each clip's length), stop ids read from the checkpoint, positions that ignore
left padding (``cumsum(mask) - 1``, as the reference computes them) and the
time of the first token for benchmarks. The loop is short enough to keep
those explicit.

A batch is left-padded. Each row stops at its first stop id or at its own
budget, so a row's output is the one it would get alone: greedy decoding of a
row never depends on the other rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch


@torch.no_grad()
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
        pad_id: id fed to rows that have finished, and used for left padding.
        on_first_token: called once, right after the first token of the batch is chosen.

    Returns:
        The generated ids of each request, without the stop id.
    """
    from transformers.cache_utils import DynamicCache

    if len(prompts) != len(budgets):
        raise ValueError(f"{len(prompts)} prompts but {len(budgets)} budgets")
    if not prompts:
        return []
    lm = model.model.language_model
    embed = lm.get_input_embeddings()
    device = prompts[0].device
    batch = len(prompts)
    length = max(p.shape[0] for p in prompts)
    hidden = prompts[0].shape[1]

    pad_vector = embed(torch.tensor([pad_id], device=device))[0].to(prompts[0].dtype)
    inputs = pad_vector.expand(batch, length, hidden).clone()
    mask = torch.zeros((batch, length), dtype=torch.long, device=device)
    for row, prompt in enumerate(prompts):
        inputs[row, length - prompt.shape[0] :] = prompt
        mask[row, length - prompt.shape[0] :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)

    stops = torch.tensor(sorted(set(int(i) for i in stop_ids)), dtype=torch.long, device=device)
    limits = torch.tensor([int(b) for b in budgets], dtype=torch.long, device=device)
    outputs: list[list[int]] = [[] for _ in prompts]
    done = limits <= 0
    steps = int(limits.max().item())

    cache = DynamicCache(config=lm.config)
    out = lm(
        inputs_embeds=inputs,
        attention_mask=mask,
        position_ids=positions,
        cache=cache,
        use_cache=True,
    )
    for step in range(steps):
        logits = model.lm_head(out.last_hidden_state[:, -1, :])
        chosen = logits.argmax(dim=-1)
        if step == 0 and on_first_token is not None:
            on_first_token()
        stopped = torch.isin(chosen, stops) if stops.numel() else torch.zeros_like(done)
        for row in torch.nonzero(~done & ~stopped).flatten().tolist():
            outputs[row].append(int(chosen[row]))
        done = done | stopped | (limits <= step + 1)
        if bool(done.all()):
            break
        chosen = torch.where(done, torch.full_like(chosen, pad_id), chosen)
        mask = torch.cat([mask, mask.new_ones((batch, 1))], dim=1)
        positions = positions[:, -1:] + 1
        out = lm(
            inputs_embeds=embed(chosen[:, None]),
            attention_mask=mask,
            position_ids=positions,
            cache=out.cache,
            use_cache=True,
        )
    return outputs
