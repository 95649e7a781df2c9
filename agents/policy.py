"""The one action policy: what the LLM says, plus what memory knows, becomes one choice.

score(a) = term(a) + M(a)
term(a) = u * LLM(a)                                    (the LLM term, :func:`llm_term`)
M(a)    = w * conf(s, a) * Q(s, a) + c / sqrt(1 + n(s, a))  (memory's part, :func:`memory_scores`)

- The LLM term comes from one batched call per step (:func:`llm_scores`): by default the
  log-probability of each candidate action as the prompt's continuation ("score" mode: one
  forward pass, no parsing, works with a 135M model); or, for chat models behind an API that
  gives no log-probabilities, the model's answer ("generate" mode,
  :func:`memplay.llm.parse.generate_actions`) parsed to the nearest admissible action,
  optionally after a ReAct-style ``think:`` turn. By default the term is log-softmax
  normalised and calibrated (each action's running mean subtracted); with ``llm_clip`` it is
  bounded, so memory can settle choices exactly.
- The Q term is the step-level memory used as an additive prior: at full weight for a pair
  tried before (``conf = 1``), at the similarity of its sources for a value borrowed from
  similar situations (``conf = sim``). The last term is a count-based novelty bonus: a random
  policy almost never reaches a sparse reward (1.4% on FrozenLake 4x4, docs/ARCHITECTURE.md), so
  exploration is steered to untried actions. ``n`` counts real visits (memory's, this
  episode's tries from this state, parallel episodes' picks here) plus borrowed evidence at
  ``borrowed_weight``: a situation that only looks like visited ones stays worth exploring.
- Frozen runs on memory written from demonstrations read visit counts differently: there they
  say how often the teacher did something, not how little the agent knows, so
  ``memory_novelty=False`` leaves only this episode's tries in ``n`` (off by default).
- The gate (``gate="on"``, :func:`judge`): when memory's scores settle the choice (the LLM
  term, within its bounds, cannot change it), the model is not asked; when it is, only the
  candidates that can still win are scored. With the term bounded, every term lies within one
  interval of width ``reach``, so an action whose memory score trails the best one's by more
  than ``reach`` cannot win whatever the model says; when every other action trails that
  much, the choice is settled. Greedy choice (temperature 0) is then exact. Sampling at
  temperature ``T`` is settled up to ``epsilon``: with a margin of
  ``reach + T * ln(n / epsilon)`` (:func:`margin`) every other action keeps a probability
  below ``epsilon / n``. Memory scores come as intervals because parallel episodes in the
  same state count each other's picks as tries: a pick not yet made can lower an action's
  novelty bonus, never raise it.

A step's decisions, one per episode in lockstep, are plain :class:`Decision` values and go
through three functions, all here: :func:`plan_batch` (memory's verdict per decision),
:func:`ask_model` (one batched LLM call for the open ones) and :func:`choose_batch` (the
choice, decision by decision; parallel episodes in the same state count each other's picks
as tries, so they spread out). :func:`decide` runs the three. The act node, the Kuhn measure,
the critique search's rollouts and generate mode all choose through here. The policy reads
plain values only (a :class:`Decision` per episode, the settings, the model): turning a graph
slot into a decision is :func:`memplay.agents.nodes.decision_of`.

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
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from memplay.agents.score_memo import ScoreMemo
from memplay.errors import LLMOutputError
from memplay.llm.base import LLM, Prompt, score_in_sessions
from memplay.llm.parse import generate_actions
from memplay.memory.step_memory import ActionValue
from memplay.types import DecisionStats

__all__ = ["SAFETY", "UNNAMED", "Choice", "Decision", "LLMView", "Plan", "PolicyConfig",
           "Verdict", "ask_model", "calibrate", "choose_action", "choose_batch",
           "combine_scores", "combine_terms", "decide", "judge", "llm_scores", "llm_term",
           "log_softmax", "margin", "memory_confidence", "memory_scores", "novelty_bonus",
           "plan_batch", "recall_scores", "scores_for", "with_kept"]

log = logging.getLogger(__name__)

# Log-probability given to the actions a generated answer did not name: far below the named
# one, but finite, so memory values can still overrule a small model's pick.
UNNAMED = -10.0
# Scores are sums of floats added in different orders on the gated and the ungated path: a
# margin must beat the bound by more than rounding can move it.
SAFETY = 1e-9


class PolicyConfig(BaseModel):
    """How actions are chosen: the LLM's vote, memory's prior, exploration, sampling, gate.

    >>> PolicyConfig(method="generate", think=True).think
    True
    >>> PolicyConfig(gate="on")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for PolicyConfig
    ...
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
    view_repeats: Literal["learning", "always", "off"] = Field(
        default="learning", description="When a view's 'repeats' (how often this episode "
        "already went to that very place or opened that very box) count as its tries in the "
        "novelty bonus, so that exploration covers a room: 'learning' while memory learns "
        "(a frozen run exploits what memory holds instead), 'always' or 'off'.")
    gate: Literal["off", "on", "audit"] = Field(
        default="off", description="'on': ask the LLM only when its term can change the "
        "chosen action, and score only the candidates that can still win; 'audit': ask it "
        "every time, but count the decisions the gate would have settled and whether its "
        "choice agreed; 'off': score every action. Score mode needs llm_clip or gate_margin.")
    llm_clip: float | None = Field(
        default=None, gt=0.0, description="Bound the LLM term (B nats): log-probabilities are "
        "clipped to [-B, 0], calibrated scores (deviations from each action's running mean) to "
        "[-B/2, B/2], so the gate is exact. None: the unbounded log-softmax term.")
    gate_margin: float | None = Field(
        default=None, gt=0.0, description="How far the LLM term is taken to move an action's "
        "score, instead of the exact reach llm_weight * llm_clip: a heuristic for an unbounded "
        "term, or a looser gate.")
    gate_epsilon: float = Field(
        default=0.01, gt=0.0, lt=1.0, description="Sampling (temperature > 0): the gate "
        "settles a choice when all other actions together keep less than this probability, "
        "whatever the LLM says.")
    prune_unneeded: bool = Field(
        default=False, description="Do not score actions the environment's view marks as not "
        "needed (info['view'] entries with needed: false); they get the LLM term's floor and "
        "memory can still choose them.")
    list_actions: Literal["all", "candidates", "none"] = Field(
        default="all", description="Which actions the prompt lists when the model is asked: "
        "'all' admissible ones, only the 'candidates' it scores (those the gate and "
        "prune_unneeded leave), or 'none' (score mode still scores each candidate as the "
        "prompt's continuation), so a call reads a shorter prompt. The model then scores "
        "them in another prompt than an ungated policy's, so the gate's choice is no longer "
        "exactly the ungated one (only its settled decisions are).")

    reuse_scores: int = Field(
        default=0, ge=0, description="Score mode: keep each score the model gives for the "
        "next N decisions of its episode, so a candidate scored that recently is not sent "
        "again and a decision whose candidates all have a kept score does not call the model "
        "(a heuristic: the kept score was for an earlier prompt; "
        ":mod:`memplay.agents.score_memo`). 0: always ask.")

    @model_validator(mode="after")
    def _gate_has_a_bound(self) -> PolicyConfig:
        if self.gate != "off" and self.method == "score" and self.reach() is None:
            raise ValueError(f"gate={self.gate!r} needs a bound on the LLM term: set "
                             "policy.llm_clip (exact, e.g. 4.0; --llm-clip on the command "
                             "line) or policy.gate_margin (a heuristic), or gate='off'")
        if self.reuse_scores and self.method == "generate":
            raise ValueError("reuse_scores needs method='score': a generated answer names "
                             "one action for one prompt; set reuse_scores=0")
        if self.list_actions == "none" and self.method == "generate":
            raise ValueError("list_actions='none' needs method='score': a generated answer "
                             "must see the actions it may name; use 'all' or 'candidates'")
        return self

    def reach(self) -> float | None:
        """How far the weighted LLM term can move one action against another (its spread),
        or None when it is unbounded and no ``gate_margin`` stands in.

        >>> PolicyConfig(llm_clip=4.0).reach(), PolicyConfig(method="generate").reach()
        (2.0, 5.0)
        """
        if self.gate_margin is not None:
            return self.gate_margin
        if self.llm_clip is not None:
            return self.llm_weight * self.llm_clip
        if self.method == "generate":  # named action 0, the others UNNAMED
            return self.llm_weight * -UNNAMED
        return None


