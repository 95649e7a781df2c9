"""The LLM protocol every backend implements.

Two batched calls are all an agent needs:

- ``generate(prompts, sampling)`` returns one text per prompt;
- ``score(prompts, candidates)`` returns, per prompt, one :class:`CandidateScore` per
  candidate continuation (log-probability sum and per-token mean).

Backends that keep attention states between calls (the transformers backend) also implement
:class:`SessionScorer`: ``score(..., sessions=keys)`` names the running episode each prompt
belongs to, so the next step of the same episode only runs its new tokens, and
``release(keys)`` frees an episode's states when it ends. Agents call the helpers
:func:`score_in_sessions` and :func:`release_sessions`, which work with every backend (the
others simply score each prompt in full).

A prompt is either a plain string (used verbatim) or a list of chat messages
(``{"role": ..., "content": ...}``) that the backend renders with the model's own chat
template. Scoring a chat prompt scores the candidate as the start of the assistant turn.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> llm = ScriptedLLM(scores={"right": -0.1})
    >>> [c.text for c in llm.score(["Move?"], [["left", "right"]])[0]]
    ['left', 'right']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Protocol, Union, runtime_checkable

from memplay.errors import ConfigError

__all__ = [
    "LLM",
    "CacheStats",
    "CandidateScore",
    "Message",
    "Prompt",
    "SamplingParams",
    "SessionScorer",
    "cache_stats",
    "release_sessions",
    "score_in_sessions",
    "validate_batch",
    "validate_sessions",
]

Message = dict[str, str]
Prompt = Union[str, list[Message]]


@dataclass(frozen=True)
class SamplingParams:
    """How to decode in ``generate``.

    Attributes:
        max_new_tokens: Upper bound on generated tokens per prompt.
        temperature: 0 means greedy decoding.
        top_p: Nucleus sampling mass (ignored when greedy).
        stop: Strings that end generation; they are not included in the output.
        seed: Seed for sampling, for reproducible runs.
    """

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens={self.max_new_tokens} must be >= 1")
        if self.temperature < 0:
            raise ConfigError(f"temperature={self.temperature} must be >= 0 (0 is greedy)")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p={self.top_p} must be in (0, 1]")


@dataclass(frozen=True)
class CandidateScore:
    """Log-probability of one candidate continuation given a prompt.

    Attributes:
        text: The candidate as given.
        logprob_sum: Sum of the candidate tokens' log-probabilities.
        num_tokens: How many tokens the candidate took.
    """

    text: str
    logprob_sum: float
    num_tokens: int

    @property
    def logprob_mean(self) -> float:
        """Per-token mean log-probability (length-normalised score)."""
        return self.logprob_sum / max(self.num_tokens, 1)


@runtime_checkable
class LLM(Protocol):
    """What memplay asks of a language model backend."""

    name: str

    def generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams | None = None
    ) -> list[str]:
        """Return one completion per prompt."""
        ...

    def score(
        self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]
    ) -> list[list[CandidateScore]]:
        """Return, for each prompt, a score per candidate (same order as given)."""
        ...


def validate_batch(prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]) -> None:
    """Check a ``score`` batch and raise a clear error when it is malformed.

    >>> validate_batch(["p"], [["a", "b"]])
    >>> try:
    ...     validate_batch(["p"], [[]])
    ... except ConfigError as exc:
    ...     print(exc)
    prompt 0 has an empty candidate list; pass at least one candidate
    """
    if len(prompts) != len(candidates):
        raise ConfigError(
            f"got {len(prompts)} prompts but {len(candidates)} candidate lists; pass one list "
            "of candidates per prompt"
        )
    for i, cands in enumerate(candidates):
        if isinstance(cands, str):
            raise ConfigError(f"candidates[{i}] is a string; pass a list of strings")
        if len(cands) == 0:
            raise ConfigError(
                f"prompt {i} has an empty candidate list; pass at least one candidate"
            )


@dataclass(frozen=True)
class CacheStats:
    """How much prompt work a backend's caches saved, counted since the backend was built.

    Attributes:
        prompts: Prompts scored.
        prompt_tokens: Their tokens in all.
        computed_tokens: Prompt tokens actually run through the model.
        shared_tokens: Prompt tokens in the prefix all prompts of their batch share
            (batches of two or more prompts).
        session_tokens: Prompt tokens served from the prompt's own session (the states its
            episode kept from the previous step).
        session_hits: Prompts with a session key that reused their session's states.
        session_misses: Prompts with a session key that found nothing to reuse.
        evictions: Session entries dropped to respect the cache bounds.
        candidate_tokens: Candidate tokens scored in all.
        candidate_computed: Candidate tokens run through the model (the rest were the first
            token, read from the prompt's logits, or shared with another candidate).
        live_sessions: Sessions held now.
        cached_tokens: Tokens the session cache holds now.

    >>> s = CacheStats(prompts=2, prompt_tokens=100, computed_tokens=20, session_tokens=60,
    ...                shared_tokens=50)
    >>> s.hit_rate, s.session_rate, s.shared_rate
    (0.8, 0.6, 0.5)
    >>> s.minus(CacheStats(prompts=1, prompt_tokens=50, computed_tokens=20)).hit_rate
    1.0
    """

    prompts: int = 0
    prompt_tokens: int = 0
    computed_tokens: int = 0
    shared_tokens: int = 0
    session_tokens: int = 0
    session_hits: int = 0
    session_misses: int = 0
    evictions: int = 0
    candidate_tokens: int = 0
    candidate_computed: int = 0
    live_sessions: int = 0
    cached_tokens: int = 0

    @property
    def hit_rate(self) -> float:
        """Fraction of prompt tokens not run through the model (served from a cache, or run
        once for several prompts of a batch)."""
        return 1.0 - self.computed_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    @property
    def shared_rate(self) -> float:
        """Fraction of prompt tokens in the prefix shared by every prompt of their batch."""
        return self.shared_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    @property
    def session_rate(self) -> float:
        """Fraction of prompt tokens served from the prompts' own sessions."""
        return self.session_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    def minus(self, earlier: CacheStats) -> CacheStats:
        """Counters accumulated since ``earlier`` (the live sizes stay as they are now)."""
        live = {"live_sessions", "cached_tokens"}
        return replace(self, **{f.name: getattr(self, f.name) - getattr(earlier, f.name)
                                for f in fields(self) if f.name not in live})


@runtime_checkable
class SessionScorer(Protocol):
    """A backend that keeps each running episode's attention states between ``score`` calls.

    ``sessions[i]`` names the episode prompt i belongs to (None: no session). The backend
    reuses the longest common token prefix of the prompt and the session's previous prompt,
    so a prompt that repeats the previous one and appends to it only runs the new tokens.
    Scores are the same as without sessions, to floating-point tolerance.
    """

    def score(
        self,
        prompts: Sequence[Prompt],
        candidates: Sequence[Sequence[str]],
        *,
        sessions: Sequence[str | None] | None = None,
    ) -> list[list[CandidateScore]]:
        """Like :meth:`LLM.score`, with an optional session key per prompt."""
        ...

    def release(self, sessions: Iterable[str]) -> None:
        """Free the states of finished episodes (unknown keys are ignored)."""
        ...

    def cache_stats(self) -> CacheStats:
        """Counters since the backend was built (see :class:`CacheStats`)."""
        ...


def validate_sessions(prompts: Sequence[Prompt], sessions: Sequence[str | None] | None) -> None:
    """Check session keys: one per prompt, strings or None, no key twice in one call.

    >>> validate_sessions(["a", "b"], ["ep-1", None])
    >>> try:
    ...     validate_sessions(["a", "b"], ["ep-1", "ep-1"])
    ... except ConfigError as exc:
    ...     print(str(exc)[:46])
    session 'ep-1' is given for prompts 0 and 1; a
    """
    if sessions is None:
        return
    if isinstance(sessions, str) or len(sessions) != len(prompts):
        raise ConfigError(
            f"got {len(prompts)} prompts but sessions={sessions!r}; pass one key (or None) "
            "per prompt"
        )
    seen: dict[str, int] = {}
    for i, key in enumerate(sessions):
        if key is not None and not isinstance(key, str):
            raise ConfigError(f"sessions[{i}]={key!r} is not a string; name sessions with str")
        if key is not None and key in seen:
            raise ConfigError(
                f"session {key!r} is given for prompts {seen[key]} and {i}; a session is one "
                "episode, so it has one prompt per call"
            )
        if key is not None:
            seen[key] = i


def score_in_sessions(
    llm: LLM,
    prompts: Sequence[Prompt],
    candidates: Sequence[Sequence[str]],
    sessions: Sequence[str | None],
) -> list[list[CandidateScore]]:
    """``llm.score`` with per-prompt session keys when the backend keeps sessions.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> score_in_sessions(ScriptedLLM(), ["p"], [["a"]], ["ep-1"])[0][0].logprob_sum
    -5.0
    """
    validate_sessions(prompts, sessions)
    if isinstance(llm, SessionScorer):
        return llm.score(prompts, candidates, sessions=sessions)
    return llm.score(prompts, candidates)


def release_sessions(llm: LLM, sessions: Iterable[str]) -> None:
    """Free finished episodes' states when the backend keeps sessions (else nothing to do).

    >>> from memplay.llm.fake import ScriptedLLM
    >>> release_sessions(ScriptedLLM(), ["ep-1"])
    """
    if isinstance(llm, SessionScorer):
        llm.release(sessions)


def cache_stats(llm: LLM) -> CacheStats | None:
    """The backend's cache counters, or None when it keeps no attention states.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> cache_stats(ScriptedLLM()) is None
    True
    """
    return llm.cache_stats() if isinstance(llm, SessionScorer) else None
