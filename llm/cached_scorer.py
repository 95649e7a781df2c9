"""Candidate scoring on token ids that reuses every attention state it can.

Per batch of prompts (see :mod:`.kv_scoring` for the forward passes):

- a prompt with a session key starts from its session's states: the longest common token
  prefix with that episode's previous prompt (:class:`~.session_cache.SessionKVCache`);
- otherwise, or when the batch-wide shared prefix is longer, it starts from the prefix
  every prompt of the batch shares, run once and kept in the
  :class:`~.prefix_cache.PrefixKVCache` for the next calls;
- the rest of every prompt runs in one batched forward, whose states extend the session's;
- candidates run as one token trie per prompt (:mod:`.candidate_tree`).

Everything works on token ids, so it can be tested with a tiny random model and no
tokenizer:

    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> cfg = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64,
    ...                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    >>> scorer = CachedScorer(LlamaForCausalLM(cfg).eval(), pad_id=0)
    >>> sums = scorer.score([[1, 2, 3, 4]], [[[5], [6, 7]]], ["ep-1"])
    >>> len(sums[0]), scorer.stats().live_sessions
    (2, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from memplay.errors import ConfigError
from memplay.llm.base import CacheStats
from memplay.llm.candidate_tree import CandidateTree
from memplay.llm.kv_scoring import (
    PromptStates,
    extend_prefix,
    fits_one_forward,
    prompt_logprobs,
    prompt_tree_logprobs,
    tree_logprobs,
)
from memplay.llm.prefix_cache import KVChain, PrefixKVCache, common_prefix_len
from memplay.llm.session_cache import SessionKVCache

__all__ = ["CachedScorer", "ScorerOptions"]

# A session's chain is merged down to its first segment plus one once it has more.
_MAX_SEGMENTS = 4
_EMPTY = KVChain()


@dataclass(frozen=True)
class ScorerOptions:
    """How much state :class:`CachedScorer` keeps and reuses.

    Attributes:
        reuse: Reuse states at all (False runs every prompt in full; for baselines).
        prefix_cache_size: Batch-shared prefixes kept between calls.
        max_sessions: Episodes whose states are kept between calls (LRU).
        max_session_tokens: Cached tokens over all sessions (LRU).
        min_prefix_tokens: Shorter batch-shared prefixes are not worth a separate forward.
        max_batch_rows: Prompts per forward pass (bounds memory for big batches).
        share_candidates: Run candidates' shared leading tokens once (a token trie).
        one_forward: Run the new prompt tokens and the candidate trie in one forward when
            their logits fit the budget (saves a forward's fixed cost per call; False runs
            them as two, for comparisons).
        max_logit_floats: Most logit values one forward keeps (the prompt's last position
            and the trie nodes); bigger batches split the trie forward by rows.
    """

    reuse: bool = True
    prefix_cache_size: int = 8
    max_sessions: int = 64
    max_session_tokens: int = 32768
    min_prefix_tokens: int = 16
    max_batch_rows: int = 32
    share_candidates: bool = True
    one_forward: bool = True
    max_logit_floats: int = 1 << 24

    def __post_init__(self) -> None:
        if self.max_batch_rows < 1:
            raise ConfigError(f"max_batch_rows={self.max_batch_rows} must be >= 1")
        if self.max_logit_floats < 1:
            raise ConfigError(f"max_logit_floats={self.max_logit_floats} must be >= 1 "
                              "(the default, 1 << 24, keeps 16.8 million logit values)")


def _common_len(ids: list[list[int]]) -> int:
    """Leading tokens every row shares (a single row: its length).

    >>> _common_len([[1, 2, 3], [1, 2, 4], [1, 5]])
    1
    """
    shared = len(ids[0])
    for row in ids[1:]:
        shared = min(shared, common_prefix_len(ids[0], row))
    return shared


class CachedScorer:
    """Log-prob sums of candidate token lists after prompt token lists, with state reuse.

    Args:
        model: A transformers causal LM in eval mode.
        pad_id: Token id used for padding (always masked out).
        options: See :class:`ScorerOptions`.
    """

    def __init__(self, model: Any, pad_id: int, options: ScorerOptions | None = None) -> None:
        self.model, self.pad_id = model, pad_id
        self.options = options or ScorerOptions()
        reuse = self.options.reuse
        self.prefix_cache = PrefixKVCache(self.options.prefix_cache_size if reuse else 0)
        self.sessions = SessionKVCache(self.options.max_sessions if reuse else 0,
                                       self.options.max_session_tokens)
        self._counts = CacheStats()

    def reset(self, model: Any, pad_id: int) -> None:
        """Use new weights; every cached state is dropped (it belongs to the old ones), the
        counters go on."""
        self.model, self.pad_id = model, pad_id
        self.prefix_cache.clear()
        self.sessions.clear()

    def release(self, keys: Iterable[str]) -> None:
        """Free the states of finished sessions."""
        self.sessions.release(keys)

    def stats(self) -> CacheStats:
        """Counters since construction plus the session cache's current size."""
        return replace(self._counts, evictions=self.sessions.evictions,
                       live_sessions=len(self.sessions), cached_tokens=self.sessions.tokens)

    def score(
        self,
        ids: Sequence[Sequence[int]],
        cands: Sequence[Sequence[Sequence[int]]],
        keys: Sequence[str | None] | None = None,
    ) -> list[list[float]]:
        """Per prompt, the log-prob sum of each candidate (prompts and candidates non-empty)."""
        keys = list(keys) if keys is not None else [None] * len(ids)
        step = self.options.max_batch_rows
        out: list[list[float]] = []
        for start in range(0, len(ids), step):
            part = slice(start, start + step)
            out.extend(self._score_rows([list(r) for r in ids[part]], cands[part], keys[part]))
        return out

    def _score_rows(
        self, ids: list[list[int]], cands: Sequence[Sequence[Sequence[int]]],
        keys: list[str | None],
    ) -> list[list[float]]:
        pasts = self._pasts(ids, keys)
        news = [row[p.length :] for row, p in zip(ids, pasts)]
        trees = [CandidateTree.build(c, self.options.share_candidates) for c in cands]
        budget = self.options.max_logit_floats
        if self.options.one_forward and fits_one_forward(len(ids), trees, self._vocab(), budget):
            states, found = prompt_tree_logprobs(self.model, pasts, news, trees, self.pad_id)
        else:
            states = prompt_logprobs(self.model, pasts, news, self.pad_id)
            found = tree_logprobs(self.model, states, trees, budget)
        self._remember(ids, keys, pasts, states)
        self._add(prompts=len(ids), prompt_tokens=sum(len(r) for r in ids),
                  computed_tokens=sum(len(n) for n in news),
                  shared_tokens=_common_len(ids) * len(ids) if len(ids) > 1 else 0,
                  candidate_tokens=sum(len(c) for cs in cands for c in cs),
                  candidate_computed=sum(len(t) for t in trees))
        return [tree.sums(states.logprobs[r], found[r]) for r, tree in enumerate(trees)]

    def _vocab(self) -> int:
        """Logit columns per position: the config's vocabulary, which sizes the output layer
        (read from the config, as an int8 model's output layer keeps no weight tensor)."""
        return int(self.model.config.vocab_size)

    def _pasts(self, ids: list[list[int]], keys: list[str | None]) -> list[KVChain]:
        """Per row, the states it starts from: its session's or the batch-shared prefix's."""
        if not self.options.reuse:
            return [_EMPTY] * len(ids)
        own = [self._own(row, key) for row, key in zip(ids, keys)]
        shared_len = self._shared_len(ids, keys)
        need_shared = any(chain.length < shared_len for chain in own)
        shared = self._prefix_chain(ids[0][:shared_len]) if need_shared else _EMPTY
        pasts = [chain if chain.length and chain.length >= shared_len else shared
                 for chain in own]
        used = [p is o and p.length > 0 for p, o in zip(pasts, own)]
        with_key = [u for u, key in zip(used, keys) if key is not None]
        self._add(session_tokens=sum(p.length for p, u in zip(pasts, used) if u),
                  session_hits=sum(with_key), session_misses=len(with_key) - sum(with_key))
        return pasts

    def _own(self, row: list[int], key: str | None) -> KVChain:
        """The session's states for ``row`` (at most all but its last token)."""
        if key is None:
            return _EMPTY
        n, chain = self.sessions.match(key, row)
        return chain.head(len(row) - 1) if n >= len(row) else chain

    def _shared_len(self, ids: list[list[int]], keys: list[str | None]) -> int:
        """Tokens to take from the batch-shared prefix (run once and cached).

        Several rows: the prefix they all share. A single row with a session: whatever the
        prefix cache already covers (its session keeps the rest). A single row without one:
        the cached part when the cache covers at least half of it (one forward for the
        rest); otherwise all but the last token, so the next call finds it in the cache.
        """
        shared = min(_common_len(ids), min(len(p) for p in ids) - 1)  # >= 1 token per row left
        if len(ids) == 1:
            cached = self.prefix_cache.match_len(ids[0])
            if keys[0] is not None or 2 * cached >= len(ids[0]):
                shared = min(cached, shared)
        return shared if shared >= self.options.min_prefix_tokens else 0

    def _prefix_chain(self, prefix: list[int]) -> KVChain:
        if not prefix:
            return _EMPTY
        reused, kv = self.prefix_cache.lookup(prefix)
        if reused < len(prefix):
            kv = extend_prefix(self.model, kv, reused, prefix[reused:])
            self.prefix_cache.put(prefix, kv)
            self._add(computed_tokens=len(prefix) - reused)
        return KVChain((kv or [],))

    def _remember(
        self, ids: list[list[int]], keys: list[str | None], pasts: list[KVChain],
        states: PromptStates,
    ) -> None:
        """Store each session's prompt states: its past chain plus this call's new tokens."""
        if not self.options.reuse:
            return
        for row, (key, past) in enumerate(zip(keys, pasts)):
            if key is None:
                continue
            tail = states.row_tail(row, len(ids[row]) - past.length)
            self.sessions.put(key, ids[row], past.then(tail).compact(_MAX_SEGMENTS))

    def _add(self, **counts: int) -> None:
        self._counts = replace(self._counts, **{
            name: getattr(self._counts, name) + value for name, value in counts.items()})
