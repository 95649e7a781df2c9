"""Batched forward passes that score candidate continuations with a shared prefix.

The scoring plan for one batch of prompts (all id lists, already rendered):

1. the **prefix** shared by every prompt is run once (batch size 1), or taken from the
   prefix cache;
2. the per-prompt **suffixes** run as one batch on top of the prefix states, left-padded so
   the last position of every row is the prompt's last token; one slice of logits there
   scores the first token of every candidate (single-token candidates end here);
3. candidates longer than one token run as one more batch, each row on top of its prompt's
   states, and the remaining tokens are read from those logits.

Rows with padding in the middle (left pads after the prefix) are handled with an explicit
attention mask and explicit position ids, so every real token sees the same positions as in
an unpadded forward.

    >>> from memplay.agents.llm.kv_scoring import pad_left
    >>> pad_left([[1, 2], [3]], pad_id=0)
    ([[1, 2], [0, 3]], [[1, 1], [0, 1]])
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch
from transformers import DynamicCache

from memplay.agents.llm.prefix_cache import KV

__all__ = ["cache_to_kv", "extend_prefix", "next_token_logprobs", "pad_left", "tail_logprobs"]


def _cache_kwarg(model: Any, cache: Any) -> dict[str, Any]:
    """Pass the cache under the name this transformers version's forward declares.

    Recent releases renamed ``past_key_values`` to ``cache`` and warn on the old name; the
    forward signature of the loaded model says which one applies.
    """
    name = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    return {name: cache}


def pad_left(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[list[list[int]], list[list[int]]]:
    """Left-pad id rows to one length; return ``(ids, attention_mask)``."""
    width = max(len(r) for r in rows)
    ids = [[pad_id] * (width - len(r)) + list(r) for r in rows]
    mask = [[0] * (width - len(r)) + [1] * len(r) for r in rows]
    return ids, mask


def cache_to_kv(cache: Any) -> KV:
    """Copy the per-layer (keys, values) tensors out of a transformers ``DynamicCache``."""
    return [(layer.keys, layer.values) for layer in cache.layers]


def _returned_cache(out: Any) -> Any:
    """The cache a forward returned (``cache`` in recent transformers, else ``past_key_values``)."""
    found = out.get("cache")
    return found if found is not None else out.get("past_key_values")


def _make_cache(model: Any, kv: KV | None, rows: int) -> DynamicCache | None:
    """A fresh cache holding ``kv`` repeated for ``rows`` rows (stored tensors stay intact)."""
    if kv is None:
        return None
    data = [(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in kv]
    return DynamicCache(ddp_cache_data=data, config=model.config)


@torch.inference_mode()
def extend_prefix(model: Any, kv: KV | None, past_len: int, ids: Sequence[int]) -> KV:
    """Run ``ids`` on top of the states ``kv`` (covering ``past_len`` tokens); return all states.

    Example: ``extend_prefix(model, None, 0, prompt_ids)`` encodes a prefix from scratch.
    """
    device = model.device
    if not ids:
        return kv or []
    input_ids = torch.tensor([list(ids)], device=device)
    positions = torch.arange(past_len, past_len + len(ids), device=device).unsqueeze(0)
    out = model(
        input_ids=input_ids,
        position_ids=positions,
        **_cache_kwarg(model, _make_cache(model, kv, 1)),
        use_cache=True,
        logits_to_keep=1,
    )
    return cache_to_kv(_returned_cache(out))


@torch.inference_mode()
def next_token_logprobs(
    model: Any, kv: KV | None, past_len: int, suffixes: Sequence[Sequence[int]], pad_id: int
) -> tuple[torch.Tensor, Any, torch.Tensor]:
    """Log-probs of the token after each ``prefix + suffix`` row, in one forward.

    Returns ``(logprobs [rows, vocab], cache, full_mask [rows, past_len + width])``; the
    cache and mask let :func:`tail_logprobs` continue every row.
    """
    device = model.device
    ids, mask = pad_left(suffixes, pad_id)
    rows = len(ids)
    mask_t = torch.tensor(mask, device=device)
    # Real tokens count positions from the end of the prefix; pads get a harmless position.
    positions = (past_len + torch.cumsum(mask_t, dim=1) - 1).clamp(min=past_len)
    prefix_mask = torch.ones(rows, past_len, dtype=mask_t.dtype, device=device)
    full_mask = torch.cat([prefix_mask, mask_t], 1)
    out = model(
        input_ids=torch.tensor(ids, device=device),
        attention_mask=full_mask,
        position_ids=positions,
        **_cache_kwarg(model, _make_cache(model, kv, rows)),
        use_cache=True,
        logits_to_keep=1,
    )
    logprobs = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)
    return logprobs, _returned_cache(out), full_mask


@torch.inference_mode()
def tail_logprobs(
    model: Any,
    cache: Any,
    mask: torch.Tensor,
    rows: Sequence[int],
    candidates: Sequence[Sequence[int]],
    pad_id: int,
) -> list[list[float]]:
    """Log-probs of tokens 2..n of each candidate, continuing prompt row ``rows[i]`` of ``cache``.

    Candidates must have at least two tokens (the first one is scored by
    :func:`next_token_logprobs`). Candidate rows are right-padded: pads after the real
    tokens are never attended to by them.
    """
    device = model.device
    index = torch.tensor(list(rows), device=device)
    layers = [(layer.keys.index_select(0, index), layer.values.index_select(0, index))
              for layer in cache.layers]
    past = DynamicCache(ddp_cache_data=layers, config=model.config)
    feed = [list(c[:-1]) for c in candidates]
    width = max(len(f) for f in feed)
    ids = torch.tensor([f + [pad_id] * (width - len(f)) for f in feed], device=device)
    own = torch.tensor([[1] * len(f) + [0] * (width - len(f)) for f in feed], device=device)
    past_mask = mask.index_select(0, index)
    start = past_mask.sum(dim=1, keepdim=True)  # real prompt length of each row
    positions = start + torch.arange(width, device=device).unsqueeze(0)
    out = model(
        input_ids=ids,
        attention_mask=torch.cat([past_mask, own.to(past_mask.dtype)], 1),
        position_ids=positions,
        **_cache_kwarg(model, past),
        use_cache=False,
    )
    logprobs = torch.log_softmax(out.logits.float(), dim=-1)
    return [
        [float(logprobs[r, t, c[t + 1]]) for t in range(len(c) - 1)]
        for r, c in enumerate(candidates)
    ]