# --- what the LLM says: one batched call per step -------------------------------------------


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


def llm_scores(llm: LLM, prompts: Sequence[Prompt], admissible: Sequence[Sequence[str]],
               cfg: PolicyConfig, sessions: Sequence[str | None] | None = None
               ) -> list[LLMView]:
    """What the LLM says about each decision, in one batched call (two with a retry).

    ``sessions`` names the episode each prompt belongs to: a backend that keeps attention
    states between calls (:class:`~memplay.llm.base.SessionScorer`) then only runs
    the tokens a prompt adds to its episode's previous one.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> llm_scores(ScriptedLLM(scores={"right": -0.5}), ["?"], [["left", "right"]],
    ...            PolicyConfig())[0].scores
    {'left': -5.0, 'right': -0.5}
    >>> llm_scores(ScriptedLLM(responses=["I go Left."]), ["?"], [["left", "right"]],
    ...            PolicyConfig(method="generate"))[0].scores
    {'left': 0.0, 'right': -10.0}
    """
    if cfg.method == "generate":
        answers = generate_actions(llm, prompts, admissible, max_new_tokens=cfg.max_new_tokens,
                                   think=cfg.think)
        return [_view(pick, list(acts), thought)
                for (pick, thought), acts in zip(answers, admissible)]
    scored = score_in_sessions(llm, prompts, admissible, sessions) if sessions is not None \
        else llm.score(prompts, admissible)
    bad = [c for row in scored for c in row if not math.isfinite(c.logprob_mean)]
    if bad:  # NaN/inf would poison the softmax over actions: a backend fault, not a choice
        raise LLMOutputError(f"backend {llm.name!r} scored {bad[0].text!r} as "
                             f"{bad[0].logprob_mean}; scores must be finite log-probabilities")
    return [LLMView({c.text: c.logprob_mean for c in row}) for row in scored]


