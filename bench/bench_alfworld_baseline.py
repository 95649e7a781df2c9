"""ALFWorld without an LLM: the demo baseline, and the environment speed figures behind it.

Four parts (``--parts``, all by default), each a row group of the JSON record:

- ``speed``: where a game's time goes (load, reset, step) with TextWorld as it is and with
  memplay's caching (:func:`memplay.environments.alfworld.env.fast_textworld`), walkthroughs
  of valid_seen games, in this process; wall and CPU seconds.
- ``demos``: walkthrough demos played per minute with 1 and 2 worker processes (no cache).
- ``baseline``: the no-LLM baseline (:mod:`_alfworld_baseline`) fitted on
  train walkthrough demos (played through the resumable cache ``--demo-cache``; the full train
  split takes hours the first time), then played on valid_seen games with a 30-step cap;
  success per task type.
- ``workers``: episodes of random admissible actions per minute (30-step cap) with 2 envs in
  lockstep in this process (``LocalEnvs``) against 2 worker processes (``ProcessEnvs``).

    python bench/bench_alfworld_baseline.py --quick    # a few games of each part (minutes)
    python bench/bench_alfworld_baseline.py            # all 140 valid_seen games, train demos
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import add_common_args, finish, machine

ROOT = Path(__file__).resolve().parents[1]
SPLIT = "eval_in_distribution"


def speed_part(games: int) -> dict[str, Any]:
    """Load/reset/step seconds per game, TextWorld as is against memplay's caching."""
    from memplay.environments.alfworld.env import ALFWorldEnv

    rows = {}
    for label, fast in (("textworld", False), ("memplay cached", True)):
        env = ALFWorldEnv(split=SPLIT, fast_load=fast)
        picks = range(0, len(env.games), max(1, len(env.games) // games))
        cpu, wall = time.process_time(), time.perf_counter()
        for index in list(picks)[:games]:
            env.reset(options={"game": index})
            for action in env.walkthrough():
                env.step(action)
        tm = env.timings
        rows[label] = {"games": tm["loads"], "load_s": tm["load_s"] / tm["loads"],
                       "reset_s": tm["reset_s"] / tm["resets"],
                       "step_s": tm["step_s"] / max(1, tm["steps"]),
                       "cpu_s_per_game": (time.process_time() - cpu) / tm["loads"],
                       "wall_s_per_game": (time.perf_counter() - wall) / tm["loads"]}
        env.close()
    return rows


def demos_part(per_type: int) -> dict[str, Any]:
    """Walkthrough demos of train games per minute with 1 and 2 workers (nothing cached)."""
    from memplay.environments.alfworld.demos import alfworld_demos, demo_games

    games = demo_games("train", per_task_type=per_type)
    rows = {}
    for workers in (1, 2):
        started = time.perf_counter()
        demos = list(alfworld_demos("train", games=games, workers=workers))
        seconds = time.perf_counter() - started
        rows[f"workers={workers}"] = {"games": len(demos), "seconds": seconds,
                                      "games_per_min": 60 * len(demos) / seconds,
                                      "success": sum(d.success for d in demos)}
    return rows


def baseline_part(train_per_type: int | None, eval_per_type: int | None, cache: Path,
                  workers: int) -> dict[str, Any]:
    """Fit the baseline on train walkthrough demos and play valid_seen games with it."""
    from _alfworld_baseline import evaluate_baseline, fit_baseline

    from memplay.environments.alfworld.demos import alfworld_demos, demo_games, demo_statistics

    started = time.perf_counter()
    demos = list(alfworld_demos("train", per_task_type=train_per_type, cache=cache,
                                workers=workers))
    demo_s = time.perf_counter() - started
    stats = fit_baseline(demos)
    games = demo_games(SPLIT, per_task_type=eval_per_type)
    started = time.perf_counter()
    rows = evaluate_baseline(stats, games, SPLIT, max_steps=30, workers=workers)
    per_type: dict[str, dict[str, Any]] = {}
    for row in rows:
        cell = per_type.setdefault(row["task_type"], {"games": 0, "solved": 0, "steps": 0})
        cell["games"] += 1
        cell["solved"] += int(row["success"])
        cell["steps"] += row["steps"]
    return {"demos": demo_statistics(demos), "demo_seconds": demo_s,
            "sequences": {t: stats.sequence(t) for t in sorted(per_type)},
            "games": len(rows), "solved": sum(r["success"] for r in rows),
            "errors": sum(r["error"] is not None for r in rows),
            "eval_seconds": time.perf_counter() - started, "per_task_type": per_type,
            "rows": rows}


def _random_episodes(envs: Any, episodes: int, seed: int) -> float:
    """Play ``episodes`` random-admissible episodes on every env slot; episodes per minute."""
    rng = random.Random(seed)
    slots = list(range(envs.num_envs))
    started = time.perf_counter()
    done = started_games = 0
    while done < episodes:
        batch = slots[: episodes - done]
        options = [{"game": (started_games + i) * 7 % 140} for i in range(len(batch))]
        started_games += len(batch)  # every 7th valid_seen game: all task types
        infos = {s: r[1] for s, r in zip(batch, envs.reset_many(batch, options=options))}
        while infos:
            order = sorted(infos)
            actions = [rng.choice(infos[s]["admissible_actions"]) for s in order]
            for slot, result in zip(order, envs.step_many(order, actions)):
                _, _, terminated, truncated, info = result
                infos[slot] = info
                if terminated or truncated:
                    del infos[slot]
                    done += 1
    return 60 * done / (time.perf_counter() - started)


def workers_part(episodes: int) -> dict[str, Any]:
    """Random episodes per minute, 2 envs: lockstep in-process against 2 worker processes."""
    from memplay.environments.executors.workers import EnvRecipe, LocalEnvs, ProcessEnvs

    recipe = EnvRecipe("ALFWorld-v0", {"split": SPLIT, "max_episode_steps": 30})
    rows = {}
    for label, make in (("LocalEnvs(2)", LocalEnvs), ("ProcessEnvs(2)", ProcessEnvs)):
        load = os.getloadavg()[0]
        with make(recipe, 2) as envs:
            envs.reset_many([0, 1], options=[{"game": 0}, {"game": 1}])  # start-up not timed
            rate = _random_episodes(envs, episodes, seed=0)
        rows[label] = {"episodes": episodes, "episodes_per_min": rate, "load_before": load,
                       "load_after": os.getloadavg()[0]}
    rows["speed_up"] = rows["ProcessEnvs(2)"]["episodes_per_min"] / rows["LocalEnvs(2)"][
        "episodes_per_min"]
    return rows


def print_tables(record: dict[str, Any]) -> None:
    """Plain-text tables of every part that ran."""
    if "speed" in record:
        print("\ngame time (s)        load   reset  step   cpu/game wall/game")
        for label, r in record["speed"].items():
            print(f"{label:18s} {r['load_s']:6.2f} {r['reset_s']:6.2f} {r['step_s']:6.3f} "
                  f"{r['cpu_s_per_game']:8.2f} {r['wall_s_per_game']:8.2f}")
    for part in ("demos", "workers"):
        for label, r in record.get(part, {}).items():
            print(f"{part:8s} {label:16s} {r}" if not isinstance(r, dict) else
                  f"{part:8s} {label:16s} " + ", ".join(
                      f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in r.items()))
    if "baseline" in record:
        base = record["baseline"]
        print(f"\nbaseline on {base['games']} {SPLIT} games, 30 steps, fitted on "
              f"{base['demos']['games']} train demos: {base['solved']}/{base['games']}")
        for task_type, cell in sorted(base["per_task_type"].items()):
            print(f"  {task_type:32s} {cell['solved']:3d}/{cell['games']:<3d} "
                  f"{cell['solved'] / cell['games']:.2f}")


def plot(record: dict[str, Any], path: Path) -> None:
    """Bars: baseline success per task type; episodes/min of the two worker set-ups."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    cells = sorted(record.get("baseline", {}).get("per_task_type", {}).items())
    axes[0].barh([t for t, _ in cells], [c["solved"] / c["games"] for _, c in cells])
    axes[0].set(xlim=(0, 1), xlabel="success (30 steps)", title="no-LLM demo baseline")
    workers = {k: v for k, v in record.get("workers", {}).items() if isinstance(v, dict)}
    axes[1].bar(list(workers), [v["episodes_per_min"] for v in workers.values()])
    axes[1].set(ylabel="random episodes / min", title="ALFWorld env workers (2 envs)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; --quick shrinks every part."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--parts", default="speed,demos,baseline,workers")
    p.add_argument("--demo-cache", type=Path,
                   default=ROOT / ".cache" / "alfworld_demos" / "train_walkthrough.jsonl")
    p.add_argument("--train-per-type", type=int, default=None,
                   help="train demos per task type for the baseline (default: all 3,553)")
    p.add_argument("--eval-per-type", type=int, default=None,
                   help="valid_seen games per task type (default: all 140)")
    p.add_argument("--workers", type=int, default=2)
    add_common_args(p)
    args = p.parse_args(argv)
    args.sizes = {"speed": 2, "demos": 1, "workers": 2} if args.quick else {
        "speed": 10, "demos": 4, "workers": 12}
    if args.quick:
        args.train_per_type = args.train_per_type or 2
        args.eval_per_type = args.eval_per_type or 1
        args.demo_cache = args.out / "alfworld_demos_quick.jsonl"
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the chosen parts; return the JSON record written to ``--out``."""
    args = parse_args(argv)
    parts = args.parts.split(",")
    record: dict[str, Any] = {"machine_at_start": machine(), "args": {
        k: str(v) for k, v in vars(args).items()}}
    wall = time.perf_counter()
    if "speed" in parts:
        record["speed"] = speed_part(args.sizes["speed"])
    if "demos" in parts:
        record["demos"] = demos_part(args.sizes["demos"])
    if "baseline" in parts:
        record["baseline"] = baseline_part(args.train_per_type, args.eval_per_type,
                                           args.demo_cache, args.workers)
    if "workers" in parts:
        record["workers"] = workers_part(args.sizes["workers"])
    record["wall_s"] = time.perf_counter() - wall
    print_tables(record)
    finish(args.out, "bench_alfworld_baseline", args.quick, record,
           lambda png: plot(record, png))
    return record


if __name__ == "__main__":
    main()
