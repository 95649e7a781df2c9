"""The transformers backend: any causal LM folder or hub id, on CPU or GPU; the embedded default.

``score`` is the fast path agents use to pick actions (see :mod:`.cached_scorer`): the prefix
every prompt of a batch shares is encoded once (and kept in an LRU prefix cache); with
``sessions=`` each running episode also keeps the states of its last prompt, so its next
step runs only the tokens after the longest common prefix; the rest of the prompts run as
one batch, single-token candidates are read from one slice of logits, and longer candidates
run as one more batch, shared leading tokens once (a token trie). ``release(keys)`` frees
finished episodes; ``cache_stats()`` says how many prompt tokens were served from caches.

Over-long prompts follow :func:`~memplay.llm.truncation.truncate_ids`: the system
message (up to half the budget) and the most recent tokens are kept, the middle is cut; each
cut is logged and counted in ``truncated_prompts``.

    >>> llm = TransformersLLM()                                   # doctest: +SKIP
    >>> [c.text for c in llm.score(["Pick:"], [["left", "right"]])[0]]  # doctest: +SKIP
    ['left', 'right']
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from memplay.errors import ConfigError, LLMError
from memplay.llm.base import (
    CacheStats,
    CandidateScore,
    Prompt,
    SamplingParams,
    validate_batch,
    validate_sessions,
)
from memplay.llm.cached_scorer import CachedScorer, ScorerOptions
from memplay.llm.embedded import embedded_model_path
from memplay.llm.kv_scoring import pad_left
from memplay.llm.prefix_cache import PrefixKVCache
from memplay.llm.text import cut_at_stop, render_prompt
from memplay.llm.truncation import truncate_ids

__all__ = ["QUANTIZERS", "TransformersLLM", "load_pretrained"]

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


def _int8_dynamic(model: Any) -> Any:
    """Linear layers with int8 weights and int8 activations quantised on the fly (CPU only).

    >>> type(_int8_dynamic(torch.nn.Sequential(torch.nn.Linear(4, 4)))[0]).__name__
    'Linear'

    torch marks ``torch.ao.quantization`` deprecated in favour of torchao but still ships it;
    its warnings are silenced here because the option is opt-in and measured (bench_llm).
    """
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


# How ``quantize=`` rewrites a loaded CPU model; bench_llm measures each against float32.
QUANTIZERS: dict[str, Callable[[Any], Any]] = {"int8": _int8_dynamic}


def _check_quantize(quantize: str | None, device: str) -> None:
    """Raise ConfigError unless ``quantize`` is None or a known mode on the CPU.

    >>> _check_quantize("int8", "cpu")
    >>> try:
    ...     _check_quantize("int4", "cpu")
    ... except ConfigError as exc:
    ...     print(str(exc)[:35])
    quantize='int4' is not known; use o
    """
    if quantize is None:
        return
    if quantize not in QUANTIZERS:
        raise ConfigError(f"quantize={quantize!r} is not known; use one of "
                          f"{sorted(QUANTIZERS)} or None")
    if device != "cpu":
        raise ConfigError(f"quantize={quantize!r} runs on CPU only, not device={device!r}; "
                          "use dtype='bfloat16' on accelerators")


class TransformersLLM:
    """An :class:`~memplay.llm.base.LLM` backed by a transformers causal LM.

    Also a :class:`~memplay.llm.base.SessionScorer`: ``score(..., sessions=keys)``
    keeps each episode's states between steps, ``release(keys)`` frees them.

    Args:
        model: None for the embedded SmolLM2-135M-Instruct, a model folder, a ``.gguf``
            file, or a hub id.
        device: torch device string ("cpu", "cuda", "cuda:1").
        dtype: torch dtype name; default float32 on CPU, bfloat16 elsewhere.
        max_prompt_tokens: Prompt budget in tokens; default: the model's context minus 256.
        prefix_reuse: Reuse states at all: the batch-shared prefix, across calls, and per
            session (False runs every prompt in full).
        prefix_cache_size: How many batch-shared prefixes the LRU keeps between calls.
        max_sessions: How many episodes' states the session LRU keeps.
        max_session_tokens: How many tokens the session LRU keeps in all (the embedded
            model needs 46 KB per token in float32).
        min_prefix_tokens: Shorter shared prefixes are not worth a separate forward.
        max_batch_rows: Rows per forward pass (bounds memory for big batches).
        share_candidates: Run candidates' shared leading tokens once (a token trie).
        one_forward: Run each call's new prompt tokens and its candidate trie in one forward
            when their logits fit (one forward's fixed cost less per call; the same scores
            to about 1e-5 nats); False runs two, for comparisons.
        quantize: None (default) or "int8": dynamic int8 Linear layers on CPU (faster, and
            not bit-identical: bench_llm reports how often the chosen action changes).
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
        max_sessions: int = 64,
        max_session_tokens: int = 32768,
        min_prefix_tokens: int = 16,
        max_batch_rows: int = 32,
        share_candidates: bool = True,
        one_forward: bool = True,
        quantize: str | None = None,
        num_threads: int | None = None,
        name: str | None = None,
    ) -> None:
        _check_quantize(quantize, device)
        options = ScorerOptions(prefix_reuse, prefix_cache_size, max_sessions,
                                max_session_tokens, min_prefix_tokens, max_batch_rows,
                                share_candidates, one_forward)
        if num_threads is not None:
            if num_threads < 1:
                raise ConfigError(f"num_threads={num_threads} must be >= 1 (or None for default)")
            torch.set_num_threads(num_threads)
        self.device, self.dtype, self.quantize = device, dtype, quantize
        self.max_batch_rows = max_batch_rows
        self.truncated_prompts = 0
        self._budget = max_prompt_tokens
        self._name = name
        self.scorer = CachedScorer(None, 0, options)  # its model is set by reload
        self.reload(model)

    def reload(self, model: str | Path | None = None) -> None:
        """Load (new) weights, e.g. after a trainer run; cached states are dropped.

        >>> llm.reload("runs/exp1/checkpoint")  # doctest: +SKIP
        """
        source = embedded_model_path() if model is None else model
        self.tokenizer, self.model = load_pretrained(source, self.device, self.dtype)
        if self.quantize is not None:
            self.model = QUANTIZERS[self.quantize](self.model)
        self.source = source
        self.name = self._name or f"transformers:{Path(str(source)).name}"
        context = getattr(self.model.config, "max_position_embeddings", None) or 2048
        self.max_prompt_tokens = self._budget or max(context - _RESERVED_TOKENS, 1)
        self.scorer.reset(self.model, self.tokenizer.pad_token_id)

    @property
    def prefix_cache(self) -> PrefixKVCache:
        """The LRU of batch-shared prefixes (its ``hits``/``reused_tokens`` count reuse)."""
        return self.scorer.prefix_cache

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
        self,
        prompts: Sequence[Prompt],
        candidates: Sequence[Sequence[str]],
        *,
        sessions: Sequence[str | None] | None = None,
    ) -> list[list[CandidateScore]]:
        """Log-probability of each candidate as the continuation of its prompt.

        ``sessions[i]`` names the episode prompt i belongs to: its states are kept, and the
        episode's next prompt runs only the tokens after their longest common prefix.

        >>> llm.score(["The sky is"], [[" blue", " green"]])  # doctest: +SKIP
        [[CandidateScore(text=' blue', ...), CandidateScore(text=' green', ...)]]
        >>> llm.score([prompt_t], [moves], sessions=["env3-ep7"])  # doctest: +SKIP
        """
        validate_batch(prompts, candidates)
        validate_sessions(prompts, sessions)
        ids = [self.encode(p) for p in prompts]
        cands = [[self._candidate_ids(c, i) for c in cs] for i, cs in enumerate(candidates)]
        sums = self.scorer.score(ids, cands, sessions)
        return [[CandidateScore(t, s, len(k)) for t, k, s in zip(texts, toks, lps)]
                for texts, toks, lps in zip(candidates, cands, sums)]

    def release(self, sessions: Iterable[str]) -> None:
        """Free the states of finished episodes (unknown keys are ignored).

        >>> llm.release(["env3-ep7"])  # doctest: +SKIP
        """
        self.scorer.release(sessions)

    def cache_stats(self) -> CacheStats:
        """Prompt tokens served from caches, session hits and evictions since construction.

        >>> llm.cache_stats().hit_rate  # doctest: +SKIP
        0.93
        """
        return self.scorer.stats()

    def _candidate_ids(self, text: str, prompt_index: int) -> list[int]:
        ids = self._ids(text, special=False)
        if not ids:
            raise ConfigError(
                f"candidate {text!r} of prompt {prompt_index} has no tokens; drop empty candidates"
            )
        return ids
