"""Transfer: memory learned on some maps or levels, used frozen on others it never saw.

For each game the train and held-out task sets never share a layout
(``memplay.environments.task_sets.benchmark_split``: train from seed 0, held-out from seed
1000, with maps or levels that repeat dropped). Every row plays the same held-out tasks with
the frozen embedded SmolLM2-135M scoring actions; the rows differ in the memory they bring:

- ``none``: no memory.
- ``rag``: past episodes of the train tasks, retrieved by similarity.
- ``memrl-state``: MemRL with step memory keyed by the whole state text and averaged over
  similar states (memplay < 0.2, ``memory.step_keys=state, memory.steps.lookup=state``).
- ``memrl``: MemRL with step memory keyed by the game's portable view and looked up per
  action by kNN (Neural Episodic Control), the default.
- ``demos``: no play at all: the game's solver paths on the train tasks written into memory
  (``Agent.learn_from``), keyed like ``memrl``.
- ``demos+play``: those demos, then the agent's own play on the train tasks.

Rows that play the train tasks first (rag, memrl-state, memrl, demos+play) report their
success per train epoch too: same-task learning, next to the held-out number that is the
claim. The ceiling is the solver's success on the held-out tasks within the step cap.

    python bench/bench_transfer.py --quick                    # CI smoke run
    python bench/bench_transfer.py                            # the numbers of docs/RESULTS.md
    python bench/bench_transfer.py --games FrozenLake-4x4 --rows none memrl

A run of some games, or of some rows of a game, merges into the JSON of the same mode
(``--fresh`` replaces it), so the full benchmark runs in parts of at most one hour
(``bench/run_full.sh --group transfer-1`` to ``transfer-11``). Each finished row is saved in the
game's run folder at once (until the JSON is written); ``--resume`` plays only the rows an
interrupted run did not finish (on the same tasks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _ceilings import ceiling
from _common import (
    add_common_args,
    add_threads_arg,
    finish,
    llm_config,
    machine,
    result_path,
    wilson,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]

ROWS = ("none", "rag", "memrl-state", "memrl", "demos", "demos+play")
# row -> (variant, memory settings, learns from demos, plays the train tasks)
RECIPES: dict[str, tuple[str, dict[str, Any], bool, bool]] = {
    "none": ("none", {}, False, False),
    "rag": ("rag", {}, False, True),
    "memrl-state": ("memrl", {"step_keys": "state", "steps": {"lookup": "state"}}, False, True),
    "memrl": ("memrl", {}, False, True),
    "demos": ("memrl", {}, True, False),
    "demos+play": ("memrl", {}, True, True),
}


@dataclass(frozen=True)
class Game:
    """One game of the benchmark (each pair is (quick, full)): step cap, held-out tasks,
    train epochs; own play's train tasks and the demos' train tasks (default: as many as
    held out; the demos may come from more tasks, since a solver writes them cheaply)."""

    env_id: str
    max_steps: tuple[int, int]
    tasks: tuple[int, int]
    epochs: tuple[int, int]
    rows: tuple[str, ...] = ROWS
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    play_tasks: tuple[int, int] | None = None
    demo_tasks: tuple[int, int] | None = None
    eval_policy: dict[str, Any] = field(default_factory=dict)
    memory_from: str | None = None  # play the memory each row of that game learned, frozen
    task_seeds: Callable[[bool], tuple[list[int], list[int]]] | None = None  # (train, held-out)

    def sizes(self, quick: bool) -> tuple[int, int, int]:
        """(held-out tasks, own-play train tasks, demo train tasks) of this mode.

        >>> Game("x", (1, 2), (2, 32), (1, 3), demo_tasks=(4, 256)).sizes(False)
        (32, 32, 256)
        """
        pick = 0 if quick else 1
        play = (self.play_tasks or self.tasks)[pick]
        demos = self.demo_tasks[pick] if self.demo_tasks else play
        return self.tasks[pick], play, demos


# A standard XSB collection (not shipped: David W. Skinner's Microban, free to share with
# credit, is the one measured); Sokoban-XSB plays it with the memory Sokoban-gen learned.
XSB = Path(os.environ.get("MEMPLAY_XSB", ROOT / ".cache" / "sokoban" / "Microban.xsb"))


def xsb_levels(path: Path, boxes: int = 3, moves: int = 60) -> list[int]:
    """Indices of the levels of an XSB file with at most ``boxes`` boxes whose shortest
    solution takes at most ``moves`` moves (a fixed rule, chosen before any result).

    >>> xsb_levels(Path("/nonexistent.xsb"))
    Traceback (most recent call last):
    ...
    SystemExit: Sokoban-XSB needs an XSB level file at /nonexistent.xsb (set MEMPLAY_XSB)
    """
    from memplay.environments.sokoban.solver import solve
    from memplay.environments.sokoban.xsb import read_xsb

    if not path.is_file():
        raise SystemExit(f"Sokoban-XSB needs an XSB level file at {path} (set MEMPLAY_XSB)")
    chosen = []
    for index, level in enumerate(read_xsb(path)):
        if len(level.boxes) <= boxes:
            moves_needed = solve(level, max_states=200_000)
            if moves_needed is not None and len(moves_needed) <= moves:
                chosen.append(index)
    return chosen


# The frozen held-out runs of the games measured since issue 36 are greedy and count no
# memory visits as novelty (as bench_alfworld's): a visit count in memory written from demos
# or earlier play says how often something was done, and a bonus for rare ones sends a frozen
# agent where it was seldom right; the games measured before keep the default policy.
GREEDY: dict[str, Any] = {"temperature": 0.0, "memory_novelty": False}
# Sized to fit two groups of at most 60 minutes on 2 idle cores (bench/run_full.sh).
GAMES: dict[str, Game] = {
    "FrozenLake-4x4": Game("FrozenLake-random-v0", (6, 12), (2, 32), (1, 4),
                           note="random 4x4 maps (Gymnasium's generator, p=0.8)"),
    "FrozenLake-8x8": Game("FrozenLake-random-8x8-v0", (10, 40), (2, 16), (1, 4),
                           rows=("none", "memrl", "demos", "demos+play"),
                           note="random 8x8 maps"),
    "Sokoban-gen": Game("Sokoban-gen-v0", (8, 40), (2, 64), (1, 3),
                        rows=("none", "memrl-state", "memrl", "demos", "demos+play"),
                        play_tasks=(2, 32), demo_tasks=(4, 256), eval_policy=GREEDY,
                        note="generated 7x7 levels with 2 boxes, solvable by BFS"),
    "TextWorld-gen": Game("TextWorld-gen-v0", (6, 20), (2, 64), (1, 3),
                          rows=("none", "memrl-state", "memrl", "demos", "demos+play"),
                          env_kwargs={"rooms": 3, "objects": 4, "quest_length": 3},
                          play_tasks=(2, 32), demo_tasks=(4, 128), eval_policy=GREEDY,
                          note="TextWorld's generator: 3 rooms, 4 objects, 3-step quests; "
                               "the default view"),
    "Sokoban-XSB": Game("Sokoban-v0", (5, 40), (2, 0), (1, 0),
                        rows=("none", "memrl", "demos", "demos+play"),
                        env_kwargs={"levels_file": str(XSB), "levels_by_seed": True,
                                    "actions": "push"},
                        eval_policy=GREEDY, memory_from="Sokoban-gen",
                        task_seeds=lambda quick: ([], xsb_levels(XSB)[:2 if quick else None]),
                        note="Microban levels with at most 3 boxes and solutions of at most 60 "
                             "moves, one push per action, played with Sokoban-gen's memory"),
    "Minesweeper": Game("Minesweeper-v0", (6, 15), (2, 32), (1, 3),
                        rows=("none", "memrl-state", "memrl"), env_kwargs={"flags": False},
                        note="5x5 boards, 4 mines, reveal only (no solver: no demo rows)"),
}
QUICK_GAMES = ("FrozenLake-4x4",)
LATER = {"Sokoban-XSB"}  # games asked for by name only (they reuse another game's memory)
LLMS = {"embedded": "bench_transfer", "flat": "bench_transfer_flat"}  # --llm -> JSON name


def _agent(game: Game, row: str, llm: Any, embedder: Any, max_steps: int,
           policy: dict[str, Any] | None = None) -> Any:
    from memplay.agents import Agent

    variant, memory, _, _ = RECIPES[row]
    return Agent(game.env_id, variant=variant, llm=llm, embedder=embedder, seed=0,
                 env_kwargs=game.env_kwargs, max_steps=max_steps, parallel_envs=8,
                 memory={"embedder": "default", **memory}, policy=policy or {})


def run_row(game: Game, row: str, sets: tuple[list[int], list[int]], quick: bool, llm: Any,
            embedder: Any, root: Path) -> dict[str, Any]:
    """Teach (demos, then own play on the train tasks), then play the held-out tasks."""
    from memplay.environments.demos import solver_demo_episodes

    train, held_out = sets
    _, play_n, demo_n = game.sizes(quick)
    _, _, demos, plays = RECIPES[row]
    steps, epochs = game.max_steps[not quick], game.epochs[not quick]
    shutil.rmtree(root, ignore_errors=True)  # a left-over run dir would be resumed
    started, out = time.perf_counter(), {}
    if game.memory_from:
        demos = plays = _borrow_memory(root, game.memory_from, row)
    agent = _agent(game, row, llm, embedder, steps)
    try:
        if demos:
            paths = solver_demo_episodes(game.env_id, train[:demo_n], **game.env_kwargs)
            learned = agent.learn_from(paths, root / "memory")
            out["demos"] = {"episodes": learned.episodes, "steps": learned.steps}
        if plays:
            result = agent.run(epochs=epochs, tasks=train[:play_n], run_dir=root / "train",
                               memory_dir=root / "memory", progress=False)
            out["train"] = result.success_per_epoch
        agent.close()
        if game.eval_policy:  # the frozen evaluation plays with its own policy settings
            agent = _agent(game, row, llm, embedder, steps, game.eval_policy)
        held = agent.run(epochs=1, tasks=held_out, run_dir=root / "held_out", progress=False,
                         memory_dir=root / "memory", frozen=True)
    finally:
        agent.close()
    wins = round(held.metrics["success_rate"] * len(held_out))
    return {**out, "held_out": held.metrics["success_rate"], "n": len(held_out),
            "model_call_fraction": held.metrics.get("model_call_fraction"),
            "interval": wilson(wins, len(held_out)),
            "known_share": held_out_known_share(root, RECIPES[row][1]),
            "wall_s": round(time.perf_counter() - started, 1)}


def _borrow_memory(root: Path, source: str, row: str) -> bool:
    """Copy the memory the same row of game ``source`` learned (its run folder beside this
    one) into ``root``; False, so the row teaches nothing itself."""
    learned = root.parent.parent / source / row / "memory"
    if row != "none":
        if not (learned / "steps").is_dir():
            raise SystemExit(f"{learned} is missing: run {source}'s {row!r} row first")
        shutil.copytree(learned, root / "memory", ignore=shutil.ignore_patterns("*.lock"))
    return False


def held_out_known_share(root: Path, memory: dict[str, Any]) -> float | None:
    """:func:`known_share` of a row's held-out run; for memory keyed by the whole state text
    (``memrl-state``), :func:`known_state_share`, as there a step's visits also count the
    neighbours its values were borrowed from."""
    played = root / "held_out" / "trajectories.jsonl"
    if memory.get("step_keys") == "state":
        return known_state_share(played, root / "memory" / "steps" / "states.jsonl")
    return known_share(played)


def known_state_share(path: Path, states: Path) -> float | None:
    """Share of the decisions in ``path`` (a run's ``trajectories.jsonl``) made from a state
    that step memory (its ``states.jsonl``, frozen while those decisions were made) holds
    with at least one tried action: the exact keys of memory keyed by the state text.

    >>> known_state_share(Path("/nonexistent/t.jsonl"), Path("/nonexistent/s.jsonl")) is None
    True
    """
    if not path.is_file() or not states.is_file():
        return None
    from memplay.memory.step_memory import read_step_rows

    known = {row["state"] for row in read_step_rows(states)
             if any(stat["visits"] > 0 for stat in row["actions"].values())}
    return _share([info.get("state") in known for info in _step_infos(path)])


def known_share(path: Path) -> float | None:
    """Share of the decisions in a run's ``trajectories.jsonl`` where step memory had an
    exact (kind, context) entry for at least one admissible action (None without steps).

    >>> known_share(Path("/nonexistent/trajectories.jsonl")) is None
    True
    """
    if not path.is_file():
        return None
    return _share([int(info.get("visits", 0)) > 0 for info in _step_infos(path)])


def _step_infos(path: Path) -> list[dict[str, Any]]:
    """The ``info`` of every step in a run's ``trajectories.jsonl``, in order."""
    return [step.get("info", {}) for line in path.read_text().splitlines() if line.strip()
            for step in json.loads(line).get("steps", [])]


def _share(hits: list[bool]) -> float | None:
    """The fraction of ``hits`` that are true, to 3 places (None when there are none)."""
    return round(sum(hits) / len(hits), 3) if hits else None


def other_rows(earlier: dict[str, Any] | None, sets: tuple[list[int], list[int]],
               asked: list[str]) -> dict[str, Any]:
    """The rows of a game's earlier record that this run does not play, if that record
    played the same train and held-out tasks (so a game can be measured a few rows at a
    time: ``run_full.sh``'s transfer groups).

    >>> old = {"train_seeds": [0], "held_out_seeds": [1000], "rows": {"none": {}, "memrl": {}}}
    >>> list(other_rows(old, ([0], [1000]), ["memrl"])), other_rows(old, ([1], [1000]), [])
    (['none'], {})
    """
    if not earlier or [earlier.get("train_seeds"), earlier.get("held_out_seeds")] != [
            list(sets[0]), list(sets[1])]:
        return {}
    return {row: m for row, m in earlier.get("rows", {}).items() if row not in asked}


def finished_rows(path: Path, sets: tuple[list[int], list[int]]) -> dict[str, Any]:
    """Rows an interrupted run of this game finished (``rows.json`` beside their run dirs),
    kept only if they played the same train and held-out tasks.

    >>> finished_rows(Path("/nonexistent/rows.json"), ([0], [1000]))
    {}
    """
    if not path.is_file():
        return {}
    saved = json.loads(path.read_text())
    return saved["rows"] if saved.get("sets") == [list(sets[0]), list(sets[1])] else {}


def run_game(name: str, rows: list[str], quick: bool, llm: Any, embedder: Any,
             root: Path, resume: bool = False, earlier: dict[str, Any] | None = None,
             ) -> dict[str, Any]:
    """Every asked row of one game, on the same train and held-out tasks. Each finished row
    is saved at once to ``root/name/rows.json``; ``resume`` keeps the rows found there.
    ``earlier`` (the game's record in the JSON) keeps its rows that were not asked for now."""
    from memplay._atomic import write_text_atomic
    from memplay.environments.task_sets import benchmark_split

    game = GAMES[name]
    held_n, play_n, demo_n = game.sizes(quick)
    if game.task_seeds is not None:
        train, held_out = game.task_seeds(quick)
    else:
        train, held_out = benchmark_split(game.env_id, count=max(play_n, demo_n),
                                          held_out_count=held_n, **game.env_kwargs)
    saved = root / name / "rows.json"
    results: dict[str, Any] = finished_rows(saved, (train, held_out)) if resume else {}
    for row in [r for r in rows if r in game.rows and r not in results]:
        print(f"{name}: {row}", flush=True)
        results[row] = run_row(game, row, (train, held_out), quick, llm, embedder,
                               root / name / row)
        print(f"{name}: {row}: held-out {results[row]['held_out']:.2f} "
              f"({results[row]['wall_s']:.0f} s)", flush=True)
        write_text_atomic(saved, json.dumps({"sets": [train, held_out], "rows": results}))
    results = {**other_rows(earlier, (train, held_out), rows), **results}
    results = {r: results[r] for r in ROWS if r in results}  # the table's row order
    cap = game.max_steps[not quick]
    return {"env_id": game.env_id, "env_kwargs": game.env_kwargs, "note": game.note,
            "train_seeds": train, "held_out_seeds": held_out, "max_steps": cap,
            "train_epochs": game.epochs[not quick], "rows": results,
            "ceiling": ceiling(game.env_id, game.env_kwargs, held_out, cap),
            "wall_s": round(sum(r["wall_s"] for r in results.values()), 1),
            "load_avg_at_end": list(os.getloadavg())}


def previous_games(path: Path, quick: bool) -> dict[str, Any]:
    """Games of an earlier JSON of the same mode (runs of some games merge into it);
    records of an older layout (no per-game wall time) are ignored.

    >>> previous_games(Path("/nonexistent.json"), False)
    {}
    """
    if not path.is_file():
        return {}
    old = json.loads(path.read_text())
    results = old.get("results", {}) if old.get("quick") == quick else {}
    return {k: v for k, v in results.items() if isinstance(v, dict) and "wall_s" in v}


def report(results: dict[str, Any], llm: str = "embedded") -> None:
    """Rich table: held-out success of every row, train success per epoch beside it."""
    from rich.console import Console
    from rich.table import Table

    scorer = "embedded SmolLM2-135M" if llm == "embedded" else "flat LLM scores"
    table = Table(title=f"held-out success with frozen memory ({scorer})")
    for col in ("game", "row", "held-out", "train (same tasks) per epoch", "ceiling", "wall s"):
        table.add_column(col)
    for game, res in results.items():
        for row, m in res["rows"].items():
            train = " ".join(f"{v:.2f}" for v in m.get("train", []) if v is not None)
            table.add_row(game, row, f"{m['held_out']:.2f}", train or "-",
                          f"{res['ceiling']['value']:.2f}", str(m["wall_s"]))
    Console(width=140).print(table)


def plot(results: dict[str, Any], path: Path) -> None:
    """One panel per game: held-out success of each row, the ceiling dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6), squeeze=False)
    for ax, (game, res) in zip(axes[0], results.items()):
        rows = list(res["rows"])
        ax.bar(rows, [res["rows"][r]["held_out"] for r in rows],
               color=[f"C{ROWS.index(r)}" for r in rows])
        ax.axhline(res["ceiling"]["value"], color="grey", linestyle="--", label="ceiling")
        ax.set(title=game, ylabel="held-out success", ylim=(0, 1.05))
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    add_threads_arg(parser)
    parser.add_argument("--games", nargs="+", choices=list(GAMES),
                        help=f"default: all (quick: {' '.join(QUICK_GAMES)})")
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS))
    parser.add_argument("--fresh", action="store_true",
                        help="replace the JSON instead of merging these games into it")
    parser.add_argument("--llm", choices=list(LLMS), default="embedded",
                        help="embedded: SmolLM2-135M scores actions (the README's rows); flat: "
                             "every action scored alike, so memory decides alone (minutes "
                             "instead of hours; its own JSON, bench_transfer_flat)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the rows an interrupted run of a game finished (saved in "
                             "its run folder) and play only the others")
    args = parser.parse_args(argv)
    every = [g for g in GAMES if g not in LATER]
    args.games = args.games or list(QUICK_GAMES if args.quick else every)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the asked games and rows, print the table, write JSON and PNG."""
    args = parse_args(argv)
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    started, load = time.perf_counter(), list(os.getloadavg())
    llm = make_llm(llm_config(args.threads) if args.llm == "embedded" else AgentConfig(
        llm="scripted"))
    embedder = make_embedder(AgentConfig())
    stem = LLMS[args.llm]
    root = args.out / "runs" / (stem.replace("bench_", "") + ("_quick" if args.quick else ""))
    path = result_path(args.out, stem, args.quick)
    results = {} if args.fresh else previous_games(path, args.quick)
    for name in args.games:  # rows played now replace those rows of its earlier result
        results[name] = run_game(name, args.rows, args.quick, llm, embedder, root,
                                 args.resume, results.get(name))
    report(results, args.llm)
    # the wall time is the sum over games: a merged record took that long, in parts
    record = {"agent_seed": 0, "llm": args.llm, "machine": machine(), "load_avg_at_start": load,
              "results": results, "wall_s": round(sum(g["wall_s"] for g in results.values()), 1),
              "this_run_s": round(time.perf_counter() - started, 1)}
    finish(args.out, stem, args.quick, record, lambda png: plot(results, png))
    for name in args.games:  # recorded: a later --resume must not reuse these rows
        (root / name / "rows.json").unlink(missing_ok=True)
    return record


if __name__ == "__main__":
    main()
