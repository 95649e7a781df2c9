"""OpenAI-compatible HTTP backend: a vLLM server, llama.cpp's server, Ollama, or the real API.

``generate`` uses ``/chat/completions`` for chat prompts and ``/completions`` for plain
strings. ``score`` asks ``/completions`` to echo the prompt plus the candidate with
log-probabilities and sums the candidate's tokens (found by their text offsets). Servers
that cannot echo log-probs are scored by generation plus matching instead: the generated
answer's best-matching candidate gets log-prob 0 and the others ``log(similarity)``.
``score_mode="auto"`` tries log-probs once and switches for good if the server refuses.

``score_mode="top_logprobs"`` is the ``max_tokens=1`` trick for servers whose echoed prompt
log-probs are wrong (llama-cpp-python 0.3.x reports each prompt token's log-prob under the
*next* position's distribution): one request per prompt returns the top ``top_k`` next
tokens; a candidate gets the log-prob of the longest listed token it starts with (only its
first token is scored, ``num_tokens=1``), or the lowest listed log-prob minus 1 when none
matches (an upper bound, so unlisted candidates rank below listed ones).

For scoring, chat prompts are rendered locally: with ``tokenizer``'s chat template when one
is given (a model folder), else as ChatML (SmolLM2, Qwen and most small chat models).

    >>> llm = OpenAILLM("http://127.0.0.1:8000/v1", model="smollm2")  # doctest: +SKIP
    >>> llm.generate([[{"role": "user", "content": "Say hi"}]])        # doctest: +SKIP
    ['Hi!']
"""

from __future__ import annotations

import difflib
import logging
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from memplay.errors import ConfigError, LLMError, LLMOutputError
from memplay.llm.base import CandidateScore, Prompt, SamplingParams, validate_batch
from memplay.llm.http_client import JsonClient, field
from memplay.llm.parse import first_line, parse_action
from memplay.llm.text import check_messages, cut_at_stop, render_chatml

