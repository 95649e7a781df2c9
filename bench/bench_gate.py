"""The decision gate on bench_learning's FrozenLake and Sokoban rows: same choices, fewer calls.

For each game (bench_learning's ``FrozenLake-4x4``, ``FrozenLake-8x8`` and ``Sokoban-easy``
suites: the same task seeds, epochs, step caps and agent seed), the MemRL agent learns twice
with the LLM term bounded to ``--clip`` nats, side by side in one process:

- ``audit``: the gate never skips the model (every action of every decision is scored), but at
  every decision it says whether it would have settled the choice from memory's values, and on
  which action; so the share of decisions where gated and ungated choose alike is measured on
  the very same decisions: every decision the gate leaves open is scored alike by
  construction, and a settled one agrees when the action taken is the gate's.
- ``gated``: the gate on (``policy.gate="on"``): the model is asked only when it could change
  the choice, about the candidates that can still win. Its success per epoch sits beside the
  audit run's, with the fraction of decisions that called the model and the wall time.

The policy samples at bench_learning's temperature (0.5), where the gate settles a choice
when every other action keeps less than ``policy.gate_epsilon`` (1%) of the probability
whatever the LLM says (docs/speed.md). Both runs share the agent's random stream (a settled
decision still takes its draw), and differ only where calibration statistics (updated by the
decisions that called the model) or a sampled 1% differ.

    python bench/bench_gate.py --quick          # CI smoke run
    python bench/bench_gate.py                  # the numbers in docs/speed.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path
from typing import Any

from _common import add_common_args, add_threads_arg, finish, llm_config, machine

os.environ.setdefault("HF_HUB_OFFLINE", "1")

GAMES = ("FrozenLake-4x4", "FrozenLake-8x8", "Sokoban-easy")
ARMS = {"audit": {"gate": "audit"}, "gated": {"gate": "on"}}
CLIP = 4.0  # nats, as bench_alfworld's gated rows


def agreement(stats: dict[str, int]) -> float | None:
    """Share of decisions where the gated policy chooses what the ungated one chose: all but
    the settled decisions whose settled action was not the one taken.

    >>> agreement({"decisions": 100, "audited": 30, "audit_agreed": 29})
    0.99
    """
    if not stats.get("decisions"):
        return None
    return 1 - (stats["audited"] - stats["audit_agreed"]) / stats["decisions"]


def run_arm(game: str, arm: str, quick: bool, clip: float, llm: Any, embedder: Any,
            root: Path) -> dict[str, Any]:
    """One learning run of bench_learning's suite ``game`` with the arm's gate setting."""
    from bench_learning import QUICK_MAX_STEPS, SUITES, task_setup

    from memplay.agents import Agent, AgentConfig

    suite = SUITES[game]
    epochs, tasks = suite.quick if quick else suite.full
    steps = min(suite.max_steps, QUICK_MAX_STEPS) if quick else suite.max_steps
    kwargs, seeds, _ = task_setup(suite, tasks, root)
    config = AgentConfig(env_id=suite.env_id, env_kwargs=kwargs, epochs=epochs, tasks=seeds,
                         parallel_envs=min(len(seeds), 8), max_steps=steps, seed=0,
                         variant="memrl", policy={"llm_clip": clip, **ARMS[arm]})
    run_dir = root / game / arm
    shutil.rmtree(run_dir, ignore_errors=True)
    agent = Agent(config=config, llm=llm, embedder=embedder)
    started = time.perf_counter()
    try:
        metrics = agent.run(run_dir=run_dir, progress=False).metrics
    finally:
        agent.close()
    return {"success_per_epoch": metrics["success_per_epoch"],
            "last_epoch_success": metrics["last_epoch_success"],
            "model_call_fraction": metrics["model_call_fraction"],
            "scored_fraction": metrics["scored_fraction"],
            "decision_stats": metrics["decision_stats"],
            "agreement": agreement(metrics["decision_stats"]) if arm == "audit" else None,
            "wall_s": round(time.perf_counter() - started, 1),
            "load_avg_end": list(os.getloadavg())}


def report(results: dict[str, Any]) -> None:
    """Rich table: per game and arm, success per epoch, model calls, agreement, wall time."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="the decision gate on bench_learning's rows (memrl, embedded model)")
    for col in ("game", "arm", "success per epoch", "model calls", "scored", "agreement",
                "wall s"):
        table.add_column(col)
    for game, arms in results.items():
        for arm, r in arms.items():
            per = " ".join(f"{v:.2f}" for v in r["success_per_epoch"] if v is not None)
            agree = "-" if r["agreement"] is None else f"{r['agreement']:.1%}"
            table.add_row(game, arm, per, f"{r['model_call_fraction']:.0%}",
                          f"{r['scored_fraction']:.0%}", agree, f"{r['wall_s']:.0f}")
    Console(width=130).print(table)


def plot(results: dict[str, Any], path: Path) -> None:
    """Success per epoch, audit (every score) against gated, one panel per game."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 3.2), squeeze=False)
    for ax, (game, arms) in zip(axes[0], results.items()):
        for k, (arm, r) in enumerate(arms.items()):
            ys = r["success_per_epoch"]
            ax.plot([x + 1 + 0.05 * k for x in range(len(ys))], ys, marker="os"[k % 2],
                    label=f"{arm} ({r['model_call_fraction']:.0%} model calls)")
        ax.set(title=game, xlabel="epoch", ylabel="success", ylim=(-0.05, 1.05))
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Both arms on every game, the table, JSON and PNG."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    add_threads_arg(parser)
    parser.add_argument("--games", nargs="+", choices=GAMES, help="default: all (quick: 4x4)")
    parser.add_argument("--clip", type=float, default=CLIP, help="policy.llm_clip, nats")
    args = parser.parse_args(argv)
    games = args.games or (GAMES[:1] if args.quick else GAMES)
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    started, load = time.perf_counter(), list(os.getloadavg())
    print(f"bench_gate: {len(games)} games x {len(ARMS)} arms (planned: about 3 min per "
          "game and arm on 2 idle cores)", flush=True)
    llm, embedder = make_llm(llm_config(args.threads)), make_embedder(AgentConfig())
    results: dict[str, Any] = {}
    for game in games:
        results[game] = {arm: run_arm(game, arm, args.quick, args.clip, llm, embedder,
                                      args.out / "runs" / "gate") for arm in ARMS}
        print(f"{game}: " + ", ".join(f"{arm} {r['success_per_epoch']} "
                                       f"({r['model_call_fraction']:.0%} calls)"
                                       for arm, r in results[game].items()), flush=True)
    report(results)
    record = {"benchmark": "bench_gate", "quick": args.quick, "clip": args.clip,
              "variant": "memrl", "agent_seed": 0, "load_avg_at_start": load,
              "machine": machine(), "results": results,
              "wall_s": round(time.perf_counter() - started, 1)}
    finish(args.out, "bench_gate", args.quick, record, lambda png: plot(results, png))
    return record


if __name__ == "__main__":
    main()
