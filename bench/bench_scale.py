"""Scaling the environments out: episodes/min with 1, 2 and 4 env workers, by executor.

The agent (variant none, the scripted fake LLM: decisions cost next to nothing, so the
environments are the cost) plays with its environments in three places: ``local`` (one
process, stepped one after another in lockstep: :class:`LocalEnvs`), ``process`` (one worker
process each: :class:`ProcessEnvs`) and ``ray`` (one Ray actor each, on a local Ray instance:
:class:`RayEnvs`). Games: ALFWorld (resets take about a second, steps 0.05-0.1 s: worth
spreading) and FrozenLake (steps take microseconds: only the overhead shows). Episodes always
run to the step cap (the fake LLM never solves a game), so every row plays the same number of
steps. Worker start-up (spawn, imports, env build) is timed apart from the episodes.

Then the cost of the remote call itself: the latency of one ``step_many`` on one FrozenLake env
in each executor, Ray's overhead per step (its latency minus the local one), and, unless
``--quick`` or ``--no-embedded``, that overhead as a share of one decision of the embedded
SmolLM2-135M agent on the same game (goal: under 5%).

    python bench/bench_scale.py --quick    # FrozenLake only, 1 and 2 workers, no embedded model
    python bench/bench_scale.py            # ALFWorld (when installed) and FrozenLake, 1 2 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import add_common_args, add_threads_arg, finish, llm_config, machine

os.environ.setdefault("HF_HUB_OFFLINE", "1")

EXECUTORS = ("local", "process", "ray")
GOAL_SPEEDUP = 1.6  # ALFWorld, 2 workers vs local lockstep (reported, not enforced)
GOAL_OVERHEAD = 0.05  # Ray's per-step overhead / one embedded-model decision


def games(quick: bool) -> dict[str, dict[str, Any]]:
    """The games to play and how many full batches each row plays: FrozenLake always (its
    episodes take milliseconds: more of them); ALFWorld in full mode when it can run.

    >>> list(games(quick=True))
    ['FrozenLake-4x4-v0']
    """
    chosen: dict[str, dict[str, Any]] = {"FrozenLake-4x4-v0": {"batches": 2 if quick else 8}}
    if not quick and alfworld_ready():
        chosen = {"ALFWorld-v0": {"batches": 3}, **chosen}
    return chosen


def alfworld_ready() -> bool:
    """alfworld installed and its data found (``$ALFWORLD_DATA``)."""
    import importlib.util

    from memplay.environments.alfworld.env import alfworld_data_dir
    from memplay.errors import DataNotFound

    try:
        alfworld_data_dir(None, "eval_in_distribution")
    except DataNotFound:
        return False
    return importlib.util.find_spec("alfworld") is not None


def make_envs(executor: str, recipe: Any, count: int) -> Any:
    """``count`` environments of ``recipe`` in ``executor``."""
    from memplay.environments.executors.ray_workers import RayEnvs
    from memplay.environments.executors.workers import LocalEnvs, ProcessEnvs

    kinds = {"local": LocalEnvs, "process": ProcessEnvs, "ray": RayEnvs}
    return kinds[executor](recipe, count)


def start_envs(executor: str, recipe: Any, count: int) -> tuple[Any, float]:
    """Workers with every env built (a first reset waits for them), and the seconds it took."""
    started = time.perf_counter()
    envs = make_envs(executor, recipe, count)
    for result in envs.reset_many(list(range(count)), seeds=list(range(count))):
        if isinstance(result, Exception):
            raise result
    return envs, time.perf_counter() - started


def play(executor: str, env_id: str, workers: int, episodes: int, max_steps: int,
         run_dir: Path) -> dict[str, Any]:
    """One row: ``episodes`` episodes in batches of ``workers``; episodes/min over the play."""
    from memplay.agents.config import AgentConfig
    from memplay.agents.context import AgentContext
    from memplay.agents.runner import run_episodes
    from memplay.environments.executors.workers import EnvRecipe
    from memplay.llm.fake import ScriptedLLM

    envs, startup = start_envs(executor, EnvRecipe(env_id), workers)
    cfg = AgentConfig(env_id=env_id, variant="none", llm="scripted", tasks=list(range(episodes)),
                      epochs=1, parallel_envs=workers, max_steps=max_steps, env_workers=executor)
    try:
        started = time.perf_counter()
        run_episodes(AgentContext(envs=envs, llm=ScriptedLLM(), config=cfg), run_dir,
                     progress=False)
        wall = time.perf_counter() - started
    finally:
        envs.close()
    return {"env_id": env_id, "executor": executor, "workers": workers, "episodes": episodes,
            "max_steps": max_steps, "startup_s": round(startup, 2), "wall_s": round(wall, 3),
            "episodes_per_min": round(60.0 * episodes / wall, 2)}


def step_latency(executor: str, steps: int) -> float:
    """Median seconds of one ``step_many`` on one FrozenLake env (resets not timed)."""
    from memplay.environments.executors.workers import EnvRecipe

    envs, _ = start_envs(executor, EnvRecipe("FrozenLake-4x4-v0"), 1)
    times = []
    try:
        for i in range(steps):
            started = time.perf_counter()
            [result] = envs.step_many([0], ["right" if i % 2 else "down"])
            times.append(time.perf_counter() - started)
            if isinstance(result, Exception) or result[2] or result[3]:
                envs.reset_many([0], seeds=[i])
    finally:
        envs.close()
    return statistics.median(times)


def embedded_decision_s(threads: int, run_dir: Path) -> float:
    """Seconds per decision of the embedded model agent (variant none, FrozenLake, one env)."""
    from memplay.agents import Agent
    from memplay.agents.components import make_llm
    from memplay.agents.run_files import RunFiles

    agent = Agent("FrozenLake-4x4-v0", variant="none", llm=make_llm(llm_config(threads)),
                  max_steps=6, parallel_envs=1)
    agent.run(epochs=1, tasks=[0], run_dir=run_dir / "warm", progress=False)  # loads the model
    started = time.perf_counter()
    agent.run(epochs=1, tasks=[1, 2], run_dir=run_dir / "timed", progress=False)
    wall = time.perf_counter() - started
    decisions = sum(r.steps for r in RunFiles(run_dir / "timed").read_results())
    return wall / max(decisions, 1)


def overhead(steps: int, decision_s: float | None) -> dict[str, Any]:
    """Per-step latency by executor, Ray's overhead, and its share of an embedded decision."""
    latency = {executor: step_latency(executor, steps) for executor in EXECUTORS}
    ray_extra = latency["ray"] - latency["local"]
    return {"steps": steps, "step_latency_ms": {k: round(1e3 * v, 3) for k, v in latency.items()},
            "ray_overhead_ms": round(1e3 * ray_extra, 3),
            "embedded_decision_ms": None if decision_s is None else round(1e3 * decision_s, 1),
            "ray_overhead_share": None if decision_s is None else round(ray_extra / decision_s,
                                                                          4)}


