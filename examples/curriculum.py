"""Curricula: the agent chooses what to practise among generated FrozenLake and Sokoban tasks.

The SEC curriculum (a bandit over task categories rewarded by learning progress) picks the
arm of every episode; the proposer curriculum rewards arms of intermediate success.

    python examples/curriculum.py --curriculum sec --epochs 4
    python examples/curriculum.py --quick   # scripted LLM and hash embedder: seconds
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from memplay.agents import Agent
from memplay.environments import make

QUICK = {"llm": "scripted", "memory": {"embedder": "hash"}}  # --quick: no model, plumbing only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--curriculum", default="sec", help="uniform, sec, replay, proposer")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--out", default="runs/example-curriculum")
    parser.add_argument("--quick", action="store_true", help="a few seconds, no model")
    args = parser.parse_args()
    epochs = 2 if args.quick else args.epochs

    space = make("TaskSpace-v0").unwrapped  # six arms: random lakes, generated levels
    tasks = [space.task_id(arm, k) for k in range(2) for arm in space.arm_names]
    agent = Agent("TaskSpace-v0", variant="memrl", curriculum=args.curriculum, max_steps=14,
                  parallel_envs=6, config=QUICK if args.quick else None)
    result = agent.run(epochs=epochs, tasks=tasks, run_dir=args.out)
    agent.close()
    print("success per epoch:", result.success_per_epoch)
    print("episodes per arm:", Counter(space.category(int(t.split("@")[0]))
                                       for t in _played(args.out)))


def _played(run_dir: str) -> list[str]:
    """The task label of every episode the run played."""
    rows = (Path(run_dir) / "episodes.jsonl").read_text().splitlines()
    return [json.loads(row)["task"] for row in rows]


if __name__ == "__main__":
    main()
