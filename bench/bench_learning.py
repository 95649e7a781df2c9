"""Learning benchmark: MemRL (+ step memory) vs no memory on the embedded model, same seeds.

Runs FrozenLake-4x4-v0 (non-slippery) and Sokoban-v0 (bundled levels) with the frozen
SmolLM2-135M choosing actions by scoring; prints success per epoch per variant, and writes
``bench/results/learning.json`` (machine, versions, seeds, settings, wall times, curves) and
``bench/results/learning.png``.

    python bench/bench_learning.py --quick     # a few minutes on 2 CPU cores
    python bench/bench_learning.py             # more epochs and tasks
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = ("memrl", "none")
# env id -> (max steps, quick (epochs, tasks), full (epochs, tasks))
SUITES: dict[str, tuple[int, tuple[int, int], tuple[int, int]]] = {
    "FrozenLake-4x4-v0": (12, (10, 4), (12, 8)),
    "Sokoban-v0": (30, (4, 4), (8, 8)),
}


def machine() -> dict[str, Any]:
    """Where and with what the numbers were measured."""
    import torch

    return {
        "platform": platform.platform(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "versions": {p: version(p) for p in ("memplay", "torch", "transformers", "faiss-cpu",
                                             "langgraph", "sentence-transformers")},
    }


def run_env(env_id: str, epochs: int, tasks: int, max_steps: int, llm: Any, embedder: Any,
            out: Path) -> dict[str, Any]:
    """Both variants on one environment; returns metrics and wall time per variant."""
    from memplay.agents import Agent, AgentConfig

    base = AgentConfig(env_id=env_id, epochs=epochs, tasks=list(range(tasks)),
                       parallel_envs=tasks, max_steps=max_steps, seed=0)
    rows = {}
    for variant in VARIANTS:
        agent = Agent(config=base.model_copy(update={"variant": variant}), llm=llm,
                      embedder=embedder)
        started = time.perf_counter()
        result = agent.run(run_dir=out / env_id / variant, progress=False)
        agent.close()
        rows[variant] = {**result.metrics, "wall_s": round(time.perf_counter() - started, 1)}
    return {"seeds": base.tasks, "epochs": epochs, "max_steps": max_steps, "variants": rows}


def report(results: dict[str, Any]) -> None:
    """Rich table: success per epoch, last-epoch success and wall time per env and variant."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="success per epoch (same seeds, frozen SmolLM2-135M)")
    for col in ("env", "variant", "per epoch", "last epoch", "solved once", "wall s"):
        table.add_column(col)
    for env_id, res in results.items():
        for variant, m in res["variants"].items():
            per = " ".join(f"{v:.2f}" for v in m["success_per_epoch"] if v is not None)
            table.add_row(env_id, variant, per, f"{m['last_epoch_success']:.2f}",
                          f"{m['cumulative_success'][-1]:.2f}", str(m["wall_s"]))
    Console().print(table)


def plot(results: dict[str, Any], path: Path) -> None:
    """One panel per environment, one line per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.6), squeeze=False)
    for ax, (env_id, res) in zip(axes[0], results.items()):
        for variant, m in res["variants"].items():
            ys = m["success_per_epoch"]
            ax.plot(range(1, len(ys) + 1), ys, marker="o", label=variant)
        ax.set(title=env_id, xlabel="epoch", ylabel="success", ylim=(-0.05, 1.05))
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer epochs/tasks (minutes)")
    parser.add_argument("--envs", nargs="+", default=list(SUITES), choices=list(SUITES))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    llm, embedder = make_llm(AgentConfig()), make_embedder(AgentConfig())
    results = {}
    for env_id in args.envs:
        max_steps, quick, full = SUITES[env_id]
        epochs, tasks = quick if args.quick else full
        results[env_id] = run_env(env_id, epochs, tasks, max_steps, llm, embedder,
                                  RESULTS / "runs")
    report(results)
    payload = {"quick": args.quick, "machine": machine(), "agent_seed": 0,
               "total_wall_s": round(time.perf_counter() - started, 1), "results": results}
    (RESULTS / "learning.json").write_text(json.dumps(payload, indent=2))
    plot(results, RESULTS / "learning.png")
    print(f"wrote {RESULTS / 'learning.json'} and {RESULTS / 'learning.png'}")


if __name__ == "__main__":
    main()
