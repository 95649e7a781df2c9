"""Minesweeper with rules and a playbook the model rewrites after each episode (CEL).

    python examples/minesweeper.py --epochs 3
"""

from __future__ import annotations

import argparse

from memplay.agents import Agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--boards", type=int, default=4)
    parser.add_argument("--out", default="runs/example-minesweeper")
    args = parser.parse_args()

    # memrl+playbook: MemRL memories plus CEL rules/playbook documents in every prompt.
    agent = Agent("Minesweeper-v0", variant="memrl+playbook", parallel_envs=args.boards)
    result = agent.run(epochs=args.epochs, tasks=range(args.boards), run_dir=args.out)
    print("success per epoch:", result.success_per_epoch)
    print("playbook:", result.run_dir / "playbook.md")
    agent.close()


if __name__ == "__main__":
    main()
