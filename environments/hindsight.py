"""Hindsight relabelling: an episode as the success of a goal it achieved on the way.

A failed episode still demonstrates whatever it happened to achieve (Andrychowicz et al.,
Hindsight Experience Replay): an ALFWorld agent that put a mug in a cabinet while looking for
an apple has shown how to "put a mug in cabinet". Environments that can tell put the goals
each step achieved in ``info["achieved_goals"]`` (a list of goal texts, in the wording their
``info["goal"]`` uses); the agent records them on the step (``Step.info["achieved"]``), and
:func:`hindsight_trajectories` turns every goal other than the episode's own into a
trajectory that ends at the step that achieved it, succeeds, and has that goal.

What depends on the goal besides the goal text is the environment's: a portable view that
names the task stage must be recomputed for the new goal. A :class:`Relabeller` does that;
environments register theirs by id in :data:`RELABELLERS` (``"module:Class"``). The default
keeps the steps' views as they are, right for views that do not depend on the goal.

    >>> from memplay.types import Step, Trajectory
    >>> t = Trajectory(env_id="Demo-v0", goal="find the key", steps=[
    ...     Step(observation="a hall", action="take lamp", info={"achieved": ["hold a lamp"]}),
    ...     Step(observation="lamp in hand", action="go north")])
    >>> [(h.goal, len(h.steps), h.success) for h in hindsight_trajectories(t)]
    [('hold a lamp', 1, True)]
"""

from __future__ import annotations

from memplay.registry import Registry
from memplay.types import Trajectory

__all__ = ["ACHIEVED", "PROVENANCE", "RELABELLERS", "Relabeller", "achieved_goals",
           "hindsight_trajectories", "relabeller_for"]

ACHIEVED = "achieved"
"""``Step.info`` key of the goals a step achieved (copied from ``info["achieved_goals"]``)."""
PROVENANCE = "hindsight"


class Relabeller:
    """Rewrites an episode as the success of another goal (the default keeps every view).

    >>> from memplay.types import Step
    >>> t = Trajectory(env_id="x", goal="a", steps=[Step(observation="o", action="u")] * 3)
    >>> h = Relabeller().relabel(t, "b", end=1)
    >>> h.goal, len(h.steps), h.success, h.steps[-1].reward, h.metadata["provenance"]
    ('b', 2, True, 1.0, 'hindsight')
    """

    def same_goal(self, first: str, second: str) -> bool:
        """Whether two goal texts name the same goal (the default: equal up to case, spaces
        and a final full stop).

        >>> Relabeller().same_goal("Reach G.", "reach  g")
        True
        """
        return _plain(first) == _plain(second)

    def relabel(self, trajectory: Trajectory, goal: str, end: int) -> Trajectory:
        """The first ``end + 1`` steps as a success of ``goal``: reward 1 on the last one."""
        steps = [s.model_copy(deep=True) for s in trajectory.steps[: end + 1]]
        for step in steps:
            step.reward = 0.0
        steps[-1].reward = 1.0
        return trajectory.model_copy(update={
            "goal": goal, "steps": steps, "success": True, "total_reward": 1.0,
            "metadata": {**trajectory.metadata, "provenance": PROVENANCE,
                         "original_goal": trajectory.goal}})


def _plain(goal: str) -> str:
    return " ".join(goal.casefold().strip().rstrip(".").split())


RELABELLERS: Registry[type[Relabeller]] = Registry("hindsight relabeller")
RELABELLERS.register("ALFWorld-v0", "memplay.environments.alfworld.hindsight:AlfredRelabeller")


def relabeller_for(env_id: str) -> Relabeller:
    """The registered relabeller of ``env_id``, else the default one.

    >>> type(relabeller_for("FrozenLake-4x4-v0")).__name__
    'Relabeller'
    """
    return RELABELLERS.get(env_id)() if env_id in RELABELLERS else Relabeller()


def achieved_goals(trajectory: Trajectory, relabeller: Relabeller | None = None
                   ) -> list[tuple[str, int]]:
    """``(goal, step index)`` of each goal the episode achieved other than its own, at the
    first step that achieved it.

    >>> from memplay.types import Step
    >>> t = Trajectory(env_id="x", goal="b", steps=[
    ...     Step(observation="o", action="u", info={"achieved": ["a", "B."]}),
    ...     Step(observation="o", action="v", info={"achieved": ["a"]})])
    >>> achieved_goals(t)
    [('a', 0)]
    """
    same = (relabeller or Relabeller()).same_goal
    found: dict[str, int] = {}
    for index, step in enumerate(trajectory.steps):
        for goal in step.info.get(ACHIEVED) or ():
            if goal not in found and not same(str(goal), trajectory.goal):
                found[str(goal)] = index
    return list(found.items())


def hindsight_trajectories(trajectory: Trajectory,
                           relabeller: Relabeller | None = None) -> list[Trajectory]:
    """One successful trajectory per goal the episode achieved besides its own (see the
    module docstring), relabelled by ``relabeller`` (default: the env's registered one)."""
    chosen = relabeller or relabeller_for(trajectory.env_id)
    return [chosen.relabel(trajectory, goal, end)
            for goal, end in achieved_goals(trajectory, chosen)]
