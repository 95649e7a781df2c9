"""Pick one action per prompt: by scoring the admissible actions (default) or by generating.

Scoring needs no parsing and works with tiny models: each admissible action is scored as the
continuation of the prompt, an optional per-action prior (the step-level memory's values) is
added, and the best action wins. Generation parses the output to the nearest admissible
action (see :mod:`.parse`), retries once with a reminder, then falls back: to the best prior
action if a prior is given, else to a seeded random admissible action. Fallbacks are logged,
flagged on the choice and counted in :class:`SelectionStats`.

A prompt with no admissible actions is always answered by generation; the action is the
first line of the output.

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> llm = ScriptedLLM(scores={"left": -2.0, "right": -1.0})
    >>> select_actions(llm, ["Move?"], [["left", "right"]])[0].action
    'right'
    >>> select_actions(llm, ["Move?"], [["left", "right"]], prior=[{"left": 5.0}])[0].action
    'left'
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from memplay.agents.llm.base import LLM, Prompt, SamplingParams
from memplay.agents.llm.parse import first_line, parse_action
from memplay.errors import ConfigError

__all__ = ["ActionChoice", "SelectionStats", "select_actions"]

log = logging.getLogger(__name__)

Method = Literal["score", "generate"]
_DEFAULT_SAMPLING = SamplingParams(max_new_tokens=24, temperature=0.0, stop=("\n",))


@dataclass(frozen=True)
class ActionChoice:
    """The action chosen for one prompt.

    Attributes:
        action: The chosen action (an admissible one whenever a list was given).
        scores: Per-action score used for the choice (log-prob plus prior in score mode;
            match ratio in generate mode).
        method: "score" or "generate" (what actually produced the choice).
        fallback: True when parsing failed twice and a fallback action was used.
        raw: The generated text (generate mode), for logs.
    """

    action: str
    scores: dict[str, float]
    method: str
    fallback: bool = False
    raw: str = ""


@dataclass
class SelectionStats:
    """Running counts across calls (pass the same object to every call).

    >>> stats = SelectionStats()
    >>> stats.decisions, stats.fallbacks
    (0, 0)
    """

    decisions: int = 0
    retries: int = 0
    fallbacks: int = 0
    fuzzy: int = 0
    by_method: dict[str, int] = field(default_factory=dict)

    def count(self, choice: ActionChoice) -> None:
        """Record one decision."""
        self.decisions += 1
        self.fallbacks += int(choice.fallback)
        self.by_method[choice.method] = self.by_method.get(choice.method, 0) + 1


def select_actions(
    llm: LLM,
    prompts: Sequence[Prompt],
    admissible: Sequence[Sequence[str]] | None,
    method: Method = "score",
    prior: Sequence[Mapping[str, float]] | None = None,
    prior_weight: float = 1.0,
    normalise: Literal["mean", "sum"] = "mean",
    sampling: SamplingParams | None = None,
    stats: SelectionStats | None = None,
    rng: random.Random | None = None,
) -> list[ActionChoice]:
    """Choose one action per prompt (see the module doc for the rules).

    Args:
        admissible: Per prompt, the actions allowed (an empty list, or None for all
            prompts, means free text: generate and take the first line).
        prior: Per prompt, an additive bonus per action (missing actions get 0).
        normalise: Score by per-token "mean" log-prob (fair to long actions) or "sum".

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> select_actions(ScriptedLLM(responses=["Go Left!"]), ["?"], [["left", "right"]],
    ...                method="generate")[0].action
    'left'
    """
    allowed = _check_args(prompts, admissible, method, prior, normalise)
    priors = list(prior) if prior is not None else [{} for _ in prompts]
    stats = stats if stats is not None else SelectionStats()
    rng = rng if rng is not None else random.Random(0)
    choices: dict[int, ActionChoice] = {}
    scored = [i for i, acts in enumerate(allowed) if acts and method == "score"]
    generated = sorted(set(range(len(prompts))) - set(scored))
    if scored:
        picks = _by_score(llm, [prompts[i] for i in scored], [allowed[i] for i in scored],
                          [priors[i] for i in scored], prior_weight, normalise)
        choices.update(zip(scored, picks))
    if generated:
        picks = _by_generation(llm, [prompts[i] for i in generated],
                               [allowed[i] for i in generated], [priors[i] for i in generated],
                               sampling or _DEFAULT_SAMPLING, stats, rng)
        choices.update(zip(generated, picks))
    result = [choices[i] for i in range(len(prompts))]
    for choice in result:
        stats.count(choice)
    return result


def _check_args(
    prompts: Sequence[Prompt],
    admissible: Sequence[Sequence[str]] | None,
    method: str,
    prior: Sequence[Mapping[str, float]] | None,
    normalise: str,
) -> list[list[str]]:
    """Validate arguments; return the admissible lists (empty lists when None)."""
    if method not in ("score", "generate"):
        raise ConfigError(f"method={method!r} is not supported; use 'score' or 'generate'")
    if normalise not in ("mean", "sum"):
        raise ConfigError(f"normalise={normalise!r} is not supported; use 'mean' or 'sum'")
    allowed = [[] for _ in prompts] if admissible is None else [list(a) for a in admissible]
    if len(allowed) != len(prompts):
        raise ConfigError(
            f"got {len(prompts)} prompts but {len(allowed)} admissible lists; pass one per prompt"
        )
    if prior is not None and len(prior) != len(prompts):
        raise ConfigError(
            f"got {len(prompts)} prompts but {len(prior)} priors; pass one per prompt"
        )
    return allowed


def _by_score(
    llm: LLM,
    prompts: list[Prompt],
    allowed: list[list[str]],
    priors: list[Mapping[str, float]],
    weight: float,
    normalise: str,
) -> list[ActionChoice]:
    """One batched ``score`` call; the argmax of log-prob + weight * prior (first on ties)."""
    results = llm.score(prompts, allowed)
    picks = []
    for cands, prior in zip(results, priors):
        scores = {
            c.text: (c.logprob_mean if normalise == "mean" else c.logprob_sum)
            + weight * float(prior.get(c.text, 0.0))
            for c in cands
        }
        best = max(scores, key=lambda a: scores[a])
        picks.append(ActionChoice(best, scores, "score"))
    return picks


def _by_generation(
    llm: LLM,
    prompts: list[Prompt],
    allowed: list[list[str]],
    priors: list[Mapping[str, float]],
    sampling: SamplingParams,
    stats: SelectionStats,
    rng: random.Random,
) -> list[ActionChoice]:
    """Generate, parse, retry the failures once with a reminder, then fall back."""
    texts = llm.generate(prompts, sampling)
    picks: list[ActionChoice | None] = [_parsed(t, a, stats) for t, a in zip(texts, allowed)]
    failed = [i for i, p in enumerate(picks) if p is None]
    if failed:
        stats.retries += len(failed)
        retry = [_reminder(prompts[i], texts[i], allowed[i]) for i in failed]
        for i, text in zip(failed, llm.generate(retry, sampling)):
            picks[i] = _parsed(text, allowed[i], stats) or _fallback(
                text, allowed[i], priors[i], rng
            )
    return [p for p in picks if p is not None]


def _parsed(text: str, allowed: list[str], stats: SelectionStats) -> ActionChoice | None:
    """The choice parsed from ``text``, or None when it does not name an action."""
    if not allowed:
        line = first_line(text)
        return ActionChoice(line, {}, "generate", raw=text) if line else None
    parsed = parse_action(text, allowed)
    if parsed.action is None:
        return None
    stats.fuzzy += int(parsed.how == "fuzzy")
    return ActionChoice(parsed.action, {parsed.action: parsed.ratio}, "generate", raw=text)


def _reminder(prompt: Prompt, answer: str, allowed: list[str]) -> Prompt:
    """The prompt again, with a note that the last answer was unusable."""
    if allowed:
        note = f"Your answer {answer.strip()[:80]!r} is not a valid action. Reply with exactly "
        note += "one of: " + ", ".join(allowed)
    else:
        note = "Your answer was empty. Reply with the action on the first line."
    if isinstance(prompt, str):
        return f"{prompt}\n{note}\n"
    return [*prompt, {"role": "assistant", "content": answer}, {"role": "user", "content": note}]


def _fallback(
    text: str, allowed: list[str], prior: Mapping[str, float], rng: random.Random
) -> ActionChoice:
    """Last resort: best prior action, else a seeded random admissible one ('' if none)."""
    if not allowed:
        action = ""
    elif any(a in prior for a in allowed):
        action = max(allowed, key=lambda a: float(prior.get(a, 0.0)))
    else:
        action = rng.choice(allowed)
    log.warning("could not parse an action from %r; falling back to %r", text[:80], action)
    return ActionChoice(action, {}, "generate", fallback=True, raw=text)
