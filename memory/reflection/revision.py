"""Agent-R revision trajectories as stored records: a failed path cut at its first bad step,
a short revision thought, and a winning continuation.

The search that finds them (MCTS, first-bad-step judges, splicing) is agent behaviour and
lives in :mod:`memplay.agents.reflection.judges`; this module only holds what is kept in
``<memory>/critiques/revisions.jsonl``.

    >>> r = RevisionTrajectory(goal="g", start_obs="s", bad_steps=[Turn(action="a", obs="x")],
    ...                        thought="I realise 'a' was a mistake.",
    ...                        good_steps=[Turn(action="b", obs="won")])
    >>> r.bad_actions, r.good_actions
    (['a'], ['b'])
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["RevisionTrajectory", "Turn"]


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