def speedups(rows: list[dict[str, Any]]) -> dict[str, float]:
    """episodes/min of each (game, executor, workers) over local lockstep with as many envs.

    >>> speedups([{"env_id": "G", "executor": "local", "workers": 2, "episodes_per_min": 10},
    ...           {"env_id": "G", "executor": "ray", "workers": 2, "episodes_per_min": 17}])
    {'G ray 2': 1.7}
    """
    local = {(r["env_id"], r["workers"]): r["episodes_per_min"] for r in rows
             if r["executor"] == "local"}
    return {f"{r['env_id']} {r['executor']} {r['workers']}":
            round(r["episodes_per_min"] / local[(r["env_id"], r["workers"])], 2)
            for r in rows if r["executor"] != "local" and (r["env_id"], r["workers"]) in local}


def report(rows: list[dict[str, Any]], ratios: dict[str, float], cost: dict[str, Any]) -> None:
    """Rich tables: rows with their speed-up over local lockstep, then the per-step cost."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="episodes/min by executor (scripted LLM: the environments are the cost)")
    for col in ("game", "executor", "workers", "episodes", "start-up s", "wall s",
                "episodes/min", "vs local"):
        table.add_column(col, justify="right")
    for r in rows:
        ratio = ratios.get(f"{r['env_id']} {r['executor']} {r['workers']}")
        table.add_row(r["env_id"], r["executor"], str(r["workers"]), str(r["episodes"]),
                      f"{r['startup_s']:.1f}", f"{r['wall_s']:.1f}",
                      f"{r['episodes_per_min']:.1f}", "-" if ratio is None else f"{ratio:.2f}x")
    console = Console(width=120)
    console.print(table)
    lat = cost["step_latency_ms"]
    share = cost["ray_overhead_share"]
    console.print(f"one FrozenLake step: local {lat['local']:.3f} ms, process {lat['process']:.3f}"
                  f" ms, ray {lat['ray']:.3f} ms; Ray's overhead {cost['ray_overhead_ms']:.3f} ms"
                  + ("" if share is None else f" = {share:.1%} of an embedded-model decision "
                     f"({cost['embedded_decision_ms']:.0f} ms; goal < {GOAL_OVERHEAD:.0%})"))


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Episodes/min against workers, one panel per game, one line per executor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    env_ids = list(dict.fromkeys(r["env_id"] for r in rows))
    fig, axes = plt.subplots(1, len(env_ids), figsize=(5 * len(env_ids), 3.8), squeeze=False)
    for ax, env_id in zip(axes[0], env_ids):
        for executor in EXECUTORS:
            mine = [r for r in rows if r["env_id"] == env_id and r["executor"] == executor]
            ax.plot([r["workers"] for r in mine], [r["episodes_per_min"] for r in mine],
                    marker="o", label=executor)
        ax.set(title=env_id, xlabel="env workers", ylabel="episodes/min")
        ax.set_xticks(sorted({r["workers"] for r in rows}))
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """``--quick``, ``--out``, ``--threads`` (embedded model), ``--workers``, ``--max-steps``,
    ``--games``, ``--no-embedded``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    add_threads_arg(parser)
    parser.add_argument("--workers", type=int, nargs="+", help="default 1 2 4 (quick: 1 2)")
    parser.add_argument("--max-steps", type=int, help="step cap (default 10; quick 5)")
    parser.add_argument("--games", nargs="+", choices=["ALFWorld-v0", "FrozenLake-4x4-v0"],
                        help="play only these (default: both; quick: FrozenLake)")
    parser.add_argument("--no-embedded", action="store_true",
                        help="skip the embedded model's decision time")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Every (game, executor, workers) row, the per-step overhead, the table, JSON and PNG."""
    import ray

    args = parse_args(argv)
    sizes = args.workers or ([1, 2] if args.quick else [1, 2, 4])
    max_steps = args.max_steps or (5 if args.quick else 10)
    started, load = time.perf_counter(), os.getloadavg()
    ray_start = time.perf_counter()  # actors inherit this environment (ALFWORLD_DATA)
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    ray_start_s = time.perf_counter() - ray_start
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # untimed: the first run builds the graph and imports what every run needs
        play("local", "FrozenLake-4x4-v0", 1, 1, max_steps, Path(tmp) / "warm-up")
        for env_id, game in games(args.quick).items():
            if args.games and env_id not in args.games:
                continue
            for executor in EXECUTORS:
                for n in sizes:
                    rows.append(play(executor, env_id, n, game["batches"] * n, max_steps,
                                     Path(tmp) / f"{env_id}-{executor}-{n}"))
        decision = None if args.quick or args.no_embedded else embedded_decision_s(
            args.threads, Path(tmp) / "embedded")
        cost = overhead(100 if args.quick else 400, decision)
    ray.shutdown()
    ratios = speedups(rows)
    report(rows, ratios, cost)
    record = {"executors": list(EXECUTORS), "workers": sizes, "max_steps": max_steps,
              "variant": "none", "llm": "scripted", "ray_init_s": round(ray_start_s, 2),
              "load_avg_at_start": list(load), "machine": machine(), "results": rows,
              "speedup_vs_local": ratios, "overhead": cost,
              "goals": {"alfworld_2_workers_speedup": GOAL_SPEEDUP,
                        "ray_overhead_share": GOAL_OVERHEAD},
              "wall_s": round(time.perf_counter() - started, 1)}
    finish(args.out, "bench_scale", args.quick, record, lambda png: plot(rows, png))
    return record


if __name__ == "__main__":
    main()
