"""Sokoban: MemRL with step memory on the bundled levels, then a frozen-memory evaluation.

    python examples/sokoban.py --epochs 4
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memplay.agents import Agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--levels", type=int, default=4, help="level seeds 0..N-1")
    parser.add_argument("--out", default="runs/example-sokoban")
    args = parser.parse_args()

    agent = Agent("Sokoban-v0", variant="memrl", max_steps=40, parallel_envs=args.levels)
    learned = agent.run(epochs=args.epochs, tasks=range(args.levels),
                        run_dir=Path(args.out) / "learn")
    print("learning, success per epoch:", learned.success_per_epoch)
    # Same memory, no writes: how good is what was learned?
    frozen = agent.run(epochs=1, run_dir=Path(args.out) / "eval", frozen=True,
                       memory_dir=Path(args.out) / "learn" / "memory")
    print("frozen evaluation:", frozen.last_epoch_success)
    agent.close()


if __name__ == "__main__":
    main()
