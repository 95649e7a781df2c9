"""Sokoban: MemRL with step memory on the bundled levels, then a frozen-memory evaluation.

    python examples/sokoban.py --epochs 4
    python examples/sokoban.py --quick   # scripted LLM and hash embedder: seconds
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memplay.agents import Agent

QUICK = {"llm": "scripted", "memory": {"embedder": "hash"}}  # --quick: no model, plumbing only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--levels", type=int, default=4, help="level seeds 0..N-1")
    parser.add_argument("--out", default="runs/example-sokoban")
    parser.add_argument("--quick", action="store_true", help="a few seconds, no model")
    args = parser.parse_args()
    epochs, levels = (1, 2) if args.quick else (args.epochs, args.levels)

    agent = Agent("Sokoban-v0", variant="memrl", max_steps=8 if args.quick else 40,
                  parallel_envs=levels, config=QUICK if args.quick else None)
    learned = agent.run(epochs=epochs, tasks=range(levels), run_dir=Path(args.out) / "learn")
    print("learning, success per epoch:", learned.success_per_epoch)
    # Same memory, no writes: how good is what was learned?
    frozen = agent.run(epochs=1, run_dir=Path(args.out) / "eval", frozen=True,
                       memory_dir=Path(args.out) / "learn" / "memory")
    print("frozen evaluation:", frozen.last_epoch_success)
    agent.close()


if __name__ == "__main__":
    main()
