"""What the LLM says about each decision: log-probabilities of the actions, or a parsed answer.

The policy (:mod:`memplay.agents.policy`) asks here once per step for every decision the gate
left open, in one batched call: by default the log-probability of each candidate action as the
prompt's continuation ("score" mode: one forward pass, no parsing, works with a 135M model);
or, for chat models behind an API that gives no log-probabilities, the model's answer
("generate" mode) parsed to the nearest admissible action, optionally after a ReAct-style
``think:`` turn.

    >>> LLMView({"left": -0.5}).parsed
    True
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from memplay.errors import LLMOutputError
from memplay.llm.base import LLM, Prompt, SamplingParams, score_in_sessions
from memplay.llm.parse import parse_action

__all__ = ["THINK_HINT", "UNNAMED", "LLMView", "VoteSettings", "llm_scores"]

log = logging.getLogger(__name__)

# Log-probability given to the actions a generated answer did not name: far below the named
# one, but finite, so memory values can still overrule a small model's pick.
UNNAMED = -10.0
THINK_PREFIX = "think:"
THINK_HINT = ("You may first reply with 'think: <your reasoning>' on one line; you will then "
              "be asked for the action.")


class VoteSettings(Protocol):
    """The policy settings this module reads (:class:`~memplay.agents.policy.PolicyConfig`)."""

    @property
    def method(self) -> str:
        """'score' or 'generate'."""
        ...

    @property
    def think(self) -> bool:
        """Generate mode: allow one ``think:`` turn."""
        ...

    @property
    def max_new_tokens(self) -> int:
        """Generate mode: tokens per answer."""
        ...


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
               cfg: VoteSettings, sessions: Sequence[str | None] | None = None
               ) -> list[LLMView]:
    """What the LLM says about each decision, in one batched call (two with a retry).

    ``sessions`` names the episode each prompt belongs to: a backend that keeps attention
    states between calls (:class:`~memplay.llm.base.SessionScorer`) then only runs
    the tokens a prompt adds to its episode's previous one.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> from memplay.agents.policy import PolicyConfig
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
                   cfg: VoteSettings) -> list[LLMView]:
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
