"""Benchmark the text environments: steps per second and reset time for every registered id.

Each env is driven by a uniformly random policy over ``info["admissible_actions"]`` (seeded),
resetting with a fresh seed whenever an episode ends. Step throughput counts only ``step``
calls; reset time is measured separately over fresh seeds. For reference, Gymnasium's own
integer FrozenLake is timed too, so the cost of the text layer shows as a ratio. ALFWorld runs
when ``alfworld`` is installed and ``ALFWORLD_DATA`` is set (few resets: each takes seconds).

    python bench/bench_envs.py --quick    # about a minute
    python bench/bench_envs.py            # more steps and resets
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import add_common_args, finish


def time_resets(env: Any, n: int, seed: int) -> list[float]:
    """Seconds per ``reset`` over ``n`` consecutive seeds."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        env.reset(seed=seed + i)
        times.append(time.perf_counter() - start)
    return times


def time_steps(env: Any, n: int, seed: int) -> tuple[float, int]:
    """Seconds spent in ``step`` over ``n`` random admissible steps, and episodes finished."""
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    spent, episodes = 0.0, 0
    for _ in range(n):
        choices = info["admissible_actions"]
        action = choices[int(rng.integers(len(choices)))]
        start = time.perf_counter()
        _, _, terminated, truncated, info = env.step(action)
        spent += time.perf_counter() - start
        if terminated or truncated:
            episodes += 1
            _, info = env.reset(seed=seed + episodes)
    return spent, episodes


def bench_env(env_id: str, steps: int, resets: int, seed: int, **kwargs: Any) -> dict[str, Any]:
    """One row of the table for a registered env."""
    from memplay.environments import make

    start = time.perf_counter()
    env = make(env_id, **kwargs)
    make_s = time.perf_counter() - start
    reset_times = time_resets(env, resets, seed)
    spent, episodes = time_steps(env, steps, seed)
    env.close()
    return {"env": env_id, "make_s": make_s, "steps": steps, "episodes": episodes,
            "steps_per_s": steps / spent, "step_us": 1e6 * spent / steps,
            "reset_p50_ms": 1e3 * statistics.median(reset_times),
            "reset_max_ms": 1e3 * max(reset_times), "resets": resets}


def bench_raw_gymnasium(steps: int, seed: int) -> dict[str, Any]:
    """Gymnasium's integer FrozenLake 4x4 (no text), the floor the text layer adds to."""
    from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv

    env = FrozenLakeEnv(is_slippery=False)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    spent, episodes = 0.0, 0
    for _ in range(steps):
        action = int(rng.integers(4))
        start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        spent += time.perf_counter() - start
        if terminated or truncated:
            episodes += 1
            env.reset(seed=seed + episodes)
    resets = time_resets(env, 200, seed)
    return {"env": "gymnasium FrozenLake 4x4 (ints)", "make_s": 0.0, "steps": steps,
            "episodes": episodes, "steps_per_s": steps / spent, "step_us": 1e6 * spent / steps,
            "reset_p50_ms": 1e3 * statistics.median(resets), "reset_max_ms": 1e3 * max(resets),
            "resets": 200}


def alfworld_ready() -> bool:
    """alfworld installed and its data folder configured."""
    data = os.environ.get("ALFWORLD_DATA", "")
    return importlib.util.find_spec("alfworld") is not None and \
        (Path(data) / "json_2.1.1").is_dir()


def print_table(rows: list[dict[str, Any]], raw_rate: float) -> None:
    """Rich table of the results."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="environments: random admissible policy, one process")
    for col in ["env", "steps/s", "us/step", "x slower than raw gym", "reset p50 ms",
                "reset max ms", "episodes", "make s"]:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["env"], f"{r['steps_per_s']:,.0f}", f"{r['step_us']:.1f}",
                      f"{raw_rate / r['steps_per_s']:.1f}x", f"{r['reset_p50_ms']:.3f}",
                      f"{r['reset_max_ms']:.3f}", str(r["episodes"]), f"{r['make_s']:.3f}")
    Console(width=150).print(table)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Two bar charts: steps/s and reset p50 (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["env"].replace(" (ints)", "") for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    axes[0].barh(names, [r["steps_per_s"] for r in rows], color="tab:blue")
    axes[0].set(xscale="log", xlabel="steps per second (log)", title="step throughput")
    axes[1].barh(names, [r["reset_p50_ms"] for r in rows], color="tab:orange")
    axes[1].set(xscale="log", xlabel="reset p50 (ms, log)", title="reset time")
    axes[1].set_yticklabels([])
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def environment() -> dict[str, Any]:
    """Machine and library versions for the JSON record."""
    import gymnasium

    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpu_count": os.cpu_count(), "numpy": np.__version__,
            "gymnasium": gymnasium.__version__,
            "load_avg_1m": os.getloadavg()[0]}
    if importlib.util.find_spec("alfworld") is not None:
        from importlib.metadata import version

        info["alfworld"] = version("alfworld")
    return info


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; --quick shrinks everything."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    # Full sizes keep this run near a minute (of the 60 all full benchmarks get): rates of
    # 3,000-17,000 steps/s settle well within 5,000 steps; ALFWorld resets take seconds each.
    p.add_argument("--steps", type=int, default=5_000, help="steps per grid/two-player env")
    p.add_argument("--resets", type=int, default=300, help="resets per grid/two-player env")
    p.add_argument("--alfworld-steps", type=int, default=60)
    p.add_argument("--alfworld-resets", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    add_common_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.resets = min(args.steps, 3_000), min(args.resets, 200)
        args.alfworld_steps, args.alfworld_resets = min(args.alfworld_steps, 40), 3
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return the JSON record it writes."""
    from memplay.environments import list_envs

    args = parse_args(argv)
    wall = time.perf_counter()
    raw = bench_raw_gymnasium(args.steps, args.seed)
    # TextWorld-gen compiles a game per new seed (seconds each): not a steps/s benchmark
    rows = [bench_env(i, args.steps, args.resets, args.seed)
            for i in list_envs() if not i.startswith(("ALFWorld", "TextWorld"))]
    if alfworld_ready():
        rows.append(bench_env("ALFWorld-v0", args.alfworld_steps, args.alfworld_resets,
                              args.seed))
    else:
        print("ALFWorld skipped: install alfworld==0.4.2 and set ALFWORLD_DATA")
    rows.append(raw)
    print_table(rows, raw["steps_per_s"])
    record = {"benchmark": "envs", "args": {k: str(v) for k, v in vars(args).items()},
              "seed": args.seed, "environment": environment(), "results": rows,
              "wall_s": time.perf_counter() - wall}
    finish(args.out, "bench_envs", args.quick, record, lambda png: plot(rows, png))
    return record


if __name__ == "__main__":
    main()
