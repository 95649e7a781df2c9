"""Learning benchmark: success per epoch of every memory variant on the embedded model.

Variants: ``none``, ``rag``, ``memrl`` (MemRL + step memory), ``memrl+playbook`` (CEL rules and
playbook), ``memrl+critique`` (Agent-R critique trees), ``reflexion`` (a reflection per failed
task, shown on its next try), ``expel`` (voted insights plus similar past episodes), any other
registered variant or ``+`` combination (``memplay.agents.variants``), and the pseudo-variant
``memrl+train`` (MemRL with one LoRA SFT round in the middle of the run,
``AgentConfig.train_every``). Environments: FrozenLake
4x4 and 8x8 (non-slippery), the easiest bundled Sokoban levels, Minesweeper 5x5, TicTacToe and
Kuhn Poker against a random scripted opponent, and a few ALFWorld eval_in_distribution games.
The frozen SmolLM2-135M chooses actions by scoring; every variant plays the same task seeds.

Metrics per env and variant: success per epoch, last-epoch success, cumulative success (tasks
solved at least once) and wall time; per env, the ceiling: what a scripted expert scores on
the same tasks (see ``_ceilings.py``). Results of envs/variants not re-run are kept from the
previous JSON of the same mode, so partial runs (``--envs``, ``--variants``) merge.

    python bench/bench_learning.py --quick                      # CI smoke run (a few minutes)
    python bench/bench_learning.py                              # the numbers of docs/RESULTS.md
    python bench/bench_learning.py --envs FrozenLake-4x4 --variants memrl none
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from _ceilings import ceiling
from _common import add_common_args, add_threads_arg, llm_config, machine, result_path, write_record

from memplay.agents.variants import get_variant
from memplay.errors import ConfigError

TRAIN = "memrl+train"  # pseudo-variant: memrl with AgentConfig.train_every (one round)
VARIANTS = ("none", "rag", "memrl", "memrl+playbook", "memrl+critique", "reflexion", "expel")


@dataclass(frozen=True)
class Suite:
    """One environment's settings: step cap, (epochs, tasks) in quick and full mode."""

    env_id: str
    max_steps: int
    quick: tuple[int, int]
    full: tuple[int, int]
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    variants: tuple[str, ...] | None = None  # None: every variant
    note: str = ""


# Budget: all full benchmarks together get 60 minutes on 2 idle cores (bench/run_full.sh),
# and this matrix about 30 of them. So task sets are small (2-16 tasks, 3-8 epochs, one agent
# seed: curves are indicative, not significant), and the slow variants run where they say
# most: all six on FrozenLake 4x4; critique trees also on 8x8 and Sokoban, whose
# deterministic resets let MCTS search; the baselines (none, rag, memrl) everywhere else.
BASELINES = ("none", "rag", "memrl")
SUITES: dict[str, Suite] = {
    "FrozenLake-4x4": Suite("FrozenLake-4x4-v0", 12, (2, 1), (8, 4)),
    "FrozenLake-8x8": Suite("FrozenLake-8x8-v0", 30, (1, 1), (4, 4),
                            variants=("none", "memrl", "memrl+critique")),
    "Sokoban-easy": Suite("Sokoban-v0", 20, (1, 1), (4, 4), {"view": "cells"},
                          variants=(*BASELINES, "memrl+critique", "reflexion", "expel"),
                          note="bundled levels whose shortest solution has 2-5 moves; the "
                               "3x3-window view these rows were measured with"),
    "Minesweeper": Suite("Minesweeper-v0", 15, (1, 1), (4, 4), {"flags": False},
                         variants=BASELINES,
                         note="5x5, 4 mines, reveal actions only (at most 25 to score)"),
    "TicTacToe-random": Suite("TicTacToe-v0", 5, (1, 1), (4, 8), {"opponent": "random"},
                              variants=BASELINES,
                              note="agent plays X (first) against a random opponent"),
    "KuhnPoker-random": Suite("KuhnPoker-v0", 3, (1, 2), (4, 16), {"opponent": "random"},
                              variants=BASELINES,
                              note="agent is seat 0 against a random opponent; "
                                   "success = hand won"),
    "ALFWorld-eval": Suite("ALFWorld-v0", 15, (1, 1), (3, 2),
                           {"split": "eval_in_distribution",
                            "task_types": ["pick_and_place_simple"]},
                           variants=("none", "memrl"),
                           note="2 pick_and_place_simple games of eval_in_distribution, 15 "
                                "steps: ALFWorld resets and steps take seconds, so the subset "
                                "is tiny"),
}
QUICK_ENVS = ("FrozenLake-4x4", "TicTacToe-random")
QUICK_VARIANTS = ("none", "memrl")
QUICK_MAX_STEPS = 6  # a smoke run only checks the plumbing
# Sokoban levels played: bundled ones whose shortest solution has this many moves. The
# 1-move corridor is left out (any policy solves it); longer levels need far more than a
# quick run's episodes for a 135M model exploring from scratch.
SOKOBAN_MOVES = (2, 5)