def _view(pick: str | None, admissible: list[str], thought: str | None) -> LLMView:
    if pick is None:
        log.warning("generated answers named no admissible action; memory decides")
        return LLMView({a: 0.0 for a in admissible}, thought, parsed=False)
    return LLMView({a: 0.0 if a == pick else UNNAMED for a in admissible}, thought)


# --- the arithmetic: LLM term, memory's part, the choice ------------------------------------

def log_softmax(scores: Mapping[str, float]) -> dict[str, float]:
    """Normalise raw log-scores into log-probabilities over the given keys.

    >>> round(sum(math.exp(v) for v in log_softmax({"a": -1.0, "b": -3.0}).values()), 6)
    1.0
    """
    top = max(scores.values())
    log_z = top + math.log(sum(math.exp(v - top) for v in scores.values()))
    return {k: v - log_z for k, v in scores.items()}


def calibrate(scores: Mapping[str, float], bias: dict[str, list[float]],
              normalise: bool = True) -> dict[str, float]:
    """Remove the LLM's context-free preference for each action ("contextual calibration").

    A small model prefers some action words whatever the state (SmolLM2-135M: "right" over
    "down" by ~4 nats on FrozenLake). Subtracting each action's running mean
    log-probability keeps only what the context adds. ``bias`` (action -> [sum, count])
    is updated in place. ``normalise=False`` works on the raw log-probabilities, so an
    action's value does not depend on which other actions were scored.

    >>> bias: dict[str, list[float]] = {}
    >>> _ = calibrate({"a": -0.1, "b": -3.0}, bias)
    >>> c = calibrate({"a": -0.1, "b": -3.0}, bias)
    >>> abs(c["a"] - c["b"]) < 1e-9
    True
    """
    normed = log_softmax(scores) if normalise else dict(scores)
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


