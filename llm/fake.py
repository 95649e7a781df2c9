"""A scripted LLM for unit tests: deterministic, instant, no model.

``generate`` answers from a list (in order, cycling on the last one) or a function of the
prompt; ``score`` gives each candidate a fixed log-probability from a table or a function
(unlisted candidates get ``default_score``). Every call is recorded for assertions.

    >>> llm = ScriptedLLM(responses=["go north"], scores={"right": -0.1}, default_score=-3.0)
    >>> llm.generate(["Where to?"])
    ['go north']
    >>> [round(c.logprob_sum, 1) for c in llm.score(["Move?"], [["left", "right"]])[0]]
    [-3.0, -0.1]
    >>> len(llm.calls)
    2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from memplay.errors import LLMError
from memplay.llm.base import CandidateScore, Prompt, SamplingParams, validate_batch

__all__ = ["ScriptedLLM", "prompt_text"]

Responder = Callable[[Prompt], str]
Scorer = Callable[[Prompt, str], float]


def prompt_text(prompt: Prompt) -> str:
    """Flatten a prompt (string or chat messages) into one string, for matching in tests.

    >>> prompt_text([{"role": "user", "content": "hi"}])
    'user: hi'
    """
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"{m['role']}: {m['content']}" for m in prompt)


@dataclass
class ScriptedLLM:
    """Deterministic stand-in for an :class:`~memplay.llm.base.LLM` (tests only).

    Attributes:
        responses: Texts returned by ``generate`` in order (the last one repeats), or a
            function of the prompt.
        scores: Log-probability per candidate text, or a function ``(prompt, text) -> float``.
        default_score: Log-probability of candidates missing from ``scores``.
        fail_on: If set, ``generate``/``score`` raise :class:`LLMError` on the call with
            this 0-based index (fault injection).
    """

    responses: Sequence[str] | Responder = ("",)
    scores: Mapping[str, float] | Scorer | None = None
    default_score: float = -5.0
    fail_on: int | None = None
    name: str = "scripted"
    calls: list[tuple[str, list[Prompt]]] = field(default_factory=list)
    _next: int = 0

    def generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams | None = None
    ) -> list[str]:
        """Answer each prompt from the script."""
        self._record("generate", prompts)
        return [self._respond(p) for p in prompts]

    def score(
        self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]
    ) -> list[list[CandidateScore]]:
        """Score each candidate from the table (one token per whitespace-separated word)."""
        validate_batch(prompts, candidates)
        self._record("score", prompts)
        return [
            [CandidateScore(c, self._score(p, c), max(len(c.split()), 1)) for c in cands]
            for p, cands in zip(prompts, candidates)
        ]

    def _record(self, kind: str, prompts: Sequence[Prompt]) -> None:
        if self.fail_on is not None and len(self.calls) == self.fail_on:
            self.calls.append((kind, list(prompts)))
            raise LLMError(f"scripted failure on call {self.fail_on}")
        self.calls.append((kind, list(prompts)))

    def _respond(self, prompt: Prompt) -> str:
        if callable(self.responses):
            return self.responses(prompt)
        if not self.responses:
            return ""
        text = self.responses[min(self._next, len(self.responses) - 1)]
        self._next += 1
        return text

    def _score(self, prompt: Prompt, text: str) -> float:
        if self.scores is None:
            return self.default_score
        if callable(self.scores):
            return float(self.scores(prompt, text))
        return float(self.scores.get(text, self.default_score))
