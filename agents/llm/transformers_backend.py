"""The transformers backend: any causal LM folder or hub id, on CPU or GPU; the embedded default.

``score`` is the fast path agents use to pick actions: the prefix every prompt of a batch
shares is encoded once (and kept in an LRU prefix cache, so the next step re-runs only the
new tokens), the suffixes run as one batch, single-token candidates are read from one slice
of logits, and longer candidates run as one more batch (see :mod:`.kv_scoring`).

Over-long prompts follow :func:`~memplay.agents.llm.truncation.truncate_ids`: the system
message (up to half the budget) and the most recent tokens are kept, the middle is cut; each
cut is logged and counted in ``truncated_prompts``.

    >>> llm = TransformersLLM()                                   # doctest: +SKIP
    >>> [c.text for c in llm.score(["Pick:"], [["left", "right"]])[0]]  # doctest: +SKIP
    ['left', 'right']
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from memplay.agents.llm.base import CandidateScore, Prompt, SamplingParams, validate_batch
from memplay.agents.llm.embedded import embedded_model_path
from memplay.agents.llm.kv_scoring import (
    extend_prefix,
    next_token_logprobs,
    pad_left,
    tail_logprobs,
)
from memplay.agents.llm.prefix_cache import KV, PrefixKVCache, common_prefix_len
from memplay.agents.llm.text import cut_at_stop, render_prompt
from memplay.agents.llm.truncation import truncate_ids
from memplay.errors import ConfigError, LLMError

__all__ = ["TransformersLLM", "load_pretrained"]

log = logging.getLogger(__name__)

# Room left after the prompt for candidates or generated tokens when no budget is given.
_RESERVED_TOKENS = 256


def load_pretrained(source: str | Path, device: str, dtype: str | None) -> tuple[Any, Any]:
    """Load ``(tokenizer, model)`` from a folder, a ``.gguf`` file or a hub id, in eval mode.

    >>> tok, model = load_pretrained(embedded_model_path(), "cpu", None)  # doctest: +SKIP
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(source)
    kwargs: dict[str, Any] = {}
    where, torch_dtype = str(source), _torch_dtype(dtype, device)
    if path.suffix == ".gguf" and path.is_file():
        where, kwargs = str(path.parent), {"gguf_file": path.name}
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(where, dtype=torch_dtype, **kwargs)
    except (OSError, ValueError) as exc:
        raise LLMError(
            f"could not load model {source!r}: {exc}; pass a local model folder, a .gguf file, "
            "or a hub id with network access (model=None uses the embedded default)"
        ) from exc
    if tokenizer.pad_token_id is None:  # batching needs a pad id; it is always masked out
        tokenizer.pad_token = tokenizer.eos_token
    loaded: Any = model  # transformers' decorated .to() confuses mypy
    return tokenizer, loaded.to(device).eval()


def _torch_dtype(dtype: str | None, device: str) -> torch.dtype:
    """float32 on CPU (bf16 matmuls are slow there), bfloat16 on accelerators, unless given."""
    name = dtype or ("float32" if device == "cpu" else "bfloat16")
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise ConfigError(f"dtype={dtype!r} is not a torch dtype; use 'float32' or 'bfloat16'")
    return value


