"""Learning benchmark: MemRL (+ step memory) vs no memory on the embedded model, same seeds.

Runs FrozenLake-4x4-v0 (non-slippery) and Sokoban-v0 (the easiest bundled levels) with the frozen
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
import shutil
import time
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
VARIANTS = ("memrl", "none")
# env id -> (max steps, quick (epochs, tasks), full (epochs, tasks))
SUITES: dict[str, tuple[int, tuple[int, int], tuple[int, int]]] = {
    "FrozenLake-4x4-v0": (12, (10, 4), (12, 8)),
    "Sokoban-v0": (30, (5, 4), (8, 8)),
}
# Sokoban levels played: bundled ones whose shortest solution has this many moves. The
# 1-move corridor is left out (any policy solves it); longer levels need far more than a
# quick run's episodes for a 135M model exploring from scratch.
SOKOBAN_MOVES = (2, 5)


def machine() -> dict[str, Any]:
    """Where and with what the numbers were measured."""
    import torch

    return {
        "platform": platform.platform(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "versions": {p: version(p) for p in ("memplay", "torch", "transformers", "faiss-cpu",
                                             "langgraph", "sentence-transformers")},
    }


def easy_sokoban(out: Path, tasks: int) -> tuple[dict[str, Any], list[int], list[str]]:
    """Write the easy bundled levels (``SOKOBAN_MOVES``) to ``out``, easiest first, and pick
    ``tasks`` reset seeds that play them in turn; returns (env kwargs, seeds, level per seed).

    >>> kwargs, seeds, levels = easy_sokoban(Path("/tmp/easy.json"), 4)  # doctest: +SKIP
    >>> levels  # doctest: +SKIP
    ['side-step', 'around-the-wall', 'turn', 'side-step']
    """
    from memplay.environments.sokoban import SokobanEnv

    bundled = json.loads(resources.files("memplay.environments.data").joinpath(
        "sokoban_levels.json").read_text(encoding="utf-8"))["levels"]
    low, high = SOKOBAN_MOVES
    moves = [len(SokobanEnv(level=i).solution() or []) for i in range(len(bundled))]
    chosen = sorted((m, i) for i, m in enumerate(moves) if low <= m <= high)
    out.write_text(json.dumps({"levels": [bundled[i] for _, i in chosen]}, indent=1))
    order = [bundled[chosen[k % len(chosen)][1]]["name"] for k in range(tasks)]
    return {"levels_file": str(out)}, seeds_drawing(out, order), order


def seeds_drawing(levels_file: Path, names: list[str]) -> list[int]:
    """Distinct reset seeds, one per entry of ``names``, that draw that level (the
    environment picks a level from the reset seed, so seeds are probed in order).

    >>> seeds_drawing(Path("/tmp/easy.json"), ["turn"])  # doctest: +SKIP
    [0]
    """
    from memplay.environments.sokoban import SokobanEnv

    free: dict[str, list[int]] = {}  # level name -> seeds drawing it, not yet handed out
    seeds, probe = [], 0
    for name in names:
        while not free.get(name):
            env = SokobanEnv(levels_file=str(levels_file))
            env.reset(seed=probe)
            free.setdefault(env.level.name, []).append(probe)
            probe += 1
        seeds.append(free[name].pop(0))
    return seeds


def run_env(env_id: str, epochs: int, tasks: int, max_steps: int, llm: Any, embedder: Any,
            out: Path) -> dict[str, Any]:
    """Both variants on one environment; returns metrics and wall time per variant."""
    from memplay.agents import Agent, AgentConfig

    seeds, env_kwargs, extra = list(range(tasks)), dict[str, Any](), dict[str, Any]()
    if env_id == "Sokoban-v0":
        out.mkdir(parents=True, exist_ok=True)
        env_kwargs, seeds, levels = easy_sokoban(out / "sokoban_easy_levels.json", tasks)
        extra = {"levels": levels, "solution_moves": list(SOKOBAN_MOVES)}
    base = AgentConfig(env_id=env_id, env_kwargs=env_kwargs, epochs=epochs, tasks=seeds,
                       parallel_envs=tasks, max_steps=max_steps, seed=0)
    rows = {}
    for variant in VARIANTS:
        agent = Agent(config=base.model_copy(update={"variant": variant}), llm=llm,
                      embedder=embedder)
        run_dir = out / env_id / variant
        shutil.rmtree(run_dir, ignore_errors=True)  # a left-over run dir would be resumed
        started = time.perf_counter()
        result = agent.run(run_dir=run_dir, progress=False)
        agent.close()
        rows[variant] = {**result.metrics, "wall_s": round(time.perf_counter() - started, 1)}
    return {"seeds": base.tasks, **extra, "epochs": epochs, "max_steps": max_steps,
            "variants": rows}


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


def _previous_results(path: Path, quick: bool) -> dict[str, Any]:
    """Results of envs measured by an earlier run in the same mode (quick or full)."""
    if not path.is_file():
        return {}
    old = json.loads(path.read_text())
    return dict(old.get("results", {})) if old.get("quick") == quick else {}


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
    wall = round(time.perf_counter() - started, 1)
    for res in results.values():
        res["wall_s"] = sum(m.get("wall_s", 0.0) for m in res["variants"].values())
    # Re-running some envs (--envs X) keeps the other envs' results from the same mode.
    results = {**_previous_results(RESULTS / "learning.json", args.quick), **results}
    payload = {"quick": args.quick, "machine": machine(), "agent_seed": 0,
               "last_run_wall_s": wall, "results": results}
    (RESULTS / "learning.json").write_text(json.dumps(payload, indent=2))
    plot(results, RESULTS / "learning.png")
    print(f"wrote {RESULTS / 'learning.json'} and {RESULTS / 'learning.png'}")


if __name__ == "__main__":
    main()