def combine_terms(term: Mapping[str, float], values: Mapping[str, ActionValue],
                  cfg: PolicyConfig, tried_now: Mapping[str, int] | None = None
                  ) -> dict[str, float]:
    """Add the step-memory prior and novelty bonus to each action's (weighted) LLM term.

    ``values`` maps action -> memory's estimate from earlier episodes; actions missing from
    it count as never tried. ``tried_now`` counts how often each action was already taken
    from this state in the running episode (and picked by parallel episodes here), so an
    agent stuck in a loop turns to the moves it has not tried yet. Without values and without
    ``tried_now`` (memory off) only the LLM term is left.

    >>> s = combine_terms({"a": 0.0, "b": 0.0}, {}, PolicyConfig(), tried_now={"a": 2})
    >>> s["b"] > s["a"]
    True
    """
    tried_now = tried_now or {}
    if not values and not tried_now:
        return dict(term)
    combined = {}
    for action, score in term.items():
        value = values.get(action) or _UNKNOWN
        known = value.visits + cfg.borrowed_weight * value.borrowed if cfg.memory_novelty else 0
        seen = known + tried_now.get(action, 0)
        combined[action] = (score + cfg.prior_weight * memory_confidence(value) * value.q
                            + novelty_bonus(seen, cfg.exploration))
    return combined


