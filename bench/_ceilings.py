"""Ceilings for the learning benchmark: what a scripted expert scores on the same tasks.

The expert of each game:

- FrozenLake: the BFS shortest path (``env.shortest_path()``), so the ceiling is the fraction
  of task maps solvable within the step cap (1.0 for the fixed non-slippery maps).
- Sokoban: the solver's shortest move list (``env.solution()``), same meaning.
- TextWorld-generated games: the generator's walkthrough (``env.walkthrough()``).
- Minesweeper: an omniscient player that knows the mines and reveals safe cells: an upper
  bound, since a real player sometimes has to guess.
- TicTacToe and Kuhn Poker: the env's own scripted ``optimal`` policy playing our seat
  (minimax for TicTacToe; the Kuhn 1950 equilibrium, not a best response, for Kuhn) against
  the same scripted opponent: success is the rate of won games/hands.
- ALFWorld: every game ships a PDDL expert demonstration, so the ceiling is 1.0 by
  construction; it is declared, not rolled out (resets cost seconds).

    >>> c = ceiling("FrozenLake-4x4-v0", {}, [0, 1], max_steps=12)
    >>> c["value"], c["expert"]
    (1.0, 'BFS shortest path')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

EXPERTS = {"FrozenLake": "BFS shortest path", "Sokoban": "solver's shortest solution",
           "Minesweeper": "omniscient (knows the mines)", "TicTacToe": "minimax",
           "KuhnPoker": "Kuhn equilibrium strategy", "ALFWorld": "PDDL expert demonstration",
           "TextWorld": "the generator's walkthrough"}


def expert_action(env: Any, info: dict[str, Any], plan: list[str]) -> str:
    """The expert's next action; ``plan`` holds the remaining moves of a planning expert.

    >>> from memplay.environments import make
    >>> env = make("FrozenLake-4x4-v0"); _, info = env.reset(seed=0)
    >>> expert_action(env.unwrapped, info, [])
    'down'
    """
    name = type(env).__name__
    planners = {"FrozenLake": "shortest_path", "Sokoban": "solution", "TextWorld": "walkthrough"}
    planner = next((m for prefix, m in planners.items() if name.startswith(prefix)), None)
    if planner is not None:
        if not plan:
            plan.extend(getattr(env, planner)() or [])
        return plan.pop(0) if plan else info["admissible_actions"][0]
    if name.startswith("Minesweeper"):
        safe = [a for a in info["admissible_actions"] if a.startswith("reveal")
                and tuple(int(x) for x in a.split()[1:]) not in env.mines]
        return safe[0] if safe else info["admissible_actions"][0]
    # two-player games: the env's scripted optimal policy, asked for our own seat
    return env._scripted_move("optimal")


def expert_episode(env: Any, seed: int, max_steps: int) -> bool:
    """Play one episode with the expert; True when it succeeds within ``max_steps``."""
    _, info = env.reset(seed=seed)
    plan: list[str] = []
    for _ in range(max_steps):
        _, _, terminated, truncated, info = env.step(expert_action(env.unwrapped, info, plan))
        if terminated or truncated:
            return bool(info.get("success"))
    return False


def ceiling(env_id: str, env_kwargs: dict[str, Any], seeds: Sequence[int], max_steps: int,
            sample: int = 0) -> dict[str, Any]:
    """The expert's success rate on ``seeds`` (and, with ``sample``, on that many seeds, for
    games whose opponent is random, where a few seeds are a noisy estimate)."""
    family = env_id.split("-")[0].replace("Slippery", "")
    out: dict[str, Any] = {"expert": EXPERTS.get(family, "none")}
    if family == "ALFWorld":
        return {**out, "value": 1.0, "rolled_out": False}
    from memplay.environments import make

    env = make(env_id, **env_kwargs)
    wins = [expert_episode(env, s, max_steps) for s in seeds]
    out.update(value=sum(wins) / len(wins), rolled_out=True)
    if sample:
        many = [expert_episode(env, 10_000 + s, max_steps) for s in range(sample)]
        out["expected_value"] = sum(many) / sample
        out["expected_over_seeds"] = sample
    env.close()
    return out
