"""FrozenLake: memory on (MemRL + step memory) against memory off, same model, same seeds.

    python examples/frozenlake.py --epochs 6 --tasks 8
    python examples/frozenlake.py --quick   # scripted LLM and hash embedder: seconds
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memplay.agents import Agent
from memplay.agents.components import make_embedder, make_llm
from memplay.agents.config import AgentConfig
from memplay.agents.metrics import plot_learning_curves
from memplay.agents.progress import print_summary

QUICK = {"llm": "scripted", "memory": {"embedder": "hash"}}  # --quick: no model, plumbing only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="FrozenLake-4x4-v0")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--out", default="runs/example-frozenlake")
    parser.add_argument("--quick", action="store_true", help="a few seconds, no model")
    args = parser.parse_args()
    epochs, tasks = (2, 2) if args.quick else (args.epochs, args.tasks)

    base = AgentConfig(env_id=args.env, epochs=epochs, tasks=list(range(tasks)),
                       parallel_envs=tasks, max_steps=15, **(QUICK if args.quick else {}))
    llm, embedder = make_llm(base), make_embedder(base)  # loaded once, shared
    metrics = {}
    for variant in ("memrl", "none"):
        agent = Agent(config=base.model_copy(update={"variant": variant}), llm=llm,
                      embedder=embedder)
        metrics[variant] = agent.run(run_dir=Path(args.out) / variant).metrics
        agent.close()
    print_summary(metrics)
    png = plot_learning_curves({v: m["success_per_epoch"] for v, m in metrics.items()},
                               Path(args.out) / "learning_curve.png")
    print("learning curve:", png)


if __name__ == "__main__":
    main()
