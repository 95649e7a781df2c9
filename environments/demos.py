"""Demonstrations played in real environments: solver paths, and replays of demo files.

Both play actions in an environment built by ``make`` and record what the agent would have
seen: each :class:`~memplay.types.Step` holds the observation the action was chosen from, the
admissible actions, the reward, and in ``info`` the state text the agent keys memory by
(``info["state"]``, what ``env.render()`` returns) and the portable view (``info["view"]``)
when the game has one.

* :func:`solver_demos` plays a game's own solver (FrozenLake's breadth-first shortest path,
  re-planned after every move so slippery ice is handled; Sokoban's BFS solution; a generated
  TextWorld game's walkthrough).
* :func:`replay_demo` replays a demo's actions from ``reset(seed=...)`` in a fresh env and stops
  with a ConfigError naming the episode, the step, ``file:line`` and the admissible actions at
  the first action the env would not accept; :func:`replay_demos` does it for a whole file
  before returning anything, so a caller writes all demos or none.

    >>> [demo] = solver_demos("FrozenLake-4x4-v0", [0])
    >>> demo.actions, demo.success
    (['down', 'down', 'right', 'down', 'right', 'right'], True)
    >>> demo.steps[0].info["view"]["actions"]["down"]
    {'kind': 'down to ice', 'context': 'window ###|#AF|#FH; goal 3+ down, 3+ right'}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from memplay.demos import DemoEpisode
from memplay.environments.core import TextEnv, normalize_action
from memplay.environments.frozenlake.env import FrozenLakeEnv
from memplay.environments.registry import make
from memplay.environments.sokoban.env import SokobanEnv
from memplay.environments.textworld.env import TextWorldGenEnv
from memplay.errors import ConfigError, EnvironmentFault, EnvironmentNotFound
from memplay.types import Step, Trajectory

__all__ = ["SOLVERS", "Solver", "play", "register_solver", "replay_demo", "replay_demos",
           "solver_demo_episodes", "solver_demos"]

# (step index, info before the step) -> the action to play, or None to stop
NextAction = Callable[[int, dict[str, Any]], str | None]


@dataclass(frozen=True)
class Solver:
    """How to solve one game: ``plan(env)`` gives the moves from the current state.

    ``replan`` asks for a fresh plan before every move (for games whose moves may not go as
    planned, such as slippery FrozenLake); ``name`` becomes the demos' ``source``.

        >>> SOLVERS[FrozenLakeEnv].name
        'bfs-shortest-path'
    """

    plan: Callable[[Any], list[str] | None]
    name: str
    replan: bool = False


SOLVERS: dict[type[TextEnv], Solver] = {
    FrozenLakeEnv: Solver(FrozenLakeEnv.shortest_path, "bfs-shortest-path", replan=True),
    SokobanEnv: Solver(SokobanEnv.solution, "bfs-solver"),
    TextWorldGenEnv: Solver(TextWorldGenEnv.walkthrough, "textworld-walkthrough"),
}


def register_solver(env_cls: type[TextEnv], solver: Solver) -> None:
    """Let :func:`solver_demos` play ``env_cls`` with ``solver`` (replaces an earlier one).

        >>> register_solver(SokobanEnv, SOLVERS[SokobanEnv])
    """
    if not isinstance(solver, Solver):
        raise ConfigError(f"solver={solver!r} must be a memplay.environments.demos.Solver")
    SOLVERS[env_cls] = solver


def solver_demos(env_id: str, seeds: Iterable[int], **env_kwargs: Any) -> list[Trajectory]:
    """Play the game's solver once per seed in ``make(env_id, **env_kwargs)``.

    Raises ConfigError when the game has no registered solver or a seed has no solution.

        >>> [t.success for t in solver_demos("Sokoban-v0", [0, 1])]
        [True, True]
    """
    env = make(env_id, **env_kwargs)
    solver = _solver_for(env, env_id)
    return [_solve(env, env_id, seed, solver) for seed in seeds]


def solver_demo_episodes(env_id: str, seeds: Iterable[int], **env_kwargs: Any
                         ) -> list[DemoEpisode]:
    """:func:`solver_demos` as demo episodes (provenance "demo", source the solver and env).

        >>> solver_demo_episodes("FrozenLake-4x4-v0", [0])[0].source
        'bfs-shortest-path on FrozenLake-4x4-v0'
    """
    source = f"{_solver_for(make(env_id, **env_kwargs), env_id).name} on {env_id}"
    return [DemoEpisode(trajectory=t, source=source)
            for t in solver_demos(env_id, seeds, **env_kwargs)]


def _solver_for(env: TextEnv, env_id: str) -> Solver:
    solver = SOLVERS.get(type(env.unwrapped))
    if solver is None:
        known = sorted(cls.__name__ for cls in SOLVERS)
        raise ConfigError(f"{env_id}: no solver for {type(env.unwrapped).__name__}; solvers "
                          f"exist for {known} (register_solver adds one)")
    return solver


def _solve(env: TextEnv, env_id: str, seed: int, solver: Solver) -> Trajectory:
    plan: list[str] = []

    def next_move(index: int, info: dict[str, Any]) -> str | None:
        nonlocal plan
        if index == 0 or solver.replan:
            plan = list(solver.plan(env.unwrapped) or [])
            if index == 0 and not plan:
                raise ConfigError(f"{env_id} seed {seed}: the solver finds no solution; "
                                  "leave this seed out")
        return plan.pop(0) if plan else None

    trajectory = play(env, env_id, seed, next_move)
    bad = next((s.action for s in trajectory.steps if s.action not in s.admissible_actions),
               None)
    if bad is not None:
        raise EnvironmentFault(f"{env_id} seed {seed}: the solver played {bad!r}, which was not "
                               "admissible; the solver and the env disagree (a bug)")
    return trajectory


def play(env: TextEnv, env_id: str, seed: int | None, next_action: NextAction,
         options: dict[str, Any] | None = None) -> Trajectory:
    """Reset with ``seed`` (and ``options``) and play ``next_action`` until it returns None
    or the episode ends.

        >>> env = make("FrozenLake-4x4-v0")
        >>> t = play(env, "FrozenLake-4x4-v0", 0, lambda i, info: "right" if i < 2 else None)
        >>> t.actions, t.steps[1].info["state"].splitlines()[1]
        (['right', 'right'], '0 S A F F')
    """
    obs, info = env.reset(seed=seed, options=options)
    trajectory = Trajectory(env_id=env_id, goal=str(info["goal"]), seed=seed)
    while info["admissible_actions"]:
        action = next_action(len(trajectory.steps), info)
        if action is None:
            break
        seen = {"state": env.render(), **({"view": info["view"]} if "view" in info else {})}
        step = Step(observation=obs, action=action,
                    admissible_actions=list(info["admissible_actions"]), info=seen)
        obs, reward, terminated, truncated, info = env.step(action)
        trajectory.steps.append(step.model_copy(update={"reward": float(reward)}))
        trajectory.total_reward += float(reward)
        if terminated or truncated:
            break
    trajectory.success = bool(info.get("success", False))
    return trajectory


def replay_demo(env: TextEnv, demo: Trajectory | DemoEpisode) -> Trajectory:
    """Replay ``demo``'s actions in ``env`` from ``reset(seed=demo.seed)`` (with
    ``options={"game": ...}`` when its metadata names a game file); return what the env
    showed (observations, admissible actions, rewards, success, ``info`` state and view).

    Raises ConfigError, naming the episode, the step (1-based), ``file:line`` and the admissible
    actions, when an action is not admissible or the episode ends before the demo does.

        >>> demo = Trajectory(env_id="FrozenLake-4x4-v0", seed=0,
        ...                   steps=[Step(observation="", action="right")])
        >>> replay_demo(make("FrozenLake-4x4-v0"), demo).steps[0].admissible_actions
        ['left', 'down', 'right', 'up']
        >>> bad = Trajectory(env_id="FrozenLake-4x4-v0", seed=0,
        ...                  steps=[Step(observation="", action="jump")])
        >>> replay_demo(make("FrozenLake-4x4-v0"), bad)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        memplay.errors.ConfigError: demo 'FrozenLake-4x4-v0 seed 0', step 1: action 'jump' ...
    """
    episode = demo if isinstance(demo, DemoEpisode) else DemoEpisode(trajectory=demo)
    given = episode.trajectory
    spec_id = env.spec.id if env.spec is not None else None
    if spec_id is not None and spec_id != given.env_id:
        raise ConfigError(f"{_where(episode, 0)}demo {episode.name!r} was recorded in "
                          f"{given.env_id!r} but replayed in {spec_id!r}; use make(env_id)")

    def next_action(index: int, info: dict[str, Any]) -> str | None:
        if index >= len(given.steps):
            return None
        action = given.steps[index].action
        choices = info["admissible_actions"]
        if action not in choices and normalize_action(action) not in choices:
            raise ConfigError(f"{_where(episode, index)}demo {episode.name!r}, step {index + 1}:"
                              f" action {action!r} is not admissible here; admissible: "
                              f"{_shown(choices)}; fix the action or the seed")
        return action if action in choices else normalize_action(action)

    # a task given by a game file rather than a seed (ALFWorld) is named in the metadata
    options = {"game": given.metadata["game"]} if "game" in given.metadata else None
    replayed = play(env, given.env_id, given.seed, next_action, options)
    if len(replayed.steps) < len(given.steps):
        done = len(replayed.steps)
        raise ConfigError(f"{_where(episode, done)}demo {episode.name!r}: the episode ended after "
                          f"step {done} but the demo has {len(given.steps) - done} more actions; "
                          "cut the demo there or check its seed and step limit")
    steps = [mine.model_copy(update={"thought": theirs.thought,
                                     "info": {**theirs.info, **mine.info}})
             for mine, theirs in zip(replayed.steps, given.steps)]
    return replayed.model_copy(update={"steps": steps})


def replay_demos(demos: Sequence[DemoEpisode],
                 make_env: Callable[[str], TextEnv] = make) -> list[DemoEpisode]:
    """Replay every demo (see :func:`replay_demo`); all of them replayed, or an error.

    ``make_env(env_id)`` builds the environments (default ``make``; one per env id).

        >>> demos = solver_demo_episodes("Sokoban-v0", [3])
        >>> replay_demos(demos)[0].trajectory.actions == demos[0].trajectory.actions
        True
    """
    envs: dict[str, TextEnv] = {}
    replayed = []
    for demo in demos:
        env_id = demo.trajectory.env_id
        if env_id not in envs:
            try:
                envs[env_id] = make_env(env_id)
            except EnvironmentNotFound as exc:
                raise ConfigError(f"{_where(demo, 0)}demo {demo.name!r}: {exc}") from None
        replayed.append(demo.model_copy(update={"trajectory": replay_demo(envs[env_id], demo)}))
    return replayed


def _where(demo: DemoEpisode, step: int) -> str:
    origin = demo.origin(min(step, len(demo.trajectory.steps) - 1))
    return f"{origin}: " if origin else ""


def _shown(choices: Sequence[str]) -> str:
    return ", ".join(choices[:12]) + (f", ... ({len(choices)} in all)" if len(choices) > 12
                                      else "")
