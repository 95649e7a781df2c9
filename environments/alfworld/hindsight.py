"""ALFWorld's part of hindsight relabelling: the views of an episode under another goal.

ALFWorld's portable view follows the task (what is sought, the stage, the place needed), so
an episode relabelled as "put a mug in cabinet" must be seen as an agent with that task
would have seen it: the tracker (:class:`~memplay.environments.alfworld.view.AlfredTracker`)
reads the same intro, actions and feedback again with the new goal. The first observation's
"Your task is to: ..." line names the new goal too (task memory keys an episode by it). Each
step keeps its state text, so loops are found as in the episode that was played.

    >>> from memplay.types import Step, Trajectory
    >>> intro = ("You are in the middle of a room. Looking quickly around you, you see a "
    ...          "cabinet 1, and a countertop 1.\\n\\nYour task is to: put a apple in cabinet.")
    >>> played = Trajectory(env_id="ALFWorld-v0", goal="put a apple in cabinet", steps=[
    ...     Step(observation=intro, action="go to countertop 1",
    ...          admissible_actions=["go to countertop 1"]),
    ...     Step(observation="You arrive at countertop 1. On the countertop 1, you see a mug 1.",
    ...          action="take mug 1 from countertop 1",
    ...          admissible_actions=["take mug 1 from countertop 1", "go to cabinet 1"])])
    >>> h = AlfredRelabeller().relabel(played, "put a mug in cabinet", end=1)
    >>> h.steps[1].info["view"]["actions"]["take mug 1 from countertop 1"]["kind"]
    'take it from countertop'
    >>> h.steps[0].observation.endswith("Your task is to: put a mug in cabinet.")
    True
"""

from __future__ import annotations

import re

from memplay.environments.alfworld.view import AlfredTracker, parse_goal
from memplay.environments.hindsight import Relabeller
from memplay.types import Trajectory

__all__ = ["AlfredRelabeller"]

_TASK_LINE = re.compile(r"(Your task is to:\s*).+")


class AlfredRelabeller(Relabeller):
    """Goals compare by task (both phrasings of a template are one goal); views are
    recomputed for the new goal.

    >>> AlfredRelabeller().same_goal("clean some apple and put it in fridge",
    ...                              "put a clean apple in fridge")
    True
    """

    def same_goal(self, first: str, second: str) -> bool:
        """Equal tasks once parsed (``parse_goal(...).describe()``)."""
        return parse_goal(first).describe() == parse_goal(second).describe()

    def relabel(self, trajectory: Trajectory, goal: str, end: int) -> Trajectory:
        """The first ``end + 1`` steps as a success of ``goal``, with views for that goal."""
        relabelled = super().relabel(trajectory, goal, end)
        steps = relabelled.steps
        if not steps:
            return relabelled
        steps[0].observation = _TASK_LINE.sub(lambda m: f"{m.group(1)}{goal}.",
                                              steps[0].observation, count=1)
        tracker = AlfredTracker(goal, steps[0].observation)
        for number, step in enumerate(steps):
            step.info["view"] = tracker.view(step.admissible_actions)
            step.info.setdefault("state", step.observation)
            following = steps[number + 1].observation if number + 1 < len(steps) else ""
            tracker.update(step.action, following)
        return relabelled
