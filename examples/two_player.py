"""Two-player games: the agent plays TicTacToe against a scripted random opponent.

    python examples/two_player.py --env TicTacToe-v0 --epochs 3
"""

from __future__ import annotations

import argparse

from memplay.agents import Agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="TicTacToe-v0", help="or KuhnPoker-v0")
    parser.add_argument("--opponent", default="random", help="random | minimax")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--games", type=int, default=8)
    parser.add_argument("--out", default="runs/example-two-player")
    args = parser.parse_args()

    agent = Agent(args.env, variant="memrl", env_kwargs={"opponent": args.opponent},
                  parallel_envs=args.games)
    result = agent.run(epochs=args.epochs, tasks=range(args.games), run_dir=args.out)
    print("win rate per epoch:", result.success_per_epoch)
    agent.close()


if __name__ == "__main__":
    main()
