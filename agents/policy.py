"""The one action policy: what the LLM says, plus what memory knows, becomes one choice.

score(a) = u * log_softmax(LLM)(a) + w * conf(s, a) * Q(s, a) + c / sqrt(1 + n(s, a))

- The LLM term comes from one batched call per decision (:func:`llm_scores`): by default
  the log-probability of each admissible action as the prompt's continuation ("score"
  mode, one forward pass, no parsing, works with a 135M model); or, for chat models behind
  an API that gives no log-probabilities, the model's answer ("generate" mode) parsed to the
  nearest admissible action, optionally after a ReAct-style ``think:`` turn. It is
  normalised over the admissible actions so it is on the same scale whatever the prompt.
- The Q term is the step-level memory used as an additive prior: at full weight for a pair
  tried before (``conf = 1``), at the similarity of its sources for a value borrowed from
  similar situations (``conf = sim``). The last term is a count-based novelty bonus: a random
  policy almost never reaches a sparse reward (1.4% on FrozenLake 4x4, DESIGN.md), so
  exploration is steered to untried actions. ``n`` counts real visits (memory's, this
  episode's tries from this state, parallel episodes' picks here) plus borrowed evidence at
  ``borrowed_weight``: a situation that only looks like visited ones stays worth exploring.
- Frozen runs on memory written from demonstrations read visit counts differently: there they
  say how often the teacher did something, not how little the agent knows, so
  ``memory_novelty=False`` leaves only this episode's tries in ``n`` (off by default).

The act node, the critique search's rollouts and generate mode all choose through here.

    >>> from memplay.memory.step_memory import ActionValue
    >>> llm = {"left": -0.1, "right": -2.0}
    >>> values = {"left": ActionValue(-1.0, 4, 1.0), "right": ActionValue(0.0, 0, 1.0)}
    >>> scores = combine_scores(llm, values, PolicyConfig())
    >>> max(scores, key=scores.get)
    'right'
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from memplay.agents.llm.base import LLM, Prompt, SamplingParams, score_in_sessions
from memplay.agents.llm.parse import parse_action
from memplay.errors import LLMOutputError
from memplay.memory.step_memory import ActionValue

__all__ = ["LLMView", "PolicyConfig", "calibrate", "choose_action", "combine_scores",
           "llm_scores", "log_softmax", "memory_confidence", "novelty_bonus"]

log = logging.getLogger(__name__)

# Log-probability given to the actions a generated answer did not name: far below the named
# one, but finite, so memory values can still overrule a small model's pick.
UNNAMED = -10.0
THINK_PREFIX = "think:"
THINK_HINT = ("You may first reply with 'think: <your reasoning>' on one line; you will then "
              "be asked for the action.")


class PolicyConfig(BaseModel):
    """How actions are chosen: the LLM's vote, memory's prior, exploration and sampling.

    >>> PolicyConfig(method="generate", think=True).think
    True
    """

    model_config = ConfigDict(extra="forbid")

    method: Literal["score", "generate"] = Field(
        default="score", description="'score': log-probability of each admissible action "
        "(needs a backend with log-probs); 'generate': parse the model's answer.")
    think: bool = Field(
        default=False, description="Generate mode: allow one ReAct 'think: ...' turn before "
        "the action (the thought is kept in the trajectory).")
    max_new_tokens: int = Field(
        default=48, ge=1, description="Generate mode: tokens per answer (and per thought).")
    llm_weight: float = Field(
        default=0.5, ge=0.0,
        description="Weight of the LLM's log-probabilities against memory and exploration.")
    calibrate: bool = Field(
        default=True,
        description="Score mode: subtract each action's running mean LLM score (its "
        "context-free bias).")
    temperature: float = Field(
        default=0.5, ge=0.0, description="Softmax temperature over action scores; 0 = argmax.")
    prior_weight: float = Field(
        default=4.0, ge=0.0, description="Weight of step memory's Q added to the action score.")
    exploration: float = Field(
        default=2.0, ge=0.0, description="Novelty bonus scale c in c/sqrt(1+visits).")
    borrowed_weight: float = Field(
        default=0.5, ge=0.0, description="How much a borrowed value's evidence (its "
        "neighbours' visits) counts against the novelty bonus, next to real visits (1).")
    memory_novelty: bool = Field(
        default=True, description="Count memory's visits in the novelty bonus. False: only "
        "this episode's tries count, so every action starts equally novel (for frozen runs "
        "on demonstrations, whose counts say how often the teacher did something).")


@dataclass(frozen=True)
class LLMView:
    """What the LLM said about one decision.

    Attributes:
        scores: Log-score per admissible action (score mode: log-probabilities; generate
            mode: 0 for the named action, :data:`UNNAMED` for the rest, all 0 when the answer
            named none).
        thought: The ``think:`` text of a ReAct turn (generate mode), else None.
        parsed: False when a generated answer named no admissible action even after a
            reminder (the choice is then left to memory and exploration).

    >>> LLMView({"left": 0.0}).parsed
    True
    """

    scores: dict[str, float]
    thought: str | None = None
    parsed: bool = True


def log_softmax(scores: Mapping[str, float]) -> dict[str, float]:
    """Normalise raw log-scores into log-probabilities over the given keys.

    >>> round(sum(math.exp(v) for v in log_softmax({"a": -1.0, "b": -3.0}).values()), 6)
    1.0
    """
    top = max(scores.values())
    log_z = top + math.log(sum(math.exp(v - top) for v in scores.values()))
    return {k: v - log_z for k, v in scores.items()}


def calibrate(scores: Mapping[str, float], bias: dict[str, list[float]]) -> dict[str, float]:
    """Remove the LLM's context-free preference for each action ("contextual calibration").

    A small model prefers some action words whatever the state (SmolLM2-135M: "right" over
    "down" by ~4 nats on FrozenLake). Subtracting each action's running mean
    log-probability keeps only what the context adds. ``bias`` (action -> [sum, count])
    is updated in place.

    >>> bias: dict[str, list[float]] = {}
    >>> _ = calibrate({"a": -0.1, "b": -3.0}, bias)
    >>> c = calibrate({"a": -0.1, "b": -3.0}, bias)
    >>> abs(c["a"] - c["b"]) < 1e-9
    True
    """
    normed = log_softmax(scores)
    for action, value in normed.items():
        acc = bias.setdefault(action, [0.0, 0.0])
        acc[0] += value
        acc[1] += 1.0
    return {a: v - bias[a][0] / bias[a][1] for a, v in normed.items()}


def novelty_bonus(visits: float, scale: float) -> float:
    """Count-based exploration bonus ``scale / sqrt(1 + visits)`` (MBIE-EB style).

    Unlike UCB1's ``sqrt(ln N / n)`` it does not fade as the state gets visited, so a
    steady LLM preference cannot keep an agent bumping into the same wall.

    >>> novelty_bonus(0, 2.0), novelty_bonus(3, 2.0)
    (2.0, 1.0)
    """
    return scale / math.sqrt(1 + visits)


def combine_scores(
    llm: Mapping[str, float],
    values: Mapping[str, ActionValue],
    cfg: PolicyConfig,
    tried_now: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """Add the step-memory prior and novelty bonus to normalised LLM scores.

    ``values`` maps action -> memory's estimate from earlier episodes; actions missing from
    it count as never tried. ``tried_now`` counts how often each action was already taken
    from this state in the running episode, so an agent stuck in a loop turns to the moves
    it has not tried yet instead of waiting for the episode to end. Without values and
    without ``tried_now`` (memory off) only the LLM term is left.

    >>> combine_scores({"a": 0.0, "b": 0.0}, {}, PolicyConfig(llm_weight=1.0)) == \\
    ...     log_softmax({"a": 0, "b": 0})
    True
    >>> s = combine_scores({"a": 0.0, "b": 0.0}, {}, PolicyConfig(), tried_now={"a": 2})
    >>> s["b"] > s["a"]
    True
    """
    base = {a: cfg.llm_weight * v for a, v in log_softmax(llm).items()}
    tried_now = tried_now or {}
    if not values and not tried_now:
        return base
    combined = {}
    for action, score in base.items():
        value = values.get(action) or _UNKNOWN
        known = value.visits + cfg.borrowed_weight * value.borrowed if cfg.memory_novelty else 0
        seen = known + tried_now.get(action, 0)
        combined[action] = (score + cfg.prior_weight * memory_confidence(value) * value.q
                            + novelty_bonus(seen, cfg.exploration))
    return combined


_UNKNOWN = ActionValue(0.0, 0, 0.0)


def memory_confidence(value: ActionValue) -> float:
    """How much of the Q term to trust: all of a pair tried before, a borrowed value as much
    as its sources resemble this situation, nothing of a value with no evidence.

    >>> exact, borrowed = ActionValue(1.0, 2, 1.0), ActionValue(1.0, 0, 0.9, 3.0)
    >>> memory_confidence(exact), memory_confidence(borrowed)
    (1.0, 0.9)
    """
    if value.visits > 0:
        return 1.0
    return value.sim if value.borrowed > 0 else 0.0


def choose_action(scores: Mapping[str, float], temperature: float, rng: random.Random) -> str:
    """Pick the best action (temperature 0) or sample from softmax(scores / temperature).

    Ties at temperature 0 go to the first action listed, so runs are reproducible.

    >>> choose_action({"a": 0.0, "b": 1.0}, 0.0, random.Random(0))
    'b'
    """
    actions = list(scores)
    if temperature == 0:
        return max(actions, key=lambda a: scores[a])
    probs = log_softmax({a: scores[a] / temperature for a in actions})
    return rng.choices(actions, weights=[math.exp(probs[a]) for a in actions])[0]


def llm_scores(llm: LLM, prompts: Sequence[Prompt], admissible: Sequence[Sequence[str]],
               cfg: PolicyConfig, sessions: Sequence[str | None] | None = None
               ) -> list[LLMView]:
    """What the LLM says about each decision, in one batched call (two with a retry).

    ``sessions`` names the episode each prompt belongs to: a backend that keeps attention
    states between calls (:class:`~memplay.agents.llm.base.SessionScorer`) then only runs
    the tokens a prompt adds to its episode's previous one.

    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> llm_scores(ScriptedLLM(scores={"right": -0.5}), ["?"], [["left", "right"]],
    ...            PolicyConfig())[0].scores
    {'left': -5.0, 'right': -0.5}
    >>> llm_scores(ScriptedLLM(responses=["I go Left."]), ["?"], [["left", "right"]],
    ...            PolicyConfig(method="generate"))[0].scores
    {'left': 0.0, 'right': -10.0}
    """
    if cfg.method == "generate":
        return _by_generation(llm, list(prompts), [list(a) for a in admissible], cfg)
    scored = score_in_sessions(llm, prompts, admissible, sessions) if sessions is not None \
        else llm.score(prompts, admissible)
    bad = [c for row in scored for c in row if not math.isfinite(c.logprob_mean)]
    if bad:  # NaN/inf would poison the softmax over actions: a backend fault, not a choice
        raise LLMOutputError(f"backend {llm.name!r} scored {bad[0].text!r} as "
                             f"{bad[0].logprob_mean}; scores must be finite log-probabilities")
    return [LLMView({c.text: c.logprob_mean for c in row}) for row in scored]


def _by_generation(llm: LLM, prompts: list[Prompt], admissible: list[list[str]],
                   cfg: PolicyConfig) -> list[LLMView]:
    """Generate, take a ``think:`` turn if allowed, parse; remind once; else leave it open."""
    sampling = SamplingParams(max_new_tokens=cfg.max_new_tokens, temperature=0.0,
                              stop=("\n",))
    asked = [_with_think_hint(p) for p in prompts] if cfg.think else prompts
    answers = llm.generate(asked, sampling)
    thoughts: list[str | None] = [None] * len(prompts)
    if cfg.think:
        thinking = [i for i, a in enumerate(answers) if _thought(a) is not None]
        for i in thinking:
            thoughts[i] = _thought(answers[i])
            asked[i] = _after_thought(asked[i], answers[i])
        for i, text in zip(thinking, llm.generate([asked[i] for i in thinking], sampling)):
            answers[i] = text
    picks = [parse_action(a, acts).action for a, acts in zip(answers, admissible)]
    retry = [i for i, p in enumerate(picks) if p is None]
    for i, text in zip(retry, llm.generate([_reminder(asked[i], answers[i], admissible[i])
                                            for i in retry], sampling) if retry else []):
        picks[i] = parse_action(text, admissible[i]).action
    return [_view(pick, acts, thought) for pick, acts, thought in zip(picks, admissible, thoughts)]


def _view(pick: str | None, admissible: list[str], thought: str | None) -> LLMView:
    if pick is None:
        log.warning("generated answers named no admissible action; memory decides")
        return LLMView({a: 0.0 for a in admissible}, thought, parsed=False)
    return LLMView({a: 0.0 if a == pick else UNNAMED for a in admissible}, thought)


def _thought(answer: str) -> str | None:
    """The reasoning of a ``think: ...`` answer, or None when the answer is an action."""
    line = answer.strip().splitlines()[0] if answer.strip() else ""
    if line.lower().lstrip("> ").startswith(THINK_PREFIX):
        return line.lstrip("> ")[len(THINK_PREFIX):].strip()
    return None


def _with_think_hint(prompt: Prompt) -> Prompt:
    if isinstance(prompt, str):
        return f"{prompt}\n{THINK_HINT}\n"
    head, last = list(prompt[:-1]), dict(prompt[-1])
    last["content"] = f"{last['content']}\n{THINK_HINT}"
    return [*head, last]


def _after_thought(prompt: Prompt, answer: str) -> Prompt:
    """The conversation after a thought: ALFWorld answers a think turn with 'OK.'."""
    if isinstance(prompt, str):
        return f"{prompt}{answer.strip()}\nOK.\nYour action:"
    return [*prompt, {"role": "assistant", "content": answer.strip()},
            {"role": "user", "content": "OK. Your action:"}]


def _reminder(prompt: Prompt, answer: str, admissible: list[str]) -> Prompt:
    """The prompt again, with a note that the last answer named no allowed action."""
    lines = answer.strip().splitlines()
    shown = lines[0][:80] if lines else "(empty)"
    note = (f"Your answer {shown!r} is not a valid action. Reply with exactly one of: "
            + ", ".join(admissible))
    if isinstance(prompt, str):
        return f"{prompt}\n{note}\n"
    return [*prompt, {"role": "assistant", "content": answer}, {"role": "user", "content": note}]
