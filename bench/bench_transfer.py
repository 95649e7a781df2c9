"""Transfer: memory learned on one set of maps, used frozen on maps it has never seen.

FrozenLake-random-v0 draws a new 4x4 map from each reset seed. The MemRL agent (task memory +
step memory, embedded SmolLM2-135M scoring actions) learns on the *train* seeds for a few
epochs; its memory folder is then loaded read-only (``Agent.run(frozen=True,
memory_dir=...)``) by a fresh agent that plays *held-out* seeds. Compared with the same
held-out seeds played with no memory (variant ``none``), and with the frozen memory replayed
on its own train seeds (in-distribution). The ceiling is 1.0: every random map is solvable
(Gymnasium's generator guarantees a path; the BFS expert checks it fits the step cap).

    python bench/bench_transfer.py --quick    # 2 maps each side, 1 epoch (CI smoke run)
    python bench/bench_transfer.py            # 8 train maps x 3 epochs, 8 held-out maps x 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path
from typing import Any

from _ceilings import ceiling
from _common import add_common_args, add_threads_arg, llm_config, machine, write_record

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ENV_ID = "FrozenLake-random-v0"
HELD_OUT = 1000  # held-out seeds start here, far from the train seeds 0..n-1
# (train tasks, train epochs, held-out tasks, eval epochs, max steps)
SIZES = {"quick": (2, 1, 2, 1, 6), "full": (8, 3, 8, 1, 12)}


def play(variant: str, tasks: list[int], epochs: int, max_steps: int, run_dir: Path,
         llm: Any, embedder: Any, memory_dir: Path | None = None) -> dict[str, Any]:
    """One run; frozen (read-only) when ``memory_dir`` is given. Metrics + wall time.

    >>> # play("memrl", [0, 1], 2, 12, Path("/tmp/t"), llm, emb)["last_epoch_success"]
    """
    from memplay.agents import Agent

    agent = Agent(ENV_ID, variant=variant, llm=llm, embedder=embedder, max_steps=max_steps,
                  parallel_envs=min(len(tasks), 8), seed=0)
    shutil.rmtree(run_dir, ignore_errors=True)  # a left-over run dir would be resumed
    started = time.perf_counter()
    try:
        result = agent.run(epochs=epochs, tasks=tasks, run_dir=run_dir, progress=False,
                           memory_dir=memory_dir, frozen=memory_dir is not None)
    finally:
        agent.close()
    return {**result.metrics, "wall_s": round(time.perf_counter() - started, 1)}


def run(sizes: tuple[int, int, int, int, int], llm: Any, embedder: Any, root: Path
        ) -> dict[str, Any]:
    """Learn on train maps, then the three evaluations; returns every arm's metrics."""
    n_train, train_epochs, n_test, eval_epochs, max_steps = sizes
    train, test = list(range(n_train)), list(range(HELD_OUT, HELD_OUT + n_test))
    learned = play("memrl", train, train_epochs, max_steps, root / "train", llm, embedder)
    memory = root / "train" / "memory"
    arms = {
        "held-out, frozen learned memory": play("memrl", test, eval_epochs, max_steps,
                                                root / "transfer", llm, embedder, memory),
        "held-out, no memory": play("none", test, eval_epochs, max_steps, root / "none",
                                    llm, embedder),
        "train maps, frozen learned memory": play("memrl", train, eval_epochs, max_steps,
                                                  root / "replay", llm, embedder, memory),
    }
    return {"train_seeds": train, "held_out_seeds": test, "train_epochs": train_epochs,
            "eval_epochs": eval_epochs, "max_steps": max_steps, "learning": learned,
            "arms": arms, "ceiling": ceiling(ENV_ID, {}, test, max_steps)}


def report(res: dict[str, Any]) -> None:
    """Rich table: success of each arm (and the learning run's curve)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"transfer on {ENV_ID} (frozen memory, embedded SmolLM2-135M)")
    for col in ("run", "success per epoch", "mean success", "wall s"):
        table.add_column(col)
    rows = {"learning on train maps": res["learning"], **res["arms"]}
    for name, m in rows.items():
        per = " ".join(f"{v:.2f}" for v in m["success_per_epoch"] if v is not None)
        table.add_row(name, per, f"{m['success_rate']:.2f}", str(m["wall_s"]))
    Console(width=120).print(table)
    print(f"ceiling (BFS expert on the held-out maps): {res['ceiling']['value']:.2f}")


def plot(res: dict[str, Any], path: Path) -> None:
    """Bars: mean success of each evaluation arm, with the ceiling."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(res["arms"])
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.bar([n.replace(", ", "\n") for n in names],
           [res["arms"][n]["success_rate"] for n in names], color=["C0", "C1", "C2"])
    ax.axhline(res["ceiling"]["value"], color="grey", linestyle="--", label="ceiling")
    ax.set(ylabel="success rate", ylim=(0, 1.05), title=f"{ENV_ID}: frozen memory transfer")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the transfer benchmark, print the table, write JSON and PNG."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    add_threads_arg(parser)
    args = parser.parse_args(argv)
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    started, load = time.perf_counter(), list(os.getloadavg())
    llm, embedder = make_llm(llm_config(args.threads)), make_embedder(AgentConfig())
    res = run(SIZES["quick" if args.quick else "full"], llm, embedder,
              args.out / "runs" / ("transfer_quick" if args.quick else "transfer"))
    report(res)
    record = {"env_id": ENV_ID, "variant": "memrl", "agent_seed": 0, "machine": machine(),
              "load_avg_at_start": load, **res,
              "wall_s": round(time.perf_counter() - started, 1)}
    out = write_record(args.out, "bench_transfer", args.quick, record)
    plot(res, out.with_suffix(".png"))
    print(f"wrote {out} and .png in {record['wall_s']:.0f} s")
    return record


if __name__ == "__main__":
    main()
