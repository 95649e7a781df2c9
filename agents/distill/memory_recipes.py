"""Memory as the teacher: its greedy action in every situation the run visited.

Expert iteration with memory as the expert: step memory holds, per (kind, context), the
value of each action; in each distinct situation the run's episodes visited (won or lost),
memory's greedy action is the action with the highest confidence-weighted value
(``conf * Q``: a value learned in this very situation at full weight, one borrowed from
similar situations at their similarity), kept when it is positive, i.e. when memory expects
the move to pay off. States where memory knows no good move teach nothing and are skipped.

- ``memory-greedy`` (SFT): the prompt of the situation, memory's action as the answer.
- ``memory-vs-model`` (DPO, SPIN-style): where the model being trained would pick another
  action (its own greedy choice on the same prompt), memory's action is chosen and the
  model's is rejected; where they agree there is nothing to correct.

    >>> from memplay.memory.step_memory import ActionValue
    >>> greedy_action({"left": ActionValue(-0.5, 3, 1.0), "down": ActionValue(0.6, 2, 1.0),
    ...                "up": ActionValue(0.9, 0, 0.5, 2.0)})
    'down'
    >>> greedy_action({"left": ActionValue(-0.5, 3, 1.0)}) is None
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from memplay.agents.distill.recipe import DistillSource, Recipe
from memplay.agents.policy import memory_confidence
from memplay.agents.state import Key, action_keys
from memplay.errors import TrainerError
from memplay.memory.step_memory import ActionValue
from memplay.trainers.records import ChatRecord, Message, PreferencePair

__all__ = ["MEMORY_GREEDY", "MEMORY_VS_MODEL", "Situation", "greedy_action",
           "memory_choices", "visited_situations"]


@dataclass(frozen=True)
class Situation:
    """One decision the run met: the prompt the agent saw, its choices and memory's keys."""

    prompt: list[Message]
    admissible: list[str]
    keys: dict[str, Key]


def visited_situations(source: DistillSource) -> list[Situation]:
    """Every distinct prompt of the run's episodes (won or lost), first occurrence kept.

    A step's memory keys are rebuilt as the agent built them: from its stored state and
    portable view (``Step.info``) with the run's ``memory.step_keys``.
    """
    use_view = source.config.memory.step_keys == "view"
    prompt_fn, seen, out = source.prompt_fn, set(), []
    for traj in source.trajectories:
        for i, step in enumerate(traj.steps):
            if not step.admissible_actions:
                continue
            prompt = prompt_fn(traj, i)
            text = json.dumps(prompt)
            if text in seen:
                continue
            seen.add(text)
            state = str(step.info.get("state", step.observation))
            view = step.info.get("view")
            keys = action_keys(state, view if isinstance(view, Mapping) else None,
                               step.admissible_actions, use_view)
            out.append(Situation(prompt, list(step.admissible_actions), keys))
    return out


def greedy_action(values: Mapping[str, ActionValue], min_value: float = 0.0) -> str | None:
    """Memory's best action by ``conf * Q`` among those it has evidence for, if above
    ``min_value``; ties go to the first listed (the policy's rule)."""
    scored = {a: memory_confidence(v) * v.q for a, v in values.items() if memory_confidence(v)}
    if not scored:
        return None
    best = max(scored, key=lambda a: scored[a])
    return best if scored[best] > min_value else None


def memory_choices(source: DistillSource) -> list[tuple[Situation, str]]:
    """Each visited situation where memory has a greedy action, with that action."""
    situations = visited_situations(source)
    if not situations:
        raise TrainerError(f"{source.run_dir} has no episodes to read situations from; play "
                           "first (memplay run RUN), with memory on")
    values = source.memory().estimate([s.keys for s in situations])
    chosen = [(s, greedy_action(v)) for s, v in zip(situations, values)]
    return [(s, a) for s, a in chosen if a is not None]


def _greedy_records(source: DistillSource) -> list[ChatRecord]:
    return [ChatRecord(messages=[*s.prompt, {"role": "assistant", "content": action}],
                       train_on=[len(s.prompt)], source="memory-greedy")
            for s, action in memory_choices(source)]


def _memory_vs_model(source: DistillSource) -> list[PreferencePair]:
    if source.model is None:
        raise TrainerError("recipe 'memory-vs-model' compares memory with the model's own "
                           "picks, and no model was given to the source (train_round loads "
                           "the starting model for it)")
    choices = memory_choices(source)
    picks = source.model([s.prompt for s, _ in choices], [s.admissible for s, _ in choices])
    return [PreferencePair(prompt=s.prompt, chosen=mine, rejected=theirs,
                           source="memory-vs-model")
            for (s, mine), theirs in zip(choices, picks) if theirs != mine]


MEMORY_GREEDY = Recipe(
    "memory-greedy", "sft",
    "memory's greedy action (best conf*Q > 0) in every situation the run visited; play with "
    "memory on (memrl) or learn demos into it first", _greedy_records)
MEMORY_VS_MODEL = Recipe(
    "memory-vs-model", "dpo",
    "memory's greedy action over the model's own pick where they differ (SPIN-style); none "
    "when the model already agrees with memory everywhere", _memory_vs_model)
