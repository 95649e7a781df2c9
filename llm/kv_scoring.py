"""Batched forward passes that score candidate continuations on top of cached states.

The scoring plan for one batch of prompts (all id lists, already rendered):

1. each row starts from **past states** it already has: the prefix every prompt of the
   batch shares (run once, or taken from the prefix cache) or the states its episode kept
   from the previous step (the session cache); rows may have pasts of different lengths;
2. the rest of every prompt runs as one batch on top of those pasts
   (:func:`prompt_logprobs`); one slice of logits at the last position scores the first
   token of every candidate (single-token candidates end here);
3. the candidates' further tokens run as one more batch (:func:`tree_logprobs`): per
   prompt, the token trie of its candidates, each node once, with a tree attention mask.
   When the logits of both fit one budget, steps 2 and 3 are one forward instead
   (:func:`prompt_tree_logprobs`): the trie nodes follow the new prompt tokens, and the mask
   lets each node see its own prompt and its ancestors, while no prompt token sees a node.
   A forward's fixed cost is paid once (on 2 CPU cores about 80 ms per forward).

Padding sits in the middle of rows (left pads of a short past, left pads of the new part),
so every forward passes an explicit attention mask and explicit position ids: every real
token sees exactly the positions and keys it would see in an unpadded forward.

    >>> from memplay.llm.kv_scoring import pad_left
    >>> pad_left([[1, 2], [3]], pad_id=0)
    ([[1, 2], [0, 3]], [[1, 1], [0, 1]])
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import DynamicCache

from memplay.llm.candidate_tree import CandidateTree
from memplay.llm.prefix_cache import KV, KVChain, kv_len

__all__ = [
    "PromptStates",
    "cache_to_kv",
    "extend_prefix",
    "fits_one_forward",
    "pad_left",
    "prompt_logprobs",
    "prompt_tree_logprobs",
    "stack_pasts",
    "tree_logprobs",
]


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



def stack_pasts(pasts: Sequence[KVChain]) -> tuple[KV | None, torch.Tensor]:
    """One padded batch of past states from per-row chains of different lengths.

    Rows are left-padded (pads first, then the row's states); returns the per-layer
    ``[rows, kv_heads, width, head_dim]`` tensors (None when no row has a past) and the
    ``[rows, width]`` mask, 1 on real past tokens. Rows that share one chain object are
    expanded, not copied. Pads hold zeros and are never attended to.

    >>> seg = [(torch.ones(1, 1, 2, 1), torch.ones(1, 1, 2, 1))]
    >>> kv, mask = stack_pasts([KVChain((seg,)), KVChain((seg,)).head(1)])
    >>> mask.tolist(), kv[0][0][1, 0, :, 0].tolist()
    ([[1, 1], [0, 1]], [0.0, 1.0])
    """
    lengths = [p.length for p in pasts]
    width = max(lengths)
    mask = torch.tensor([[0] * (width - n) + [1] * n for n in lengths], dtype=torch.long)
    if width == 0:
        return None, mask
    if all(p is pasts[0] for p in pasts):
        return [(k.expand(len(pasts), -1, -1, -1), v.expand(len(pasts), -1, -1, -1))
                for k, v in pasts[0].head(width).merged()], mask
    layers = []
    ref = next(p for p in pasts if p.length).segments[0]
    for i, (k0, v0) in enumerate(ref):
        keys = k0.new_zeros(len(pasts), k0.shape[1], width, k0.shape[3])
        values = v0.new_zeros(len(pasts), v0.shape[1], width, v0.shape[3])
        for row, chain in enumerate(pasts):
            at = width - chain.length
            for seg in chain.segments:
                n = kv_len(seg)
                keys[row, :, at : at + n] = seg[i][0][0]
                values[row, :, at : at + n] = seg[i][1][0]
                at += n
        layers.append((keys, values))
    return layers, mask


@dataclass(frozen=True)
class PromptStates:
    """What one batched prompt forward leaves behind for candidates and sessions.

    Attributes:
        logprobs: ``[rows, vocab]`` log-probs of the token after each prompt.
        layers: Per layer, ``[rows, kv_heads, width, head_dim]`` states of the padded batch.
        mask: ``[rows, width]``, 1 on each row's real tokens.
        lengths: Real prompt length per row (the position the next token takes).
    """

    logprobs: torch.Tensor
    layers: KV
    mask: torch.Tensor
    lengths: list[int]

    def row_tail(self, row: int, n: int) -> KV:
        """An owned copy of the states of row ``row``'s last ``n`` tokens (batch size 1)."""
        return [(k[row : row + 1, :, k.shape[2] - n :].clone(),
                 v[row : row + 1, :, v.shape[2] - n :].clone()) for k, v in self.layers]


@dataclass(frozen=True)
class _NewPart:
    """A batch's new prompt tokens on top of its rows' pasts, as a forward takes them.

    Attributes:
        cache: The stacked past states (None when no row has a past).
        past_mask: ``[rows, P]``, 1 on real past tokens.
        ids: New tokens, left-padded to one width ``W``.
        mask: ``[rows, W]``, 1 on real new tokens.
        positions: ``[rows, W]``: each row's own past continues (pads take harmless ones).
        lengths: Real prompt length per row (the position the next token takes).
    """

    cache: DynamicCache | None
    past_mask: torch.Tensor
    ids: list[list[int]]
    mask: torch.Tensor
    positions: torch.Tensor
    lengths: list[int]

    @classmethod
    def build(cls, model: Any, pasts: Sequence[KVChain], news: Sequence[Sequence[int]],
              pad_id: int) -> _NewPart:
        past_kv, past_mask = stack_pasts(pasts)
        ids, new_mask = pad_left(news, pad_id)
        mask = torch.tensor(new_mask)
        starts = torch.tensor([[p.length] for p in pasts])
        positions = torch.maximum(starts + torch.cumsum(mask, 1) - 1, starts)
        cache = (None if past_kv is None
                 else DynamicCache(ddp_cache_data=past_kv, config=model.config))
        lengths = [p.length + len(n) for p, n in zip(pasts, news)]
        return cls(cache, past_mask, ids, mask, positions, lengths)

    def prompt_mask(self, device: Any) -> torch.Tensor:
        """``[rows, P + W]``: 1 on every real token of the prompt, past and new."""
        return torch.cat([self.past_mask, self.mask], 1).to(device)


@torch.inference_mode()
def prompt_logprobs(
    model: Any, pasts: Sequence[KVChain], news: Sequence[Sequence[int]], pad_id: int
) -> PromptStates:
    """Run each row's new tokens on top of its own past states, in one forward.

    Row r's past covers its first ``pasts[r].length`` tokens and ``news[r]`` (at least one
    token) the rest. New tokens are left-padded so the last column holds every row's last
    token; explicit position ids continue each row's own past, and the mask hides pads both
    in the past and in the new part.

    >>> from memplay.llm.kv_scoring import prompt_logprobs     # doctest: +SKIP
    >>> states = prompt_logprobs(model, [KVChain()] * 2, [[5, 6], [8]], 0)  # doctest: +SKIP
    >>> states.logprobs.shape, states.lengths                        # doctest: +SKIP
    (torch.Size([2, 49152]), [2, 1])
    """
    device = model.device
    part = _NewPart.build(model, pasts, news, pad_id)
    mask = part.prompt_mask(device)
    out = model(
        input_ids=torch.tensor(part.ids, device=device),
        attention_mask=mask,
        position_ids=part.positions.to(device),
        **_cache_kwarg(model, part.cache),
        use_cache=True,
        logits_to_keep=1,
    )
    logprobs = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)
    return PromptStates(logprobs, cache_to_kv(_returned_cache(out)), mask, part.lengths)