def combine_scores(
    llm: Mapping[str, float],
    values: Mapping[str, ActionValue],
    cfg: PolicyConfig,
    tried_now: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """:func:`combine_terms` on the weighted log-softmax of raw LLM scores.

    >>> combine_scores({"a": 0.0, "b": 0.0}, {}, PolicyConfig(llm_weight=1.0)) == \\
    ...     log_softmax({"a": 0, "b": 0})
    True
    """
    base = {a: cfg.llm_weight * v for a, v in log_softmax(llm).items()}
    return combine_terms(base, values, cfg, tried_now)


def memory_scores(actions: Sequence[str], values: Mapping[str, ActionValue],
                  cfg: PolicyConfig, tried_now: Mapping[str, int] | None = None
                  ) -> dict[str, float]:
    """M(a): what memory adds to each action's score (0 everywhere with memory off).

    >>> memory_scores(["a", "b"], {}, PolicyConfig(), {"a": 3})
    {'a': 1.0, 'b': 2.0}
    """
    return combine_terms({a: 0.0 for a in actions}, values, cfg, tried_now)


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


def _clip_range(cfg: PolicyConfig) -> tuple[float, float] | None:
    """The interval the unweighted LLM term is clipped to, or None (unbounded)."""
    if cfg.llm_clip is None:
        return None
    if cfg.calibrate and cfg.method == "score":
        return -cfg.llm_clip / 2, cfg.llm_clip / 2
    return -cfg.llm_clip, 0.0


def llm_term(view: LLMView, cfg: PolicyConfig, bias: dict[str, list[float]]
             ) -> dict[str, float]:
    """term(a): the weighted LLM term of each scored action; updates calibration ``bias``.

    Unbounded (``llm_clip`` None): log-softmax of the (calibrated) scores. Bounded: the raw
    log-probabilities, calibrated against their own running means and clipped, so an action's
    term does not depend on which other candidates were scored.

    >>> cfg = PolicyConfig(calibrate=False, llm_clip=4.0, llm_weight=1.0)
    >>> llm_term(LLMView({"a": -0.5, "b": -9.0}), cfg, {})
    {'a': -0.5, 'b': -4.0}
    """
    bounds = _clip_range(cfg)
    scores = view.scores
    if cfg.calibrate and cfg.method == "score":
        scores = calibrate(scores, bias, normalise=bounds is None)
    if bounds is None:
        return {a: cfg.llm_weight * v for a, v in log_softmax(scores).items()}
    low, high = bounds
    return {a: cfg.llm_weight * min(max(v, low), high) for a, v in scores.items()}


# --- the gate: when memory's scores settle a choice without the LLM ------------------------


@dataclass(frozen=True)
class Verdict:
    """What memory alone says about one decision.

    Attributes:
        settled: The action that wins whatever the LLM says (None when the LLM can still
            change the choice).
        hopeless: Actions that cannot win (greedy) or keep less than ``epsilon / n`` of the
            probability (sampling) whatever the LLM says: not worth scoring.

    >>> Verdict(None, frozenset()).settled is None
    True
    """

    settled: str | None
    hopeless: frozenset[str]


def margin(reach: float, temperature: float, actions: int, epsilon: float) -> float:
    """How far an action's memory score must trail the best one's for the LLM not to matter.

    >>> margin(2.0, 0.0, 4, 0.01)
    2.0
    >>> round(margin(2.0, 0.5, 4, 0.01), 3)
    4.996
    """
    if temperature == 0 or actions < 2:
        return reach
    return reach + temperature * math.log(actions / epsilon)


def judge(low: Mapping[str, float], high: Mapping[str, float], needed: float) -> Verdict:
    """The settled action and the hopeless ones, from each action's memory score interval.

    ``low[a] <= high[a]`` bound action ``a``'s memory score; ``needed`` is :func:`margin`.
    An action is hopeless when the best lower bound beats its upper bound by more than
    ``needed``; the best action is settled when every other one is hopeless. Ties never
    settle: the LLM would break them.

    >>> judge({"a": 3.0, "b": 0.0, "c": 2.5}, {"a": 3.0, "b": 0.0, "c": 2.5}, 1.0).hopeless
    frozenset({'b'})
    >>> judge({"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0}, 0.0).settled is None
    True
    >>> judge({"a": 2.0, "b": 0.0}, {"a": 2.0, "b": 1.5}, 1.0).hopeless
    frozenset()
    """
    if len(low) < 2:
        only = next(iter(low), None)
        return Verdict(only, frozenset())
    best = max(low, key=lambda a: low[a])
    hopeless = frozenset(a for a in low
                         if a != best and low[best] - high[a] > needed + SAFETY)
    settled = best if len(hopeless) == len(low) - 1 else None
    return Verdict(settled, hopeless)


# --- one step's decisions: plan, ask, choose -------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """One decision in plain values: everything the policy reads about it.

    Attributes:
        actions: The admissible actions, in the order ties go by.
        prompt: What the LLM reads.
        values: Step memory's estimate per action (empty: memory off or nothing known).
        tried: This episode's tries of each action's memory key (None: step memory off, so
            no novelty bonus and no counting of parallel picks).
        group: Decisions of one batch with the same group (the state) count each other's
            picks as tries.
        session: The episode's key for a backend that keeps attention states.
        unneeded: Actions the view marks as not needed.
        relist: The prompt listing only the given actions (``list_actions`` other than
            ``"all"``); None: the prompt stays as it is.

    >>> Decision(["left", "right"], "?").tried is None
    True
    """

    actions: Sequence[str]
    prompt: Prompt
    values: Mapping[str, ActionValue] = field(default_factory=dict)
    tried: Mapping[str, int] | None = None
    group: str = ""
    session: str | None = None
    unneeded: frozenset[str] = frozenset()
    relist: Callable[[Sequence[str]], Prompt] | None = None

    def prompt_for(self, candidates: Sequence[str], cfg: PolicyConfig) -> Prompt:
        """The prompt the model reads when asked to score ``candidates``.

        >>> d = Decision(["a", "b"], "all", relist=lambda acts: "only " + ",".join(acts))
        >>> [d.prompt_for(["b"], PolicyConfig(list_actions=how))
        ...  for how in ("all", "candidates", "none")]
        ['all', 'only b', 'only ']
        """
        if cfg.list_actions == "all" or self.relist is None:
            return self.prompt
        if cfg.list_actions == "none":
            return self.relist(())
        return self.prompt if len(candidates) == len(self.actions) else self.relist(candidates)


@dataclass(frozen=True)
class Plan:
    """Memory's verdict on one decision: settled (``pick``), or the candidates to score.

    >>> Plan(pick="left").asks
    False
    """

    pick: str | None = None
    candidates: tuple[str, ...] = ()
    pruned_by_view: int = 0
    pruned_by_value: int = 0
    audited: bool = False  # gate="audit": the gate would have settled it (on ``pick``)
    reused: int = 0  # candidates whose score an earlier call of the episode gave (reuse_scores)

    @property
    def asks(self) -> bool:
        """True when the model is asked about this decision."""
        return bool(self.candidates)


@dataclass(frozen=True)
class Choice:
    """The policy's answer to one decision.

    >>> Choice("left").stats.decisions
    0
    """

    action: str
    thought: str | None = None
    stats: DecisionStats = field(default_factory=DecisionStats)
    seconds: float = 0.0  # this decision's share of the batched LLM call


def _tries(decision: Decision, claims: Mapping[str, int], extra: int = 0) -> dict[str, int]:
    """This episode's tries plus the parallel picks in this state (``extra`` more each)."""
    tried = dict(decision.tried or {})
    for action in decision.actions if extra else ():
        tried[action] = tried.get(action, 0) + extra
    for action, n in claims.items():
        tried[action] = tried.get(action, 0) + n
    return tried


def _verdict(decision: Decision, cfg: PolicyConfig, claims: Mapping[str, int],
             open_before: int) -> Verdict:
    """What memory settles for ``decision``, given the parallel picks known (``claims``) and
    the ``open_before`` ones of its group still waiting for the model (each may land anywhere:
    they can only lower a novelty bonus)."""
    actions = list(decision.actions)
    reach = cfg.reach()
    if decision.tried is None or not decision.values or reach is None:
        # memory off or silent: only a lone action is settled
        zeros = {a: 0.0 for a in actions}
        return judge(zeros, zeros, math.inf) if len(actions) == 1 else Verdict(None, frozenset())
    high = memory_scores(actions, decision.values, cfg, _tries(decision, claims))
    low = memory_scores(actions, decision.values, cfg, _tries(decision, claims, open_before)) \
        if open_before else high
    needed = margin(reach, cfg.temperature, len(actions), cfg.gate_epsilon)
    return judge(low, high, needed)


def _plan_one(decision: Decision, cfg: PolicyConfig, verdict: Verdict) -> Plan:
    """Which candidates to score, given memory's verdict."""
    actions = list(decision.actions)
    if cfg.gate == "on" and verdict.settled is not None:
        return Plan(pick=verdict.settled)
    audited = cfg.gate == "audit" and verdict.settled is not None
    if cfg.method != "score":  # a generated answer may name any action: nothing to prune
        return Plan(pick=verdict.settled if audited else None, candidates=tuple(actions),
                    audited=audited)
    hopeless = verdict.hopeless if cfg.gate == "on" else frozenset()
    unneeded = decision.unneeded if cfg.prune_unneeded else frozenset()
    by_view = [a for a in actions if a in unneeded and a not in hopeless]
    kept = tuple(a for a in actions if a not in hopeless and a not in unneeded)
    if not kept:  # the view marked every hopeful action: score them after all
        kept, by_view = tuple(a for a in actions if a not in hopeless), []
    return Plan(pick=verdict.settled if audited else None, candidates=kept,
                pruned_by_view=len(by_view), pruned_by_value=len(hopeless), audited=audited)


def plan_batch(decisions: Sequence[Decision], cfg: PolicyConfig) -> list[Plan]:
    """Memory's verdict on each decision of a step, in order (see the module docstring).

    A settled decision's pick counts as a try for the later decisions of its group; an open
    one (waiting for the model) is an unknown try, so their verdicts stay exact.

    >>> from memplay.memory.step_memory import ActionValue
    >>> cfg = PolicyConfig(gate="on", llm_clip=4.0, temperature=0.0)
    >>> good = {"a": ActionValue(1.0, 3, 1.0), "b": ActionValue(-1.0, 3, 1.0)}
    >>> [p.pick for p in plan_batch([Decision(["a", "b"], "?", good, {})], cfg)]
    ['a']
    """
    if cfg.gate == "off" and not cfg.prune_unneeded:
        return [Plan(candidates=tuple(d.actions)) for d in decisions]
    claims: dict[str, Counter[str]] = {}
    open_in: Counter[str] = Counter()
    plans = []
    for decision in decisions:
        group = claims.setdefault(decision.group, Counter())
        verdict = _verdict(decision, cfg, group, open_in[decision.group]) \
            if cfg.gate != "off" else Verdict(None, frozenset())
        plan = _plan_one(decision, cfg, verdict)
        if verdict.settled is not None:
            group[verdict.settled] += 1
        else:
            open_in[decision.group] += 1
        plans.append(plan)
    return plans


def ask_model(llm: LLM, decisions: Sequence[Decision], plans: Sequence[Plan],
              cfg: PolicyConfig) -> tuple[dict[int, LLMView], float]:
    """One batched LLM call for every decision the plans leave open: index -> view, and the
    call's wall time (0 when no decision asks).

    >>> from memplay.llm.fake import ScriptedLLM
    >>> views, _ = ask_model(ScriptedLLM(), [Decision(["a"], "?")], [Plan(pick="a")],
    ...                      PolicyConfig())
    >>> views
    {}
    """
    asked = [i for i, plan in enumerate(plans) if plan.asks]
    if not asked:
        return {}, 0.0
    started = time.perf_counter()
    views = llm_scores(llm, [decisions[i].prompt_for(plans[i].candidates, cfg) for i in asked],
                       [list(plans[i].candidates) for i in asked], cfg,
                       [decisions[i].session for i in asked])
    return dict(zip(asked, views)), time.perf_counter() - started


def recall_scores(memo: ScoreMemo | None, decisions: Sequence[Decision],
                  plans: Sequence[Plan], cfg: PolicyConfig
                  ) -> tuple[list[Plan], dict[int, dict[str, float]]]:
    """Each plan less the candidates whose score its episode kept (``reuse_scores``), and
    those kept scores by decision index. Counts one decision per episode in ``memo``.

    >>> memo = ScoreMemo()
    >>> memo.store("ep", {"a": -1.0})
    >>> plans, kept = recall_scores(memo, [Decision(["a", "b"], "?", session="ep")],
    ...                             [Plan(candidates=("a", "b"))], PolicyConfig(reuse_scores=2))
    >>> plans[0].candidates, plans[0].reused, kept
    (('b',), 1, {0: {'a': -1.0}})
    """
    if memo is None or not cfg.reuse_scores:
        return list(plans), {}
    out, kept = [], {}
    for i, (decision, plan) in enumerate(zip(decisions, plans)):
        if decision.session is not None:
            memo.tick(decision.session)
            got = memo.recall(decision.session, plan.candidates, cfg.reuse_scores)
            if got:
                kept[i] = got
                plan = replace(plan, candidates=tuple(a for a in plan.candidates
                                                      if a not in got), reused=len(got))
        out.append(plan)
    return out, kept


def with_kept(views: Mapping[int, LLMView], kept: Mapping[int, dict[str, float]],
              decisions: Sequence[Decision], plans: Sequence[Plan], memo: ScoreMemo | None,
              cfg: PolicyConfig) -> dict[int, LLMView]:
    """The model's views with each decision's kept scores added; keeps the new scores in
    ``memo`` (with ``reuse_scores``). A decision whose call failed stays without a view.

    >>> memo = ScoreMemo()
    >>> views = with_kept({0: LLMView({"b": -2.0})}, {0: {"a": -1.0}},
    ...                   [Decision(["a", "b"], "?", session="ep")], [Plan(candidates=("b",))],
    ...                   memo, PolicyConfig(reuse_scores=1))
    >>> views[0].scores, memo.recall("ep", ["b"], within=0)
    ({'a': -1.0, 'b': -2.0}, {'b': -2.0})
    """
    if memo is None or not cfg.reuse_scores:
        return dict(views)
    out = dict(views)
    for i, view in views.items():
        session = decisions[i].session
        if session is not None:
            memo.store(session, view.scores)
    for i, scores in kept.items():
        if plans[i].asks and i not in views:
            continue  # its call failed: the episode ends as errored
        fresh = views.get(i)
        out[i] = LLMView({**scores, **(fresh.scores if fresh else {})},
                         fresh.thought if fresh else None)
    return out


def scores_for(decision: Decision, view: LLMView, cfg: PolicyConfig,
               bias: dict[str, list[float]], claims: Mapping[str, int] | None = None
               ) -> dict[str, float]:
    """The policy's score of every action of ``decision`` (what it samples from with the
    policy's temperature): the LLM term of the scored ones, the term's floor for the ones not
    scored, plus memory's part. Updates calibration ``bias`` (pass a copy to only look).

    >>> cfg = PolicyConfig(calibrate=False, llm_weight=1.0)
    >>> s = scores_for(Decision(["a", "b"], "?"), LLMView({"a": 0.0, "b": 0.0}), cfg, {})
    >>> round(s["a"], 3), round(s["b"], 3)
    (-0.693, -0.693)
    """
    term = llm_term(view, cfg, bias)
    bounds = _clip_range(cfg)
    floor = cfg.llm_weight * bounds[0] if bounds is not None else min(term.values())
    full = {a: term.get(a, floor) for a in decision.actions}
    tried = _tries(decision, claims or {}) if decision.tried is not None else None
    return combine_terms(full, decision.values, cfg, tried)


def _stats(decision: Decision, plan: Plan, agreed: bool) -> DecisionStats:
    return DecisionStats(decisions=1, model_calls=int(plan.asks),
                         candidates=len(decision.actions), scored=len(plan.candidates),
                         pruned_by_view=plan.pruned_by_view,
                         pruned_by_value=plan.pruned_by_value, reused=plan.reused,
                         audited=int(plan.audited),
                         audit_agreed=int(plan.audited and agreed))


def choose_batch(decisions: Sequence[Decision], plans: Sequence[Plan],
                 views: Mapping[int, LLMView], cfg: PolicyConfig,
                 bias: dict[str, list[float]], rng: random.Random, seconds: float = 0.0
                 ) -> list[Choice | None]:
    """The choice of each decision, in order: the settled pick, or a draw from its scores.

    A decision that asked the model but has no view (its call failed) gets None. Picks count
    as tries for the later decisions of the same group ("virtual loss"). A settled decision
    at temperature > 0 still takes one draw from ``rng``, so gated and ungated runs share
    their random stream.
    """
    asked = sum(plan.asks for plan in plans)
    share = seconds / asked if asked else 0.0
    claims: dict[str, Counter[str]] = {}
    out: list[Choice | None] = []
    for i, (decision, plan) in enumerate(zip(decisions, plans)):
        group = claims.setdefault(decision.group, Counter())
        view = views.get(i)
        if plan.asks and view is None:
            out.append(None)
            continue
        if view is None:
            action, thought = str(plan.pick), None
            if cfg.temperature > 0:
                rng.random()  # the draw choose_action would have taken
        else:
            scores = scores_for(decision, view, cfg, bias, group)
            action, thought = choose_action(scores, cfg.temperature, rng), view.thought
        group[action] += 1
        out.append(Choice(action, thought, _stats(decision, plan, action == plan.pick),
                          share if plan.asks else 0.0))
    return out


def decide(llm: LLM, decisions: Sequence[Decision], cfg: PolicyConfig,
           bias: dict[str, list[float]], rng: random.Random, memo: ScoreMemo | None = None
           ) -> list[Choice]:
    """Plan, ask the model about the open decisions (less the scores ``memo`` kept, with
    ``reuse_scores``), choose: one step of a batch.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> choice = decide(ScriptedLLM(scores={"right": -0.1}), [Decision(["left", "right"], "?")],
    ...                 PolicyConfig(temperature=0, calibrate=False), {}, random.Random(0))
    >>> choice[0].action, choice[0].stats.model_calls
    ('right', 1)
    """
    plans, kept = recall_scores(memo, decisions, plan_batch(decisions, cfg), cfg)
    views, seconds = ask_model(llm, decisions, plans, cfg)
    views = with_kept(views, kept, decisions, plans, memo, cfg)
    return [c for c in choose_batch(decisions, plans, views, cfg, bias, rng, seconds)
            if c is not None]
