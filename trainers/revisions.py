"""Agent-R revision trajectories as training data: a failed path cut at its first bad step,
a short revision thought, and a winning continuation, and their chat forms.

The critique method (:mod:`memplay.agents.methods.critique`) finds them and keeps them in
``<memory>/critiques/revisions.jsonl``; the record type lives here, in the trainers layer,
because ``memplay train --data revisions.jsonl`` reads those rows as they are:

- :func:`revision_record`: ``{"messages", "train_on", "source": "revision"}``; loss falls only on
  the revision turn (thought + first good action) and the good continuation after it, never
  on the bad prefix the model should not imitate.
- :func:`revision_preference`: the good action over the bad one at the branching state.

    >>> r = RevisionTrajectory(goal="g", start_obs="s", bad_steps=[Turn(action="a", obs="x")],
    ...                        thought="I realise 'a' was a mistake.",
    ...                        good_steps=[Turn(action="b", obs="won")])
    >>> r.bad_actions, r.good_actions
    (['a'], ['b'])
    >>> record = revision_record(r)
    >>> [m["role"] for m in record["messages"]], record["train_on"]
    (['user', 'assistant', 'user', 'assistant'], [3])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from memplay.trainers.records import Message

__all__ = ["RevisionTrajectory", "Turn", "chat_opening", "play_turns", "revision_preference",
           "revision_record"]


class Turn(BaseModel):
    """One step of a spliced trajectory: the action and the observation it produced.

    >>> Turn(action="down", obs="row 1").action
    'down'
    """

    model_config = ConfigDict(extra="forbid")

    action: str
    obs: str


class RevisionTrajectory(BaseModel):
    """A failed path cut at its first bad step, a revision thought, and a winning continuation.

    ``bad_steps`` ends with the bad step; ``good_steps`` starts with the good sibling's action
    (taken from the same state as the bad one) and ends at a success.

    >>> r = RevisionTrajectory(goal="g", start_obs="s", bad_steps=[Turn(action="a", obs="x")],
    ...                        thought="I realise 'a' was a mistake.",
    ...                        good_steps=[Turn(action="b", obs="won")])
    >>> r.branch_obs, r.bad_action
    ('s', 'a')
    """

    model_config = ConfigDict(extra="forbid")

    env_id: str = ""
    seed: int | None = None
    goal: str = ""
    tree_id: str = ""
    start_obs: str
    bad_steps: list[Turn]
    thought: str
    thought_source: str = "template"
    good_steps: list[Turn]
    bad_value: float = 0.0
    good_value: float = 0.0

    @property
    def bad_actions(self) -> list[str]:
        """Actions of the bad prefix, the bad step last."""
        return [t.action for t in self.bad_steps]

    @property
    def good_actions(self) -> list[str]:
        """Actions of the good continuation, from the branching state to the success."""
        return [t.action for t in self.good_steps]

    @property
    def bad_action(self) -> str:
        """The first bad step's action."""
        return self.bad_steps[-1].action

    @property
    def branch_obs(self) -> str:
        """Observation of the state where the bad and the good action diverge."""
        return self.bad_steps[-2].obs if len(self.bad_steps) > 1 else self.start_obs


def chat_opening(goal: str, start_obs: str, system: str | None) -> list[Message]:
    """The messages before the first move: an optional system prompt, then goal and start.

    >>> [m["role"] for m in chat_opening("g", "s", "be brief")]
    ['system', 'user']
    """
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": f"Goal: {goal}\n{start_obs}".strip()})
    return messages


def play_turns(messages: list[Message], turns: Iterable[Turn]) -> list[Message]:
    """Append each turn to ``messages``: the action (assistant), then what it led to (user).

    >>> play_turns([], [Turn(action="a", obs="x")])
    [{'role': 'assistant', 'content': 'a'}, {'role': 'user', 'content': 'x'}]
    """
    for turn in turns:
        messages.append({"role": "assistant", "content": turn.action})
        messages.append({"role": "user", "content": turn.obs})
    return messages


def revision_record(revision: RevisionTrajectory, system: str | None = None) -> dict[str, Any]:
    """Chat record of a revision trajectory (see the module docstring).

    The revision turn is ``"<thought>\\n<good action>"``: the action stays alone on the last
    line, as in every other assistant turn, so action parsers keep working.
    """
    opening = chat_opening(revision.goal, revision.start_obs, system)
    messages = play_turns(opening, revision.bad_steps)
    first, *rest = revision.good_steps
    messages.append({"role": "assistant", "content": f"{revision.thought}\n{first.action}"})
    train_on = [len(messages) - 1]
    previous = first
    for turn in rest:  # each good action follows the observation of the one before it
        messages.append({"role": "user", "content": previous.obs})
        messages.append({"role": "assistant", "content": turn.action})
        train_on.append(len(messages) - 1)
        previous = turn
    return {"messages": messages, "train_on": train_on, "source": "revision"}


def revision_preference(revision: RevisionTrajectory, system: str | None = None) -> dict[str, Any]:
    """Preference pair at the branching state: the good action over the bad one.

    >>> r = RevisionTrajectory(goal="g", start_obs="s", bad_steps=[Turn(action="a", obs="x")],
    ...                        thought="t", good_steps=[Turn(action="b", obs="won")])
    >>> pair = revision_preference(r); pair["chosen"], pair["rejected"]
    ('b', 'a')
    """
    opening = chat_opening(revision.goal, revision.start_obs, system)
    prompt = play_turns(opening, revision.bad_steps[:-1])
    return {
        "prompt": prompt, "chosen": revision.good_actions[0], "rejected": revision.bad_action,
        "source": "revision",
    }