def tree_logprobs(
    model: Any, states: PromptStates, trees: Sequence[CandidateTree], max_floats: int = 1 << 24
) -> list[dict[tuple[int, int], float]]:
    """Per row, the log-probs of ``trees[r].queries()``: every trie node runs once.

    Rows are grouped so one forward's logits stay under ``max_floats`` values.

    >>> trees = [CandidateTree.build([[7, 1], [7, 2]])] * 2           # doctest: +SKIP
    >>> tree_logprobs(model, states, trees)[0]                        # doctest: +SKIP
    {(0, 1): -3.2, (0, 2): -5.1}
    """
    found: list[dict[tuple[int, int], float]] = [{} for _ in trees]
    rows = [r for r, tree in enumerate(trees) if len(tree)]
    vocab = int(states.logprobs.shape[1])
    part: list[int] = []
    for r in rows:
        width = max(len(trees[i]) for i in (*part, r))
        if part and (len(part) + 1) * width * vocab > max_floats:
            _tree_forward(model, states, part, trees, found)
            part = []
        part.append(r)
    if part:
        _tree_forward(model, states, part, trees, found)
    return found


def _trie_inputs(
    trees: Sequence[CandidateTree], lengths: Sequence[int], pad_id: int
) -> tuple[list[list[int]], list[list[int]], torch.Tensor]:
    """Padded trie tokens, their positions, and ``[rows, width, width]`` ancestor masks.

    A node at depth d reads the prompt's last position plus d; pads repeat the first
    node's position and see only themselves.

    >>> ids, pos, own = _trie_inputs([CandidateTree.build([[7, 1], [8]])], [5], 0)
    >>> ids, pos, own[0].int().tolist()
    ([[7]], [[5]], [[1]])
    """
    width = max(len(t) for t in trees)
    ids = [[*t.tokens, *[pad_id] * (width - len(t))] for t in trees]
    positions = [[n + d - 1 for d in t.depths] + [n] * (width - len(t))
                 for n, t in zip(lengths, trees)]
    own = torch.eye(width, dtype=torch.bool).repeat(len(trees), 1, 1)
    for i, t in enumerate(trees):
        own[i, : len(t), : len(t)] = t.ancestors()
    return ids, positions, own