class TransformersLLM:
    """An :class:`~memplay.agents.llm.base.LLM` backed by a transformers causal LM.

    Args:
        model: None for the embedded SmolLM2-135M-Instruct, a model folder, a ``.gguf``
            file, or a hub id.
        device: torch device string ("cpu", "cuda", "cuda:1").
        dtype: torch dtype name; default float32 on CPU, bfloat16 elsewhere.
        max_prompt_tokens: Prompt budget in tokens; default: the model's context minus 256.
        prefix_reuse: Share the common prompt prefix across a batch and across calls.
        prefix_cache_size: How many prefixes the LRU keeps between calls.
        min_prefix_tokens: Shorter shared prefixes are not worth a separate forward.
        max_batch_rows: Rows per forward pass (bounds memory for big batches).
        num_threads: If given, set torch's CPU thread count (process-wide). On a loaded
            machine, fewer threads than cores is much faster: measured here, a 6-token
            forward took 0.34 s with 1 thread and 7.2 s with 2 while other jobs shared the
            2 cores (OpenMP threads spin waiting for each other).

    >>> llm = TransformersLLM(max_prompt_tokens=512)  # doctest: +SKIP
    >>> llm.generate(["Hello"])                        # doctest: +SKIP
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        device: str = "cpu",
        dtype: str | None = None,
        max_prompt_tokens: int | None = None,
        prefix_reuse: bool = True,
        prefix_cache_size: int = 8,
        min_prefix_tokens: int = 16,
        max_batch_rows: int = 32,
        num_threads: int | None = None,
        name: str | None = None,
    ) -> None:
        if max_batch_rows < 1:
            raise ConfigError(f"max_batch_rows={max_batch_rows} must be >= 1")
        if num_threads is not None:
            if num_threads < 1:
                raise ConfigError(f"num_threads={num_threads} must be >= 1 (or None for default)")
            torch.set_num_threads(num_threads)
        self.device, self.dtype = device, dtype
        self.prefix_reuse, self.min_prefix_tokens = prefix_reuse, min_prefix_tokens
        self.max_batch_rows = max_batch_rows
        self.prefix_cache = PrefixKVCache(prefix_cache_size if prefix_reuse else 0)
        self.truncated_prompts = 0
        self._budget = max_prompt_tokens
        self._name = name
        self.reload(model)

    def reload(self, model: str | Path | None = None) -> None:
        """Load (new) weights, e.g. after a trainer run; cached prefix states are dropped.

        >>> llm.reload("runs/exp1/checkpoint")  # doctest: +SKIP
        """
        source = embedded_model_path() if model is None else model
        self.tokenizer, self.model = load_pretrained(source, self.device, self.dtype)
        self.source = source
        self.name = self._name or f"transformers:{Path(str(source)).name}"
        context = getattr(self.model.config, "max_position_embeddings", None) or 2048
        self.max_prompt_tokens = self._budget or max(context - _RESERVED_TOKENS, 1)
        self.prefix_cache.clear()

    # -- prompts -----------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        """The exact text the model sees (chat messages through the model's chat template)."""
        return render_prompt(self.tokenizer, prompt)

    def encode(self, prompt: Prompt) -> list[int]:
        """Token ids of a prompt, truncated to ``max_prompt_tokens`` (head + recent tail)."""
        ids = self._ids(self.render(prompt), special=isinstance(prompt, str))
        if len(ids) <= self.max_prompt_tokens:
            return ids
        self.truncated_prompts += 1
        log.warning(
            "prompt of %d tokens exceeds max_prompt_tokens=%d; keeping the system message "
            "and the most recent tokens", len(ids), self.max_prompt_tokens,
        )
        return truncate_ids(ids, self.max_prompt_tokens, self._system_len(prompt))

    def _ids(self, text: str, special: bool) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    def _system_len(self, prompt: Prompt) -> int:
        if isinstance(prompt, str) or not prompt or prompt[0].get("role") != "system":
            return 0
        text = self.tokenizer.apply_chat_template([prompt[0]], tokenize=False)
        return len(self._ids(text, special=False))

    # -- generate ----------------------------------------------------------------------
    def generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams | None = None
    ) -> list[str]:
        """Batched decoding with left padding; greedy when temperature is 0; stop strings cut.

        >>> llm.generate(["1, 2, 3,"], SamplingParams(max_new_tokens=4))  # doctest: +SKIP
        [' 4, 5']
        """
        sampling = sampling or SamplingParams()
        ids = [self.encode(p) for p in prompts]
        texts: list[str] = []
        for start in range(0, len(ids), self.max_batch_rows):
            texts.extend(self._generate_rows(ids[start : start + self.max_batch_rows], sampling))
        return texts

    @torch.inference_mode()
    def _generate_rows(self, ids: list[list[int]], sampling: SamplingParams) -> list[str]:
        padded, mask = pad_left(ids, self.tokenizer.pad_token_id)
        kwargs: dict[str, Any] = {
            "max_new_tokens": sampling.max_new_tokens,
            "do_sample": sampling.temperature > 0,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if sampling.temperature > 0:
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
            if sampling.seed is not None:  # transformers samples from the global generator
                torch.manual_seed(sampling.seed)
        else:  # the model's generation config may carry sampling defaults; greedy ignores them
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if sampling.stop:
            kwargs.update(stop_strings=list(sampling.stop), tokenizer=self.tokenizer)
        out = self.model.generate(
            input_ids=torch.tensor(padded, device=self.model.device),
            attention_mask=torch.tensor(mask, device=self.model.device),
            **kwargs,
        )
        new = out[:, len(padded[0]) :]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return [cut_at_stop(t, sampling.stop) for t in texts]

    # -- score -------------------------------------------------------------------------
    def score(
        self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]
    ) -> list[list[CandidateScore]]:
        """Log-probability of each candidate as the continuation of its prompt.

        >>> llm.score(["The sky is"], [[" blue", " green"]])  # doctest: +SKIP
        [[CandidateScore(text=' blue', ...), CandidateScore(text=' green', ...)]]
        """
        validate_batch(prompts, candidates)
        ids = [self.encode(p) for p in prompts]
        cands = [[self._candidate_ids(c, i) for c in cs] for i, cs in enumerate(candidates)]
        out: list[list[CandidateScore]] = []
        for start in range(0, len(ids), self.max_batch_rows):
            rows = slice(start, start + self.max_batch_rows)
            sums = self._score_rows(ids[rows], cands[rows])
            for texts, toks, lps in zip(candidates[rows], cands[rows], sums):
                out.append([CandidateScore(t, s, len(k)) for t, k, s in zip(texts, toks, lps)])
        return out

    def _candidate_ids(self, text: str, prompt_index: int) -> list[int]:
        ids = self._ids(text, special=False)
        if not ids:
            raise ConfigError(
                f"candidate {text!r} of prompt {prompt_index} has no tokens; drop empty candidates"
            )
        return ids

    def _score_rows(self, ids: list[list[int]], cands: list[list[list[int]]]) -> list[list[float]]:
        shared = self._shared_len(ids)
        kv = self._prefix_states(ids[0][:shared])
        pad = self.tokenizer.pad_token_id
        first, cache, mask = next_token_logprobs(
            self.model, kv, shared, [p[shared:] for p in ids], pad
        )
        sums = [[float(first[r, c[0]]) for c in cs] for r, cs in enumerate(cands)]
        longer = [(r, j) for r, cs in enumerate(cands) for j, c in enumerate(cs) if len(c) > 1]
        for start in range(0, len(longer), self.max_batch_rows):
            part = longer[start : start + self.max_batch_rows]
            tails = tail_logprobs(
                self.model, cache, mask, [r for r, _ in part], [cands[r][j] for r, j in part], pad
            )
            for (r, j), lps in zip(part, tails):
                sums[r][j] += sum(lps)
        return sums

    def _shared_len(self, ids: list[list[int]]) -> int:
        """Tokens to encode once as a prefix (and keep in the cache).

        Several rows: the prefix they all share. A single prompt: the cached part when the
        cache covers at least half of it (one forward for the rest); otherwise all but the
        last token, so the next step finds this prompt in the cache.
        """
        if not self.prefix_reuse:
            return 0
        shared = min(len(p) for p in ids) - 1  # each row keeps >= 1 token to read logits at
        for row in ids[1:]:
            shared = min(shared, common_prefix_len(ids[0], row))
        if len(ids) == 1:
            cached = self.prefix_cache.match_len(ids[0])
            shared = min(cached, shared) if 2 * cached >= len(ids[0]) else shared
        return shared if shared >= self.min_prefix_tokens else 0

    def _prefix_states(self, prefix: list[int]) -> KV | None:
        if not prefix:
            return None
        reused, kv = self.prefix_cache.lookup(prefix)
        if reused < len(prefix):
            kv = extend_prefix(self.model, kv, reused, prefix[reused:])
            self.prefix_cache.put(prefix, kv)
        return kv
