"""ALFWorld household tasks with MemRL task-level memory (needs the alfworld extra + data).

    python examples/alfworld.py --games 4 --epochs 2
"""

from __future__ import annotations

import argparse

from memplay.agents import Agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--games", type=int, default=4, help="task seeds 0..N-1")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", default="runs/example-alfworld")
    args = parser.parse_args()

    # Task-level memories (whole past episodes) pay off on long tasks; step memory is off
    # because ALFWorld states rarely repeat exactly.
    agent = Agent("ALFWorld-v0", variant="memrl", max_steps=50, parallel_envs=args.games,
                  memory={"step_memory": False})
    result = agent.run(epochs=args.epochs, tasks=range(args.games), run_dir=args.out)
    print("success per epoch:", result.success_per_epoch)
    agent.close()


if __name__ == "__main__":
    main()