def _additive(allowed: torch.Tensor, model: Any) -> torch.Tensor:
    """A ``[rows, 1, queries, keys]`` mask the model adds to its attention scores as given."""
    additive = torch.zeros(allowed.shape, dtype=model.dtype, device=model.device)
    additive.masked_fill_(~allowed.to(model.device), torch.finfo(model.dtype).min)
    return additive[:, None]


def _read_queries(
    logits: torch.Tensor, rows: Sequence[int], trees: Sequence[CandidateTree],
    found: list[dict[tuple[int, int], float]],
) -> None:
    """Fill ``found[rows[i]]`` from ``logits[i, node]``, one row of trie-node logits each."""
    logits = logits.float()
    norm = torch.logsumexp(logits, dim=-1)
    for i, (r, tree) in enumerate(zip(rows, trees)):
        queries = tree.queries()
        nodes = torch.tensor([n for n, _ in queries], device=logits.device)
        toks = torch.tensor([t for _, t in queries], device=logits.device)
        values = (logits[i, nodes, toks] - norm[i, nodes]).tolist()
        found[r] = dict(zip(queries, values))


@torch.inference_mode()
def _tree_forward(
    model: Any,
    states: PromptStates,
    rows: list[int],
    trees: Sequence[CandidateTree],
    found: list[dict[tuple[int, int], float]],
) -> None:
    """One forward over the trie nodes of ``rows``; fills ``found[r]`` for each row."""
    device = model.device
    index = torch.tensor(rows, device=device)
    whole = rows == list(range(len(states.lengths)))
    layers = states.layers if whole else [
        (k.index_select(0, index), v.index_select(0, index)) for k, v in states.layers]
    past_mask = states.mask.index_select(0, index).bool()
    picked = [trees[r] for r in rows]
    ids, positions, own = _trie_inputs(picked, [states.lengths[r] for r in rows], 0)
    width = own.shape[1]
    allowed = torch.cat([past_mask[:, None, :].expand(-1, width, -1), own.to(device)], 2)
    out = model(
        input_ids=torch.tensor(ids, device=device),
        attention_mask=_additive(allowed, model),  # a 4D mask is used as given: tree attention
        position_ids=torch.tensor(positions, device=device),
        **_cache_kwarg(model, DynamicCache(ddp_cache_data=layers, config=model.config)),
        use_cache=False,
    )
    _read_queries(out.logits, rows, picked, found)