__all__ = ["BASE_URL_ENV", "DEFAULT_KEY_ENV", "OpenAILLM", "key_from_env"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
BASE_URL_ENV = "OPENAI_BASE_URL"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"

_T = TypeVar("_T")
_R = TypeVar("_R")
ScoreMode = Literal["auto", "logprobs", "top_logprobs", "generate"]
_MODES = ("auto", "logprobs", "top_logprobs", "generate")


class OpenAILLM:
    """An :class:`~memplay.llm.base.LLM` talking to an OpenAI-compatible server.

    Args:
        base_url: Server root including ``/v1``; default ``$OPENAI_BASE_URL``, else
            ``http://127.0.0.1:8000/v1`` (a local vLLM server).
        model: Model name the server expects.
        api_key: Sent as a bearer token. Leave it out of configs: when it is not given, the
            key is read from the environment variable named by ``api_key_env``.
        api_key_env: Environment variable holding the key (default ``OPENAI_API_KEY``;
            unset means no key, as local servers need none). Naming a variable that is not
            set is a ConfigError.
        timeout, max_retries, backoff: See :class:`~.http_client.JsonClient`.
        score_mode: "auto", "logprobs" (echoed prompt log-probs), "top_logprobs" (first
            token from the next-token top list) or "generate" (matching).
        top_k: How many next tokens "top_logprobs" mode asks for.
        concurrency: Requests in flight at once (servers batch concurrent requests).
        tokenizer: A model folder whose chat template renders prompts for scoring.
        transport: An httpx transport (tests).

    >>> try:
    ...     OpenAILLM(score_mode="guess")
    ... except ConfigError as exc:
    ...     print(str(exc)[:40])
    score_mode='guess' is not supported; use
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str = "default",
        *,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        score_mode: ScoreMode = "auto",
        tokenizer: str | Path | None = None,
        top_k: int = 20,
        concurrency: int = 8,
        transport: httpx.BaseTransport | None = None,
        name: str | None = None,
    ) -> None:
        if score_mode not in _MODES:
            raise ConfigError(f"score_mode={score_mode!r} is not supported; use one of {_MODES}")
        base_url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        api_key = api_key or key_from_env(api_key_env)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = JsonClient(base_url, timeout=timeout, max_retries=max_retries,
                                 backoff=backoff, headers=headers, transport=transport)
        if concurrency < 1:
            raise ConfigError(f"concurrency={concurrency} must be >= 1")
        self.model, self.score_mode, self.top_k = model, score_mode, top_k
        self.concurrency = concurrency
        self.name = name or f"openai:{model}"
        self._tokenizer = _load_tokenizer(tokenizer) if tokenizer is not None else None

    # -- generate ----------------------------------------------------------------------
    def generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams | None = None
    ) -> list[str]:
        """One request per prompt, ``concurrency`` at a time (the server batches them).

        >>> llm.generate(["1, 2, 3,"], SamplingParams(max_new_tokens=4))  # doctest: +SKIP
        """
        chosen = sampling or SamplingParams()
        return self._map(lambda p: self._generate_one(p, chosen), list(prompts))

    def _map(self, call: Callable[[_T], _R], items: list[_T]) -> list[_R]:
        """``call`` over ``items`` in order, with up to ``concurrency`` requests in flight."""
        if self.concurrency == 1 or len(items) <= 1:
            return [call(item) for item in items]
        with ThreadPoolExecutor(min(self.concurrency, len(items))) as pool:
            return list(pool.map(call, items))

    def _generate_one(self, prompt: Prompt, sampling: SamplingParams) -> str:
        check_messages(prompt)
        payload = _sampling_payload(self.model, sampling)
        if isinstance(prompt, str):
            reply = self.client.post("/completions", {**payload, "prompt": prompt})
            text = field(reply, "choices", 0, "text")
        else:
            reply = self.client.post("/chat/completions", {**payload, "messages": prompt})
            text = field(reply, "choices", 0, "message", "content")
        if not isinstance(text, str):
            raise LLMOutputError(f"malformed server reply: generated text is {text!r}")
        return cut_at_stop(text, sampling.stop)

    # -- score -------------------------------------------------------------------------
    def render(self, prompt: Prompt) -> str:
        """Prompt text used for scoring (chat template of ``tokenizer``, else ChatML)."""
        check_messages(prompt)
        if isinstance(prompt, str):
            return prompt
        if self._tokenizer is not None:
            return str(self._tokenizer.apply_chat_template(
                prompt, tokenize=False, add_generation_prompt=True))
        return render_chatml(prompt)

    def score(
        self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]
    ) -> list[list[CandidateScore]]:
        """Log-prob of each candidate after its prompt (see module doc for the two modes)."""
        validate_batch(prompts, candidates)
        pairs = [(p, list(c)) for p, c in zip(prompts, candidates)]
        return self._map(lambda pair: self._score_one(*pair), pairs)

    def _score_one(self, prompt: Prompt, candidates: list[str]) -> list[CandidateScore]:
        if self.score_mode == "generate":
            return self._score_by_generation(prompt, candidates)
        text = self.render(prompt)
        if self.score_mode == "top_logprobs":
            return self._score_first_token(text, candidates)
        try:
            return [self._echo_logprob(text, c) for c in candidates]
        except LLMError as exc:
            if self.score_mode == "logprobs" or isinstance(exc, ConnectionError):
                raise
            log.warning("server cannot score by log-probs (%s); scoring by generation", exc)
            self.score_mode = "generate"
            return self._score_by_generation(prompt, candidates)

    def _echo_logprob(self, text: str, candidate: str) -> CandidateScore:
        if not candidate:
            raise ConfigError("an empty candidate cannot be scored; drop empty candidates")
        reply = self.client.post("/completions", {
            "model": self.model, "prompt": text + candidate, "max_tokens": 1,
            "temperature": 0.0, "echo": True, "logprobs": 1,
        })
        logprobs = field(reply, "choices", 0, "logprobs")
        tokens = field(logprobs, "token_logprobs")
        offsets = field(logprobs, "text_offset")
        start, end = len(text), len(text) + len(candidate)
        picked = [lp for lp, off in zip(tokens, offsets) if start <= off < end]
        if not picked or any(not isinstance(lp, (int, float)) for lp in picked):
            raise LLMOutputError(
                f"malformed server reply: no log-probs for candidate {candidate!r} "
                f"(offsets {offsets[-5:]!r}); the server may not support echo with logprobs"
            )
        return CandidateScore(candidate, float(sum(picked)), len(picked))

    def _score_first_token(self, text: str, candidates: list[str]) -> list[CandidateScore]:
        reply = self.client.post("/completions", {
            "model": self.model, "prompt": text, "max_tokens": 1, "temperature": 0.0,
            "logprobs": self.top_k,
        })
        top = field(reply, "choices", 0, "logprobs", "top_logprobs", 0)
        if not isinstance(top, dict) or not top:
            raise LLMOutputError(f"malformed server reply: top_logprobs[0] is {top!r}")
        floor = min(float(v) for v in top.values()) - 1.0
        scores = []
        for cand in candidates:
            starts = [tok for tok in top if tok and cand.startswith(tok)]
            best = max(starts, key=len) if starts else None
            scores.append(CandidateScore(cand, float(top[best]) if best else floor, 1))
        return scores

    def _score_by_generation(self, prompt: Prompt, candidates: list[str]) -> list[CandidateScore]:
        longest = max(len(c) for c in candidates)
        answer = self._generate_one(prompt, SamplingParams(max_new_tokens=max(8, longest)))
        match = parse_action(answer, candidates).action
        line = first_line(answer).casefold()
        return [
            CandidateScore(c, 0.0 if c == match else math.log(max(_similarity(line, c), 1e-3)), 1)
            for c in candidates
        ]


def key_from_env(name: str | None) -> str | None:
    """The API key in environment variable ``name`` (None: ``OPENAI_API_KEY``, which may be
    unset). A variable named on purpose must be set.

    >>> key_from_env(None) == os.environ.get("OPENAI_API_KEY")
    True
    >>> key_from_env("MEMPLAY_NO_SUCH_KEY")
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: api_key_env='MEMPLAY_NO_SUCH_KEY' but that environment ...
    """
    if name is None:
        return os.environ.get(DEFAULT_KEY_ENV) or None
    if not isinstance(name, str) or not name:
        raise ConfigError(f"api_key_env={name!r} must name an environment variable, e.g. "
                          f"{DEFAULT_KEY_ENV!r}")
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"api_key_env={name!r} but that environment variable is not set; "
                          f"export {name}=<your key> before running")
    return value


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b.casefold()).ratio()


def _sampling_payload(model: str, sampling: SamplingParams) -> dict[str, Any]:
    """OpenAI request fields for ``sampling`` (stop strings are also cut client-side)."""
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": sampling.max_new_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
    }
    if sampling.stop:
        payload["stop"] = list(sampling.stop)[:4]  # the OpenAI API accepts at most 4
    if sampling.seed is not None:
        payload["seed"] = sampling.seed
    return payload


def _load_tokenizer(path: str | Path) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"tokenizer={str(path)!r} could not be loaded: {exc}") from exc
