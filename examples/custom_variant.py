"""Your own variant: a reflection of your own, registered, combined with MemRL.

A reflection is any object with a ``tag``, ``learn(trajectories, step_memory)`` (called after
every batch of episodes, never in frozen runs) and ``prompt_text(goal, observation, seed)``
(asked before every decision; its text is quoted in the prompt between ``<tag>`` tags). This
one remembers the shortest winning action sequence of each task and shows it on the task's
next try. Registering it (``register_reflection``) and a ``VariantSpec`` that names it
(``register_variant``) makes ``variant="memrl+shortest"`` work everywhere a variant name
does: ``Agent``, ``AgentConfig``, and ``memplay run --variant`` in a program that imports
this module first. Its file stays in the memory directory (``memplay export`` archives only
memplay's own reflection files).

    python examples/custom_variant.py --epochs 4
    python examples/custom_variant.py --quick   # scripted LLM and hash embedder: seconds
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memplay.agents import Agent
from memplay.agents.methods import ReflectionSetup, register_reflection
from memplay.agents.variants import VariantSpec, register_variant
from memplay.types import Trajectory


class ShortestWin:
    """Per task (its seed), the shortest action sequence that won it; kept in one JSON file
    of the memory directory, so a resumed or frozen run reads what earlier runs learned."""

    tag = "shortest_win"

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.wins: dict[str, list[str]] = (
            json.loads(path.read_text(encoding="utf-8")) if path and path.is_file() else {})

    def learn(self, trajectories: Sequence[Trajectory], step_memory: Any = None) -> None:
        """Keep each won task's shortest action sequence; save when one got shorter."""
        changed = False
        for trajectory in trajectories:
            best = self.wins.get(str(trajectory.seed))
            if trajectory.success and (best is None or len(trajectory.actions) < len(best)):
                self.wins[str(trajectory.seed)] = trajectory.actions
                changed = True
        if changed and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")  # write, then rename: a crash keeps the old
            tmp.write_text(json.dumps(self.wins, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)

    def prompt_text(self, goal: str, observation: str, seed: int | None = None) -> str:
        """The task's shortest win so far, or nothing before its first win."""
        plan = self.wins.get(str(seed))
        return f"This task was won before with: {', '.join(plan)}" if plan else ""


def build_shortest_win(setup: ReflectionSetup) -> ShortestWin:
    """The reflection factory: its file lives in ``<memory>/shortest_wins/``."""
    folder = setup.folder("shortest_wins")
    return ShortestWin(folder / "wins.json" if folder is not None else None)


register_reflection("shortest-win", build_shortest_win)
register_variant(VariantSpec("shortest", "the shortest winning action sequence of each task, "
                             "shown on its next try", reflections=("shortest-win",)))

# --quick: no model, plumbing only; the stand-in LLM leans down and right, as a real one
# reading "the goal is at the bottom right" might.
# Its preference is constant, so calibration (which removes context-free preferences) is off.
QUICK = {"llm": "scripted", "memory": {"embedder": "hash"}, "policy": {"calibrate": False},
         "llm_kwargs": {"scores": {"down": -0.5, "right": -0.5}, "default_score": -2.0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--out", default="runs/example-custom-variant")
    parser.add_argument("--quick", action="store_true", help="a few seconds, no model")
    args = parser.parse_args()
    epochs, tasks = (6, 2) if args.quick else (args.epochs, args.tasks)

    # MemRL's memories and step memory, plus the new reflection ("+" combines variants)
    agent = Agent("FrozenLake-4x4-v0", variant="memrl+shortest", max_steps=12,
                  parallel_envs=tasks, config=QUICK if args.quick else None)
    result = agent.run(epochs=epochs, tasks=range(tasks), run_dir=args.out)
    print("success per epoch:", result.success_per_epoch)
    wins = Path(args.out) / "memory" / "shortest_wins" / "wins.json"
    for task, plan in (json.loads(wins.read_text()) if wins.is_file() else {}).items():
        print(f"task {task}, shortest win ({len(plan)} moves): {', '.join(plan)}")
    if not wins.is_file():
        print("no task won yet, so nothing to show in the prompts")
    agent.close()


if __name__ == "__main__":
    main()
