"""FrozenLake: memory on (MemRL + step memory) against memory off, same model, same seeds.

    python examples/frozenlake.py --epochs 6 --tasks 8
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memplay.agents import Agent
from memplay.agents.components import make_embedder, make_llm
from memplay.agents.config import AgentConfig
from memplay.agents.metrics import plot_learning_curves
from memplay.agents.progress import print_summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="FrozenLake-4x4-v0")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--out", default="runs/example-frozenlake")
    args = parser.parse_args()

    base = AgentConfig(env_id=args.env, epochs=args.epochs, tasks=list(range(args.tasks)),
                       parallel_envs=args.tasks, max_steps=15)
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
