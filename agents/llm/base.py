"""The LLM protocol every backend implements.

Two batched calls are all an agent needs:

- ``generate(prompts, sampling)`` returns one text per prompt;
- ``score(prompts, candidates)`` returns, per prompt, one :class:`CandidateScore` per
  candidate continuation (log-probability sum and per-token mean).

A prompt is either a plain string (used verbatim) or a list of chat messages
(``{"role": ..., "content": ...}``) that the backend renders with the model's own chat
template. Scoring a chat prompt scores the candidate as the start of the assistant turn.

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> llm = ScriptedLLM(scores={"right": -0.1})
    >>> [c.text for c in llm.score(["Move?"], [["left", "right"]])[0]]
    ['left', 'right']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Union, runtime_checkable

from memplay.errors import ConfigError

__all__ = ["LLM", "CandidateScore", "Message", "Prompt", "SamplingParams", "validate_batch"]

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
