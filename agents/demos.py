"""Learning from episodes the agent did not play: demonstrations as ordinary experience.

Memory written by a stronger agent lifts a weaker one (AWM, MemP): solver paths, expert
walkthroughs and another run's trajectories are written into task memory and step memory
exactly as the agent's own episodes are (:func:`memplay.agents.learning.learn_from`), keyed
the way the agent will look them up (its state key and portable views), with their
provenance ("demo", "import") on every memory item and step-memory update.

Every demo is first replayed in a fresh environment (:func:`memplay.environments.demos
.replay_demos`): an action that is not admissible at its step stops everything with the
demo's ``file:line`` and nothing is written, so a malformed file never half-teaches.

    >>> from memplay.agents import Agent
    >>> from memplay.environments.demos import solver_demo_episodes
    >>> agent = Agent("FrozenLake-4x4-v0", variant="memrl", memory={"embedder": "hash"})
    >>> report = learn_demos(agent, solver_demo_episodes("FrozenLake-4x4-v0", [0]), "/tmp/m")
    >>> report.episodes, report.steps, report.successes
    (1, 6, 1)
    >>> agent.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from memplay.agents.components import make_env
from memplay.agents.learning import learn_from, outcome_only
from memplay.agents.state import Slot, StepRecord, action_keys
from memplay.demos import DemoEpisode, read_demos
from memplay.environments.core import TextEnv
from memplay.environments.demos import replay_demos
from memplay.errors import ConfigError
from memplay.types import Trajectory

__all__ = ["LearnReport", "check_recorded", "demo_slot", "learn_demos", "load_demos"]


@dataclass(frozen=True)
class LearnReport:
    """What :func:`learn_demos` wrote.

    >>> LearnReport(2, 9, 1, "demo").steps
    9
    """

    episodes: int
    steps: int
    successes: int
    provenance: str


def load_demos(sources: Sequence[str | Path | DemoEpisode | Trajectory],
               provenance: str | None = None) -> list[DemoEpisode]:
    """Demo episodes from files (read and validated line by line), episodes or trajectories.

    >>> load_demos([Trajectory(env_id="x")])[0].provenance
    'demo'
    """
    demos: list[DemoEpisode] = []
    for source in sources:
        if isinstance(source, DemoEpisode):
            demos.append(source)
        elif isinstance(source, Trajectory):
            demos.append(DemoEpisode(trajectory=source))
        else:
            demos.extend(read_demos(source, provenance=provenance))  # type: ignore[arg-type]
    return demos


def demo_slot(trajectory: Trajectory, use_view: bool = True) -> Slot:
    """A replayed demo as a finished episode, keyed as the agent keys its own steps.

    >>> from memplay.types import Step
    >>> t = Trajectory(env_id="x", goal="g", success=True, steps=[
    ...     Step(observation="o", action="up", info={"state": "s0"})])
    >>> demo_slot(t).steps[0].key
    ('up', 's0')
    """
    steps = []
    for step in trajectory.steps:
        state = str(step.info.get("state", step.observation))
        view = step.info.get("view")
        key = action_keys(state, view, [step.action], use_view)[step.action]
        steps.append(StepRecord(observation=step.observation, action=step.action,
                                reward=step.reward, admissible=list(step.admissible_actions),
                                state=state, thought=step.thought, key=key))
    return Slot(0, seed=trajectory.seed, started=True, goal=trajectory.goal, done=True,
                success=trajectory.success, reward=trajectory.total_reward, steps=steps)


def check_recorded(demo: DemoEpisode) -> DemoEpisode:
    """``demo`` as it is, once every action is among its step's recorded admissible actions.

    >>> from memplay.types import Step
    >>> bad = Trajectory(env_id="x", steps=[Step(observation="o", action="fly",
    ...                                          admissible_actions=["walk"])])
    >>> check_recorded(DemoEpisode(trajectory=bad))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: demo 'x seed None', step 1: action 'fly' is not among ...
    """
    for index, step in enumerate(demo.trajectory.steps):
        if step.admissible_actions and step.action not in step.admissible_actions:
            where = f"{demo.origin(index)}: " if demo.origin(index) else ""
            raise ConfigError(f"{where}demo {demo.name!r}, step {index + 1}: action "
                              f"{step.action!r} is not among the step's recorded admissible "
                              "actions; fix the demo or learn with replay=True")
    return demo


def learn_demos(agent: Any, demos: Sequence[DemoEpisode], memory_dir: str | Path,
                replay: bool = True) -> LearnReport:
    """Replay ``demos`` (all of them, or an error and nothing written), then write them into
    the agent's memory in ``memory_dir`` and save it. The agent must keep memory.

    ``replay=False`` trusts trajectories an environment already produced, with their
    observations and admissible actions (ALFWorld's played demos: replaying takes about 2 s a
    game); each action is still checked against its step's recorded admissible actions."""
    cfg = agent.config
    if not cfg.spec.uses_memory:
        raise ConfigError(f"variant={cfg.variant!r} keeps no memory to learn into; use a "
                          "variant with task or step memory, such as memrl")
    wrong = sorted({d.trajectory.env_id for d in demos} - {cfg.env_id})
    if wrong:
        raise ConfigError(f"demos of {wrong} cannot teach an agent on {cfg.env_id!r}; pass "
                          f"--env {wrong[0]} or demos of {cfg.env_id}")
    if replay:
        replayed = replay_demos(demos, make_env=lambda env_id: cast(TextEnv, make_env(cfg)))
    else:
        replayed = [check_recorded(demo) for demo in demos]
    memory = agent.open_memory(Path(memory_dir))  # no LLM is needed to learn from demos
    task = memory.task_memory if cfg.spec.task_memory != "none" else None
    steps = memory.step_memory if cfg.uses_step_memory else None
    use_view = cfg.memory.step_keys == "view"
    for demo in replayed:
        if demo.trajectory.steps:
            learn_from(demo_slot(demo.trajectory, use_view), outcome_only(cfg), task, steps,
                       demo.provenance)
    memory.save(Path(memory_dir))
    trajectories = [d.trajectory for d in replayed]
    provenances = sorted({d.provenance for d in replayed})
    return LearnReport(len(trajectories), sum(len(t.steps) for t in trajectories),
                       sum(t.success for t in trajectories), ",".join(provenances))
