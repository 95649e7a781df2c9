"""ALFWorld household tasks with MemRL task-level memory (needs the alfworld extra + data).

    python examples/alfworld.py --games 4 --epochs 2
    python examples/alfworld.py --quick   # 1 game, 3 steps, scripted LLM and hash embedder
"""

from __future__ import annotations

import argparse

from memplay.agents import Agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--games", type=int, default=4, help="task seeds 0..N-1")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", default="runs/example-alfworld")
    parser.add_argument("--quick", action="store_true", help="ALFWorld's own start-up only")
    args = parser.parse_args()
    games, epochs = (1, 1) if args.quick else (args.games, args.epochs)

    # Task-level memories (whole past episodes) pay off on long tasks; step memory is off
    # because ALFWorld states rarely repeat exactly.
    # --quick: the scripted LLM and the hash embedder, no model (the plumbing only)
    agent = Agent("ALFWorld-v0", variant="memrl", max_steps=3 if args.quick else 50,
                  parallel_envs=games, config={"llm": "scripted"} if args.quick else None,
                  memory={"step_memory": False, "embedder": "hash" if args.quick else "default"})
    result = agent.run(epochs=epochs, tasks=range(games), run_dir=args.out)
    print("success per epoch:", result.success_per_epoch)
    agent.close()


if __name__ == "__main__":
    main()
