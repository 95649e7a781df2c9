"""Curricula on a mixed task space: which tasks to practise, judged on held-out tasks.

The task space (``TaskSpace-v0``, :mod:`memplay.environments.task_space`) has six arms of
generated tasks, from easy to hopeless for a small model: random FrozenLake maps (4x4, 5x5,
7x7 with more holes) and generated Sokoban levels (5x5 one box, 6x6 one box with walls, 7x7
two boxes). The MemRL agent (embedded SmolLM2-135M + task and step memory) gets the same
number of training episodes under each curriculum:

- ``uniform``: the fixed schedule, every arm's training tasks in turn;
- ``sec``: a bandit over the arms by absolute learning progress;
- ``proposer``: the proposer/solver/judge graph, arms rewarded for intermediate success.

All three draw from the same training instances of each arm. Then each memory is frozen and
played once on held-out tasks: instances of every arm whose levels are not among the training
ones (``task_sets``-style layout check). Reported: held-out success (overall and per arm),
the margins over uniform, the training success, and the arms each curriculum chose over time.

    python bench/bench_curriculum.py --quick    # one task per arm, one epoch (CI smoke run)
    python bench/bench_curriculum.py            # the full run (see bench/README.md)
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from _common import embedded_parts, finish, machine, parse_embedded_args

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ENV_ID = "TaskSpace-v0"
CURRICULA = ("uniform", "sec", "proposer")
HELD_OUT = 500_000  # held-out instances of every arm start here
SIZES: dict[str, dict[str, int]] = {
    "quick": {"instances": 1, "epochs": 1, "held_out": 1, "max_steps": 3, "parallel": 6},
    "full": {"instances": 3, "epochs": 4, "held_out": 5, "max_steps": 14, "parallel": 6},
}


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def task_sets(instances: int, held_out: int) -> tuple[list[int], list[int]]:
    """Training tasks (arm by arm, interleaved) and held-out tasks with unseen layouts."""
    from memplay.environments import make
    from memplay.environments.task_space import task_space_layout

    env = make(ENV_ID).unwrapped
    arms = env.arm_names
    train = [env.task_id(arm, k) for k in range(instances) for arm in arms]
    seen = set()
    for seed in train:
        env.reset(seed=seed)
        seen.add(task_space_layout(env))
    test = []
    for arm in arms:
        k = HELD_OUT
        picked: list[int] = []
        while len(picked) < held_out:
            env.reset(seed=env.task_id(arm, k))
            layout = task_space_layout(env)
            if layout not in seen:
                seen.add(layout)
                picked.append(env.task_id(arm, k))
            k += 1
        test.extend(picked)
    return train, test


def train_and_test(curriculum: str, size: dict[str, int], train: list[int], test: list[int],
                   root: Path, llm: Any, embedder: Any) -> dict[str, Any]:
    """Train under ``curriculum``, then play the held-out tasks with frozen memory."""
    from memplay.agents import Agent

    started = time.perf_counter()
    options = {"instances": size["instances"]}
    common = {"llm": llm, "embedder": embedder, "max_steps": size["max_steps"], "seed": 0,
              "parallel_envs": size["parallel"]}
    agent = Agent(ENV_ID, variant="memrl", curriculum={"name": curriculum, "options": options},
                  **common)
    shutil.rmtree(root, ignore_errors=True)
    try:
        trained = agent.run(epochs=size["epochs"], tasks=train, run_dir=root / "train",
                            progress=False)
    finally:
        agent.close()
    evaluator = Agent(ENV_ID, variant="memrl", **common)
    try:
        held = evaluator.run(epochs=1, tasks=test, run_dir=root / "held_out", frozen=True,
                             memory_dir=root / "train" / "memory", progress=False)
    finally:
        evaluator.close()
    return {"train_success_per_epoch": trained.success_per_epoch,
            "train_success": trained.metrics["success_rate"],
            "held_out_success": held.metrics["success_rate"],
            "held_out_by_arm": by_arm(_rows(root / "held_out" / "episodes.jsonl")),
            "choices": choices(_rows(root / "train" / "episodes.jsonl")),
            "wall_s": round(time.perf_counter() - started, 1)}


def _arm(seed: int) -> str:
    from memplay.environments import make

    return str(make(ENV_ID).unwrapped.arm_of(seed)[0])


def by_arm(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Success rate per arm of the task space."""
    groups: dict[str, list[float]] = {}
    for row in rows:
        groups.setdefault(_arm(row["seed"]), []).append(float(row["success"]))
    return {arm: sum(v) / len(v) for arm, v in groups.items()}


