"""vLLM backend (GPU): the offline ``vllm.LLM`` engine for fast batched generate and score.

vLLM is an optional extra (``pip install 'memplay[gpu]'``): it pins its own torch, so it is
imported only when this backend is built, and a clear :class:`LLMError` says what is missing
(vllm itself, or a CUDA GPU). Scoring sends ``prompt + candidate`` token ids with
``prompt_logprobs=0`` (vLLM always reports the actual token's log-prob) and sums the
candidate's positions; vLLM's prefix caching shares the prompt's KV across candidates.

    >>> llm = VLLMBackend("Qwen/Qwen2.5-0.5B-Instruct")            # doctest: +SKIP
    >>> llm.score(["2 + 2 ="], [[" 4", " 5"]])[0][0].logprob_sum  # doctest: +SKIP
    -0.02
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memplay.errors import ConfigError, LLMError, LLMOutputError
from memplay.llm.base import CandidateScore, Prompt, SamplingParams, validate_batch
from memplay.llm.text import cut_at_stop, render_prompt

__all__ = ["VLLMBackend", "candidate_logprob", "import_vllm", "to_vllm_sampling"]


def import_vllm() -> Any:
    """Import vllm or raise LLMError saying how to get it.

    >>> import_vllm()  # doctest: +SKIP
    <module 'vllm' ...>
    """
    try:
        return importlib.import_module("vllm")
    except ImportError as exc:
        raise LLMError(
            f"the vllm backend needs the vllm package ({exc}); install it on a CUDA machine "
            "with `pip install 'memplay[gpu]'`, or use backend='transformers'"
        ) from exc


def to_vllm_sampling(vllm: Any, sampling: SamplingParams) -> Any:
    """Map memplay sampling to ``vllm.SamplingParams`` (greedy when temperature is 0).

    >>> to_vllm_sampling(import_vllm(), SamplingParams(max_new_tokens=8))  # doctest: +SKIP
    """
    return vllm.SamplingParams(
        max_tokens=sampling.max_new_tokens,
        temperature=sampling.temperature,
        top_p=sampling.top_p if sampling.temperature > 0 else 1.0,
        stop=list(sampling.stop) or None,
        seed=sampling.seed,
    )


def candidate_logprob(output: Any, start: int, candidate_ids: Sequence[int]) -> float:
    """Sum the prompt log-probs of ``candidate_ids`` placed at position ``start`` of ``output``.

    ``output.prompt_logprobs[i]`` maps token ids to objects with a ``logprob`` attribute.
    """
    table = output.prompt_logprobs
    if table is None or len(table) < start + len(candidate_ids):
        raise LLMOutputError(
            f"vllm returned no prompt log-probs for positions {start}..; "
            "the request must set prompt_logprobs=0"
        )
    total = 0.0
    for offset, token in enumerate(candidate_ids):
        entry = table[start + offset] or {}
        if token not in entry:
            raise LLMOutputError(f"vllm prompt log-probs lack token {token} at {start + offset}")
        total += float(entry[token].logprob)
    return total


class VLLMBackend:
    """An :class:`~memplay.llm.base.LLM` on vLLM's offline engine.

    Args:
        model: Model folder or hub id (None: the embedded SmolLM2 folder).
        require_gpu: Refuse to start without CUDA (vLLM's CPU build is not supported here).
        engine_kwargs: Passed to ``vllm.LLM`` (tensor_parallel_size, gpu_memory_utilization...).

    >>> VLLMBackend()  # doctest: +SKIP
    """

    def __init__(
        self, model: str | Path | None = None, *, require_gpu: bool = True,
        name: str | None = None, **engine_kwargs: Any,
    ) -> None:
        self._vllm = import_vllm()
        if require_gpu:
            _check_gpu()
        self._engine_kwargs = {"enable_prefix_caching": True, **engine_kwargs}
        self._name = name
        self.engine: Any = None
        self.reload(model)

    def reload(self, model: str | Path | None = None) -> None:
        """Start an engine on (new) weights, e.g. after a trainer run; frees the old one."""
        if model is None:
            from memplay.llm.embedded import embedded_model_path

            model = embedded_model_path()
        if self.engine is not None:
            self.engine = None
            gc.collect()  # the engine holds GPU memory until collected
        self.engine = self._vllm.LLM(model=str(model), **self._engine_kwargs)
        self.tokenizer = self.engine.get_tokenizer()
        self.name = self._name or f"vllm:{Path(str(model)).name}"

    def generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams | None = None
    ) -> list[str]:
        """One engine call for the whole batch."""
        sampling = sampling or SamplingParams()
        texts = [render_prompt(self.tokenizer, p) for p in prompts]
        outputs = self.engine.generate(texts, to_vllm_sampling(self._vllm, sampling))
        return [cut_at_stop(o.outputs[0].text, sampling.stop) for o in outputs]

    def score(
        self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]
    ) -> list[list[CandidateScore]]:
        """One engine call scoring every (prompt, candidate) pair by prompt log-probs."""
        validate_batch(prompts, candidates)
        requests, spans = self.score_requests(prompts, candidates)
        params = self._vllm.SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        outputs = iter(self.engine.generate(requests, params))
        return [
            [CandidateScore(text, candidate_logprob(next(outputs), start, ids), len(ids))
             for text, (start, ids) in zip(cands, row)]
            for cands, row in zip(candidates, spans)
        ]

    def score_requests(
        self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]
    ) -> tuple[list[dict[str, list[int]]], list[list[tuple[int, list[int]]]]]:
        """Token prompts for vLLM and, per prompt, each candidate's (start, ids)."""
        requests: list[dict[str, list[int]]] = []
        spans: list[list[tuple[int, list[int]]]] = []
        for i, (prompt, cands) in enumerate(zip(prompts, candidates)):
            text = render_prompt(self.tokenizer, prompt)
            prompt_ids = list(self.tokenizer(text, add_special_tokens=isinstance(prompt, str))
                              ["input_ids"])
            row = []
            for cand in cands:
                ids = list(self.tokenizer(cand, add_special_tokens=False)["input_ids"])
                if not ids:
                    raise ConfigError(f"candidate {cand!r} of prompt {i} has no tokens; drop it")
                requests.append({"prompt_token_ids": prompt_ids + ids})
                row.append((len(prompt_ids), ids))
            spans.append(row)
        return requests, spans


def _check_gpu() -> None:
    import torch

    if not torch.cuda.is_available():
        raise LLMError(
            "the vllm backend needs a CUDA GPU and none is visible; use backend='transformers' "
            "on CPU or pass require_gpu=False for a CPU build of vllm"
        )