def all_variants() -> list[str]:
    """The benchmark's variants in order, then the training pseudo-variant (run last: it is
    the slowest and, with a shared model, the only one that changes weights).

    >>> all_variants()[0], all_variants()[-1]
    ('none', 'memrl+train')
    """
    return [*VARIANTS, TRAIN]


def easy_sokoban(out: Path, tasks: int) -> tuple[dict[str, Any], list[int], list[str]]:
    """Write the easy bundled levels (``SOKOBAN_MOVES``) to ``out``, easiest first, and pick
    ``tasks`` reset seeds that play them in turn; returns (env kwargs, seeds, level per seed).

    >>> kwargs, seeds, levels = easy_sokoban(Path("/tmp/easy.json"), 4)  # doctest: +SKIP
    >>> levels  # doctest: +SKIP
    ['side-step', 'around-the-wall', 'turn', 'side-step']
    """
    from memplay.environments.sokoban.env import SokobanEnv

    bundled = json.loads(resources.files("memplay.environments.sokoban.data").joinpath(
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
    from memplay.environments.sokoban.env import SokobanEnv

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


def task_setup(suite: Suite, tasks: int, out: Path) -> tuple[dict[str, Any], list[int],
                                                              dict[str, Any]]:
    """(env kwargs, task seeds, extra JSON fields) of one suite.

    >>> task_setup(SUITES["FrozenLake-4x4"], 2, Path("/tmp"))
    ({}, [0, 1], {})
    """
    if suite.env_id != "Sokoban-v0":
        return dict(suite.env_kwargs), list(range(tasks)), {}
    out.mkdir(parents=True, exist_ok=True)
    kwargs, seeds, levels = easy_sokoban(out / "sokoban_easy_levels.json", tasks)
    extra = {"levels": levels, "solution_moves": list(SOKOBAN_MOVES)}
    return {**suite.env_kwargs, **kwargs}, seeds, extra


def train_every(epochs: int) -> int:
    """K such that exactly one training round happens, after about 60% of the epochs (and
    never after the last one): early rounds find no successes to train on yet.

    >>> [train_every(e) for e in (2, 4, 8, 10)]
    [1, 3, 5, 6]
    """
    return max(1, min(epochs - 1, math.ceil(0.6 * epochs)))


def run_variant(variant: str, base: Any, llm: Any, embedder: Any, run_dir: Path
                ) -> dict[str, Any]:
    """One variant's run from scratch; its metrics and wall time."""
    from memplay.agents import Agent
    from memplay.agents.components import make_llm

    update: dict[str, Any] = {"variant": variant}
    if variant == TRAIN:
        # a fresh model: training reloads the backend's weights in place, and the shared
        # model must stay the frozen one for every other variant
        update = {"variant": "memrl", "train_every": train_every(base.epochs)}
        llm = make_llm(base)
    agent = Agent(config=base.model_copy(update=update), llm=llm, embedder=embedder)
    shutil.rmtree(run_dir, ignore_errors=True)  # a left-over run dir would be resumed
    started = time.perf_counter()
    try:
        result = agent.run(run_dir=run_dir, progress=False)
    finally:
        agent.close()
    row = {**result.metrics, "wall_s": round(time.perf_counter() - started, 1),
           "load_avg_end": list(os.getloadavg())}
    if variant == TRAIN:
        row["train_every"] = update["train_every"]
    row.update(writer_stats(run_dir / "memory"))
    row.update(training_stats(run_dir))
    return row


def writer_stats(memory: Path) -> dict[str, Any]:
    """How often the LLM's own reflection writing was usable (Reflexion: reflections the LLM
    wrote against template fallbacks; ExpeL: answers with at least one applied insight edit).

    >>> writer_stats(Path("/nonexistent"))
    {}
    """
    out: dict[str, Any] = {}
    reflections = memory / "reflexion" / "reflections.jsonl"
    if reflections.is_file():
        rows = [json.loads(line) for line in reflections.read_text().splitlines() if line]
        out["reflections"] = {"llm": sum(r.get("source") == "llm" for r in rows),
                              "template": sum(r.get("source") == "template" for r in rows)}
    for book in sorted((memory / "insights").glob("*.json")):
        data = json.loads(book.read_text())
        out["insights"] = {"count": len(data.get("insights", [])), **data.get("stats", {})}
    if (memory / "playbooks").is_dir():
        out["playbooks"] = playbook_stats(memory / "playbooks")
    return out


def playbook_stats(folder: Path) -> dict[str, Any]:
    """Per family and document of a run's playbook folder: versions kept, the active text's
    length, the model's rewrites refused (counted by the check that refused each) and the
    versions rolled back.

    >>> playbook_stats(Path("/nonexistent"))
    {}
    """
    from memplay.agents.methods.playbook.store import DOCUMENT_NAMES, PlaybookStore

    store, out = PlaybookStore(folder), {}
    for family in store.families():
        histories = {name: store.history(family, name) for name in DOCUMENT_NAMES}
        out[family] = {name: {"versions": len(h.versions), "active_chars": len(h.current.text),
                              "rejections": dict(h.rejections), "rollbacks": h.rollbacks}
                       for name, h in histories.items()}
    return out


def training_stats(run_dir: Path) -> dict[str, Any]:
    """The weight rounds of a run (``models/rounds.jsonl``): when, on how many examples, the
    loss at the first and last step, and the seconds each took.

    >>> training_stats(Path("/nonexistent"))
    {}
    """
    from memplay.trainers.rounds import read_rounds

    keep = {"after_epoch", "status", "version", "examples", "reason", "first_loss",
            "final_loss", "seconds"}
    rounds = [r.model_dump(include=keep) for r in read_rounds(run_dir)]
    return {"train_rounds": rounds} if rounds else {}


def run_suite(name: str, variants: list[str], quick: bool, llm: Any, embedder: Any,
              out: Path, explicit: bool = False) -> dict[str, Any]:
    """Every asked variant the suite runs by default (every one named when ``explicit``),
    then the expert ceiling on the same tasks; a variant left out says so."""
    from memplay.agents import AgentConfig

    suite = SUITES[name]
    epochs, tasks = suite.quick if quick else suite.full
    max_steps = min(suite.max_steps, QUICK_MAX_STEPS) if quick else suite.max_steps
    kwargs, seeds, extra = task_setup(suite, tasks, out)
    base = AgentConfig(env_id=suite.env_id, env_kwargs=kwargs, epochs=epochs, tasks=seeds,
                       parallel_envs=min(len(seeds), 8), max_steps=max_steps, seed=0)
    rows = {}
    for variant in variants:
        if not explicit and suite.variants is not None and variant not in suite.variants:
            print(f"{name}: {variant} skipped: not in this env's default set (name it with "
                  "--variants to run it)", flush=True)
            continue
        print(f"{name}: {variant} ({epochs} epochs x {len(seeds)} tasks)", flush=True)
        try:
            rows[variant] = run_variant(variant, base, llm, embedder, out / name / variant)
        except Exception as exc:  # one broken variant must not lose the others' results
            rows[variant] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            print(f"{name}: {variant} failed: {rows[variant]['error']}", flush=True)
    two_player = suite.env_id.startswith(("TicTacToe", "KuhnPoker"))
    ceil = ceiling(suite.env_id, kwargs, seeds, max_steps, 1000 if two_player else 0)
    skipped = [v for v in all_variants() if suite.variants is not None
               and v not in suite.variants]  # by design, to fit the time budget
    return {"env_id": suite.env_id, "env_kwargs": kwargs, "seeds": seeds, "epochs": epochs,
            "max_steps": max_steps, "note": suite.note, **extra, "ceiling": ceil,
            "variants": rows, "not_run": skipped}


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Results of a partial run on top of the previous ones, variant by variant.

    >>> merge({"a": {"variants": {"x": 1, "y": 2}}}, {"a": {"variants": {"y": 3}}})
    {'a': {'variants': {'x': 1, 'y': 3}}}
    """
    merged = {k: dict(v) for k, v in old.items()}
    for env, res in new.items():
        variants = {**merged.get(env, {}).get("variants", {}), **res["variants"]}
        merged[env] = {**merged.get(env, {}), **res, "variants": variants}
    return merged


def report(results: dict[str, Any]) -> None:
    """Rich table: per env and variant, success per epoch, last epoch, cumulative, ceiling."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="success per epoch (same seeds, frozen SmolLM2-135M)")
    for col in ("env", "variant", "per epoch", "last epoch", "solved once", "ceiling",
                "wall s"):
        table.add_column(col)
    for env, res in results.items():
        for variant, m in res["variants"].items():
            if "error" in m:
                table.add_row(env, variant, m["error"][:60], "-", "-", "-", "-")
                continue
            per = " ".join(f"{v:.2f}" for v in m["success_per_epoch"] if v is not None)
            cum = [c for c in m["cumulative_success"] if c is not None]
            table.add_row(env, variant, per, f"{m['last_epoch_success']:.2f}",
                          f"{cum[-1]:.2f}" if cum else "-",
                          f"{res['ceiling']['value']:.2f}", str(m["wall_s"]))
    Console(width=150).print(table)


def plot(results: dict[str, Any], path: Path) -> None:
    """One panel per environment, one line per variant (same colour and marker in every
    panel, nudged sideways so identical curves stay visible), the expert ceiling dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = all_variants()
    cols = min(len(results), 4)
    rows = -(-len(results) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(results):]:
        ax.axis("off")
    for ax, (env, res) in zip(axes.flat, results.items()):
        for variant, m in res["variants"].items():
            if "error" in m:
                continue
            k = order.index(variant) if variant in order else len(order)
            ys = m["success_per_epoch"]
            xs = [x + 0.05 * (k - 2.5) for x in range(1, len(ys) + 1)]
            ax.plot(xs, ys, marker="os^Dvx*"[k % 7], color=f"C{k}", label=variant,
                    markersize=5, alpha=0.85)
        ax.axhline(res["ceiling"]["value"], color="grey", linestyle="--", label="ceiling")
        ax.set(title=env, xlabel="epoch", ylabel="success", ylim=(-0.05, 1.05),
               xticks=range(1, res["epochs"] + 1))
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def previous_results(path: Path, quick: bool) -> dict[str, Any]:
    """Results in an earlier JSON of the same mode; files of an older layout (no ceiling)
    or the other mode are ignored."""
    if not path.is_file():
        return {}
    old = json.loads(path.read_text())
    results = old.get("results", {}) if old.get("quick") == quick else {}
    return {k: v for k, v in results.items() if isinstance(v, dict) and "ceiling" in v}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    add_threads_arg(parser)
    parser.add_argument("--envs", nargs="+", choices=list(SUITES),
                        help=f"default: all (quick: {' '.join(QUICK_ENVS)})")
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw the PNG from the existing JSON of this mode, run nothing")
    parser.add_argument("--fresh", action="store_true",
                        help="replace the previous JSON of this mode instead of merging into it")
    parser.add_argument("--variants", nargs="+",
                        help=f"default: all (quick: {' '.join(QUICK_VARIANTS)})")
    args = parser.parse_args(argv)
    args.envs = args.envs or list(QUICK_ENVS if args.quick else SUITES)
    args.explicit_variants = args.variants is not None
    args.variants = args.variants or list(QUICK_VARIANTS if args.quick else all_variants())
    for variant in args.variants:
        if variant != TRAIN:
            try:
                get_variant(variant)
            except ConfigError as exc:
                parser.error(f"{exc}; or {TRAIN}")
    return args


def save(args: argparse.Namespace, results: dict[str, Any], started: float,
         load: list[float]) -> dict[str, Any]:
    """Merge with the previous JSON of this mode and write JSON + PNG (after every env, so
    an interrupted run keeps what it finished)."""
    path = result_path(args.out, "learning", args.quick)
    merged = merge({} if args.fresh else previous_results(path, args.quick), results)
    record = {"machine": machine(), "load_avg_at_start": load, "agent_seed": 0,
              "last_run": {"envs": args.envs, "variants": args.variants},
              "wall_s": round(time.perf_counter() - started, 1), "results": merged}
    out = write_record(args.out, "learning", args.quick, record)
    plot(merged, out.with_suffix(".png"))
    return record


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the asked envs and variants, merge with earlier results, write JSON and PNG."""
    args = parse_args(argv)
    if args.plot_only:
        path = result_path(args.out, "learning", args.quick)
        record = json.loads(path.read_text())
        plot(record["results"], path.with_suffix(".png"))
        print(f"redrew {path.with_suffix('.png')}")
        return record
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    started, load = time.perf_counter(), list(os.getloadavg())
    llm, embedder = make_llm(llm_config(args.threads)), make_embedder(AgentConfig())
    results: dict[str, Any] = {}
    for name in args.envs:
        env_start = time.perf_counter()
        results[name] = run_suite(name, args.variants, args.quick, llm, embedder,
                                  args.out / "runs" / "learning", args.explicit_variants)
        results[name]["last_run_wall_s"] = round(time.perf_counter() - env_start, 1)
        record = save(args, results, started, load)
    report(results)
    print(f"wrote {result_path(args.out, 'learning', args.quick)} and .png in "
          f"{record['wall_s']:.0f} s")
    return record


if __name__ == "__main__":
    main()
