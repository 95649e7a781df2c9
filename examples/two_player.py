"""Two-player games: the agent plays TicTacToe against a scripted random opponent.

    python examples/two_player.py --env TicTacToe-v0 --epochs 3
    python examples/two_player.py --quick   # scripted LLM and hash embedder: seconds
"""

from __future__ import annotations

import argparse

from memplay.agents import Agent

QUICK = {"llm": "scripted", "memory": {"embedder": "hash"}}  # --quick: no model, plumbing only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="TicTacToe-v0", help="or KuhnPoker-v0")
    parser.add_argument("--opponent", default="random", help="random | minimax")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--games", type=int, default=8)
    parser.add_argument("--out", default="runs/example-two-player")
    parser.add_argument("--quick", action="store_true", help="a few seconds, no model")
    args = parser.parse_args()
    epochs, games = (1, 2) if args.quick else (args.epochs, args.games)

    agent = Agent(args.env, variant="memrl", env_kwargs={"opponent": args.opponent},
                  parallel_envs=games, config=QUICK if args.quick else None)
    result = agent.run(epochs=epochs, tasks=range(games), run_dir=args.out)
    print("win rate per epoch:", result.success_per_epoch)
    agent.close()


if __name__ == "__main__":
    main()