def choices(rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Episodes per arm in every epoch (what the curriculum chose over time)."""
    epochs = max(r["epoch"] for r in rows) + 1
    out: dict[str, list[int]] = {}
    for row in rows:
        out.setdefault(_arm(row["seed"]), [0] * epochs)[row["epoch"]] += 1
    return out


def report(res: dict[str, Any]) -> None:
    """Rich table: held-out and training success per curriculum, margins, arm choices."""
    from rich.console import Console
    from rich.table import Table

    arms = res["arms"]
    table = Table(title=f"curricula on {ENV_ID}: held-out success after "
                        f"{res['train_episodes']} training episodes")
    for col in ("curriculum", "held-out", "margin vs uniform", "train", *arms, "wall s"):
        table.add_column(col)
    for name, r in res["curricula"].items():
        picks = [str(sum(r["choices"].get(a, []))) for a in arms]
        table.add_row(name, f"{r['held_out_success']:.3f}", f"{res['margins'][name]:+.3f}",
                      f"{r['train_success']:.2f}", *picks, str(r["wall_s"]))
    Console(width=160).print(table)
    print("(arm columns: training episodes spent on each arm)")


def plot(res: dict[str, Any], path: Path) -> None:
    """Held-out success per curriculum and arm; arms chosen per epoch by each curriculum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, arms = list(res["curricula"]), res["arms"]
    fig, axes = plt.subplots(1, 1 + len(names), figsize=(4.5 * (1 + len(names)), 4))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        per = res["curricula"][name]["held_out_by_arm"]
        axes[0].bar([a + i * width for a in range(len(arms))], [per.get(a, 0.0) for a in arms],
                    width, label=f"{name} ({res['curricula'][name]['held_out_success']:.2f})")
    axes[0].set_xticks([a + 0.4 - width / 2 for a in range(len(arms))], arms, rotation=30,
                       fontsize=7)
    axes[0].set(ylabel="held-out success", ylim=(0, 1.05), title="held-out success by arm")
    axes[0].legend(fontsize=7)
    for ax, name in zip(axes[1:], names):
        picks = res["curricula"][name]["choices"]
        epochs = range(1, 1 + max(len(v) for v in picks.values()))
        ax.stackplot(epochs, [picks.get(a, [0] * len(epochs)) for a in arms], labels=arms)
        ax.set(xlabel="epoch", ylabel="training episodes", title=f"{name}: arms chosen")
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[-1].legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(size: dict[str, int], llm: Any, embedder: Any, root: Path) -> dict[str, Any]:
    """Every curriculum on the same training budget and held-out tasks."""
    from memplay.environments import make

    train, test = task_sets(size["instances"], size["held_out"])
    results = {name: train_and_test(name, size, train, test, root / name, llm, embedder)
               for name in CURRICULA}
    base = results["uniform"]["held_out_success"]
    return {"arms": make(ENV_ID).unwrapped.arm_names, "train_tasks": train,
            "held_out_tasks": test, "train_episodes": size["epochs"] * len(train),
            "curricula": results,
            "margins": {n: r["held_out_success"] - base for n, r in results.items()}}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every curriculum, print the table, write JSON and PNG."""
    args = parse_embedded_args(__doc__, argv)
    started, load = time.perf_counter(), list(os.getloadavg())
    size = SIZES["quick" if args.quick else "full"]
    llm, embedder = embedded_parts(args.threads)
    res = run(size, llm, embedder,
              args.out / "runs" / ("curriculum_quick" if args.quick else "curriculum"))
    report(res)
    record = {"env_id": ENV_ID, "variant": "memrl", "sizes": size, "agent_seed": 0,
              "machine": machine(), "load_avg_at_start": load, **res,
              "wall_s": round(time.perf_counter() - started, 1)}
    finish(args.out, "bench_curriculum", args.quick, record, lambda png: plot(res, png))
    return record


if __name__ == "__main__":
    main()