def fits_one_forward(rows: int, trees: Sequence[CandidateTree], vocab: int,
                     max_floats: int = 1 << 24) -> bool:
    """Whether one forward's logits (the prompt's last position and every trie node of every
    row) stay under ``max_floats`` values.

    >>> fits_one_forward(2, [CandidateTree.build([[7, 1], [8]])] * 2, vocab=1000)
    True
    """
    width = max((len(t) for t in trees), default=0)
    return rows * (width + 1) * vocab <= max_floats


def _joint_mask(past_mask: torch.Tensor, new_mask: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
    """``[rows, W + T, P + W + T]``: which key each query may see in a prompt + trie forward.

    Prompt tokens see their row's real past and earlier real new tokens (never a node);
    nodes see the real past, every real new token and their own ancestors; pads see at
    least themselves, so no softmax runs over nothing.
    """
    rows, width = new_mask.shape
    nodes = own.shape[1]
    real = new_mask.bool()
    causal = torch.tril(torch.ones(width, width, dtype=torch.bool))
    prompt_part = (causal & real[:, None, :]) | torch.eye(width, dtype=torch.bool)
    past = past_mask.bool()[:, None, :]
    top = torch.cat([past.expand(-1, width, -1), prompt_part,
                     torch.zeros(rows, width, nodes, dtype=torch.bool)], 2)
    bottom = torch.cat([past.expand(-1, nodes, -1), real[:, None, :].expand(-1, nodes, -1),
                        own], 2)
    return torch.cat([top, bottom], 1)


@torch.inference_mode()
def prompt_tree_logprobs(
    model: Any, pasts: Sequence[KVChain], news: Sequence[Sequence[int]],
    trees: Sequence[CandidateTree], pad_id: int,
) -> tuple[PromptStates, list[dict[tuple[int, int], float]]]:
    """:func:`prompt_logprobs` and :func:`tree_logprobs` in one forward.

    Each row's input is its new prompt tokens (left-padded) followed by its trie nodes
    (right-padded); an explicit 4D mask keeps the prompt blind to the nodes, so the kept
    prompt states are those of a prompt-only forward. Check :func:`fits_one_forward` first:
    every node's logits are kept at once.

    >>> states, found = prompt_tree_logprobs(model, [KVChain()], [[5, 6]],   # doctest: +SKIP
    ...                                      [CandidateTree.build([[7, 1]])], 0)
    >>> found                                                             # doctest: +SKIP
    [{(0, 1): -3.2}]
    """
    if not any(len(t) for t in trees):
        return prompt_logprobs(model, pasts, news, pad_id), [{} for _ in trees]
    device = model.device
    part = _NewPart.build(model, pasts, news, pad_id)
    node_ids, node_pos, own = _trie_inputs(trees, part.lengths, pad_id)
    nodes = own.shape[1]
    out = model(
        input_ids=torch.tensor([a + b for a, b in zip(part.ids, node_ids)], device=device),
        attention_mask=_additive(_joint_mask(part.past_mask, part.mask, own), model),
        position_ids=torch.cat([part.positions, torch.tensor(node_pos)], 1).to(device),
        **_cache_kwarg(model, part.cache),
        use_cache=True,
        logits_to_keep=nodes + 1,  # the prompt's last position, then every node
    )
    kept = [(k[:, :, :-nodes], v[:, :, :-nodes]) for k, v in cache_to_kv(_returned_cache(out))]
    logprobs = torch.log_softmax(out.logits[:, 0, :].float(), dim=-1)
    mask = part.prompt_mask(device)
    states = PromptStates(logprobs, kept, mask, part.lengths)
    found: list[dict[tuple[int, int], float]] = [{} for _ in trees]
    rows = [r for r, t in enumerate(trees) if len(t)]
    _read_queries(out.logits[rows, 1:], rows, [trees[r] for r in rows], found)
    return states, found
