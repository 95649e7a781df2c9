"""Self-play that converges: the mccfr variant on Kuhn poker, Leduc Hold'em and TicTacToe.

The agent plays both seats (``self_play=True``) with ``variant="mccfr"``: a strategy memory of
cumulative regrets and average strategies per information state, learned from the sampled
games by outcome-sampling MCCFR with baselines (memplay.agents.mccfr). What is measured is
the average strategy, by OpenSpiel's ``exploitability.nash_conv`` (and memplay's own best
response, which must agree).

- Kuhn poker, memory alone (the scripted LLM: a flat prior): NashConv every 500 hands up to
  20,000, three agent seeds; beside it OpenSpiel's own outcome-sampling MCCFR on the same
  numbers of hands (one OpenSpiel iteration plays two hands), three seeds.
- Kuhn poker with the embedded model in the loop (its distribution over the moves is the
  prior, asked until a state has 20 visits): the same measures, and how many decisions
  called the model.
- Leduc Hold'em, memory alone: NashConv every 25,000 hands, and OpenSpiel's MCCFR beside it.
- TicTacToe, memory alone: self-play games, then greedy games with the memory frozen (the
  average strategy's most likely move) against minimax (50 per seat) and the uniform random
  player (100 per seat); beside it the untrained agent (empty memory).

    python bench/bench_selfplay.py --quick    # small sizes (CI smoke run)
    python bench/bench_selfplay.py            # the full run (bench/README.md)
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from _common import finish, llm_config, machine, parse_embedded_args

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SIZES: dict[str, dict[str, Any]] = {
    "quick": {"kuhn": (2000, 500, 1), "kuhn_llm": (96, 32), "leduc": (4000, 2000),
              "ttt": (2000, 4, 6)},
    "full": {"kuhn": (20000, 500, 3), "kuhn_llm": (20000, 500), "leduc": (400000, 25000),
             "ttt": (100000, 50, 100)},
}
"""kuhn: (hands, measure every, seeds); kuhn_llm: (hands, measure every); leduc: (hands,
measure every); ttt: (self-play games, games per seat vs minimax, per seat vs random)."""
PARALLEL = {"KuhnPoker-v0": 32, "LeducPoker-v0": 256, "TicTacToe-v0": 256}
EVAL_SEEDS = 500_000  # evaluation games use seeds from here (self-play uses 0..games-1)
TARGETS = {"kuhn": 0.05, "kuhn_llm": 0.15, "leduc": 1.0}


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def self_play(env_id: str, llm: Any, hands: int, every: int, root: Path, seed: int = 0
              ) -> dict[str, Any]:
    """``hands`` self-play games of the mccfr agent; its measures and counts."""
    from memplay.agents import Agent

    shutil.rmtree(root, ignore_errors=True)
    agent = Agent(env_id, variant="mccfr", llm=llm, seed=seed, parallel_envs=PARALLEL[env_id],
                  self_play={"enabled": True, "measure_every": every}, trajectory_every=1000)
    started = time.perf_counter()
    try:  # other seeds play other deals too
        agent.run(epochs=1, tasks=range(seed * hands, (seed + 1) * hands), run_dir=root,
                  progress=False)
    finally:
        agent.close()
    rows = _rows(root / "selfplay" / "measures.jsonl")
    last = rows[-1]
    return {"seed": seed, "hands": hands, "wall_s": round(time.perf_counter() - started, 1),
            "curve": [{k: r[k] for k in ("games", "nash_conv", "nash_conv_openspiel",
                                          "decisions", "model_prompts")} for r in rows],
            "first": rows[0]["nash_conv_openspiel"], "last": last["nash_conv_openspiel"],
            "own_judge_gap": max(abs(r["nash_conv"] - r["nash_conv_openspiel"]) for r in rows),
            "decisions": last["decisions"], "model_prompts": last["model_prompts"],
            "model_share": last["model_prompts"] / max(last["decisions"], 1),
            "infostates": last["infostates"], "strategy": last.get("strategy")}


def openspiel_mccfr(game_name: str, checkpoints: list[int], seed: int) -> dict[str, Any]:
    """OpenSpiel's outcome-sampling MCCFR; NashConv at each number of hands (2 per
    iteration)."""
    import numpy as np
    import pyspiel
    from open_spiel.python.algorithms import exploitability, outcome_sampling_mccfr

    np.random.seed(seed)  # its sampling draws from numpy's global generator
    game = pyspiel.load_game(game_name)
    solver = outcome_sampling_mccfr.OutcomeSamplingSolver(game)
    started, done, curve = time.perf_counter(), 0, []
    for hands in checkpoints:
        while 2 * done < hands:
            solver.iteration()
            done += 1
        curve.append({"games": 2 * done,
                      "nash_conv_openspiel": exploitability.nash_conv(game,
                                                                      solver.average_policy())})
    return {"seed": seed, "curve": curve, "last": curve[-1]["nash_conv_openspiel"],
            "wall_s": round(time.perf_counter() - started, 1)}


def kuhn(size: dict[str, Any], llm: Any, root: Path) -> dict[str, Any]:
    """Memory alone (several seeds) and with the embedded model; OpenSpiel's MCCFR beside."""
    from memplay.environments.two_player.game_tree import GameTree, tree_game
    from memplay.llm.fake import ScriptedLLM

    hands, every, seeds = size["kuhn"]
    alone = [self_play("KuhnPoker-v0", ScriptedLLM(), hands, every, root / f"alone-{s}", s)
             for s in range(seeds)]
    checkpoints = [c["games"] for c in alone[0]["curve"]]
    reference = [openspiel_mccfr("kuhn_poker", checkpoints, s) for s in range(seeds)]
    llm_hands, llm_every = size["kuhn_llm"]
    with_llm = self_play("KuhnPoker-v0", llm, llm_hands, llm_every, root / "llm")
    tree = GameTree(tree_game("KuhnPoker-v0").root())
    uniform = tree.nash_conv(lambda key, actions: [1 / len(actions)] * len(actions))
    return {"alone": alone, "openspiel": reference, "llm": with_llm,
            "llm_prior": _prior_nash_conv(root / "llm", tree), "uniform": uniform}


def _prior_nash_conv(run: Path, tree: Any) -> float | None:
    """NashConv of the LLM's own prior (its mean distribution at each state it was asked)."""
    from memplay.memory.strategy_memory import StrategyMemory

    memory = StrategyMemory.load(run / "memory" / "strategy")
    if any(memory.get(key) is None or memory.get(key).prior() is None  # type: ignore[union-attr]
           for key in tree.infostates):
        return None

    def prior(key: str, actions: Any) -> list[float]:
        row = memory.get(key)
        probs = dict(zip(row.actions, row.prior()))  # type: ignore[union-attr,arg-type]
        return [probs[a] for a in actions]
    return float(tree.nash_conv(prior))


def leduc(size: dict[str, Any], root: Path) -> dict[str, Any]:
    """Memory alone, and OpenSpiel's MCCFR on the same numbers of hands."""
    from memplay.llm.fake import ScriptedLLM

    hands, every = size["leduc"]
    alone = self_play("LeducPoker-v0", ScriptedLLM(), hands, every, root / "leduc")
    alone.pop("strategy")
    checkpoints = [c["games"] for c in alone["curve"]]
    return {"alone": alone, "openspiel": openspiel_mccfr("leduc_poker", checkpoints, 0),
            "uniform": 4.747222222222224}


def _games(variant: str, opponent: str, seat: int, games: int, root: Path,
           memory: Path | None) -> dict[str, int]:
    """Greedy games with frozen memory (or uniform play) against a fixed player."""
    from memplay.agents import Agent
    from memplay.llm.fake import ScriptedLLM

    policy = {"temperature": 0.0} if memory is not None else \
        {"temperature": 1.0, "calibrate": False}
    agent = Agent("TicTacToe-v0", variant=variant, llm=ScriptedLLM(), policy=policy,
                  env_kwargs={"opponent": opponent, "player": seat},
                  parallel_envs=min(50, games), seed=seat)
    shutil.rmtree(root, ignore_errors=True)
    try:
        agent.run(epochs=1, tasks=range(EVAL_SEEDS, EVAL_SEEDS + games), run_dir=root,
                  memory_dir=memory, frozen=memory is not None, progress=False)
    finally:
        agent.close()
    rewards = [r["reward"] for r in _rows(root / "episodes.jsonl")]
    return {"wins": sum(r > 0 for r in rewards), "draws": sum(r == 0 for r in rewards),
            "losses": sum(r < 0 for r in rewards), "games": games}


def tictactoe(size: dict[str, Any], root: Path) -> dict[str, Any]:
    """Self-play, then greedy games as both seats; the untrained (uniform) player beside."""
    from memplay.agents import Agent
    from memplay.llm.fake import ScriptedLLM
    from memplay.memory.strategy_memory import StrategyMemory

    games, vs_minimax, vs_random = size["ttt"]
    train = root / "ttt"
    shutil.rmtree(train, ignore_errors=True)
    agent = Agent("TicTacToe-v0", variant="mccfr", llm=ScriptedLLM(), self_play=True,
                  parallel_envs=PARALLEL["TicTacToe-v0"], trajectory_every=1000, seed=0)
    started = time.perf_counter()
    try:
        agent.run(epochs=1, tasks=range(games), run_dir=train, progress=False)
    finally:
        agent.close()
    memory = StrategyMemory.load(train / "memory" / "strategy")
    arms: dict[str, Any] = {}
    for name, variant, memory_dir in (("self-play (mccfr, memory alone)", "mccfr",
                                       train / "memory"),
                                      ("untrained: uniform random moves", "none", None)):
        arms[name] = {f"{opp}_{'XO'[seat]}": _games(variant, opp, seat, n,
                                                    root / f"{variant}-{opp}-{seat}", memory_dir)
                      for opp, n in (("minimax", vs_minimax), ("random", vs_random))
                      for seat in (0, 1)}
    return {"games": games, "infostates": len(memory), **memory.counts, "arms": arms,
            "wall_s": round(time.perf_counter() - started, 1)}


def report(res: dict[str, Any]) -> None:
    """Print the tables bench/tables.py writes into docs/self-play.md."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from tables import kuhncurve, selfplay, tictactoe

    for table in (selfplay, kuhncurve, tictactoe):
        print("\n".join(table(res)) + "\n")


def plot(res: dict[str, Any], path: Path) -> None:
    """NashConv against hands (log-log) for Kuhn and Leduc; TicTacToe results."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, (kuhn_ax, leduc_ax, ttt_ax) = plt.subplots(1, 3, figsize=(16, 4.6))
    k = res["kuhn"]
    for i, run in enumerate(k["alone"]):
        _curve(kuhn_ax, run["curve"], "C0", "mccfr, memory alone" if i == 0 else None)
    for i, run in enumerate(k["openspiel"]):
        _curve(kuhn_ax, run["curve"], "C1", "OpenSpiel OS-MCCFR" if i == 0 else None)
    _curve(kuhn_ax, k["llm"]["curve"], "C2", "mccfr + embedded model")
    kuhn_ax.axhline(k["uniform"], color="grey", ls="--", label=f"uniform ({k['uniform']:.2f})")
    kuhn_ax.axhline(TARGETS["kuhn"], color="grey", ls=":", label="goal 0.05")
    kuhn_ax.set(title="Kuhn poker", xlabel="self-play hands", ylabel="NashConv (OpenSpiel)")
    le = res["leduc"]
    _curve(leduc_ax, le["alone"]["curve"], "C0", "mccfr, memory alone")
    _curve(leduc_ax, le["openspiel"]["curve"], "C1", "OpenSpiel OS-MCCFR")
    leduc_ax.axhline(le["uniform"], color="grey", ls="--", label=f"uniform ({le['uniform']:.2f})")
    leduc_ax.axhline(TARGETS["leduc"], color="grey", ls=":", label="goal 1.0")
    leduc_ax.set(title="Leduc Hold'em", xlabel="self-play hands")
    for ax in (kuhn_ax, leduc_ax):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.legend(fontsize=8)
    _bars(ttt_ax, res["tictactoe"]["arms"])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _curve(ax: Any, curve: list[dict[str, Any]], color: str, label: str | None) -> None:
    ax.plot([c["games"] for c in curve], [c["nash_conv_openspiel"] for c in curve],
            color=color, alpha=0.8, label=label)


def _bars(ax: Any, arms: dict[str, Any]) -> None:
    labels, rows = [], []
    for name, cells in arms.items():
        for cell, games in cells.items():
            opponent, seat = cell.split("_")
            labels.append(f"{'mccfr' if 'mccfr' in name else 'uniform'}\n{opponent}\nas {seat}")
            rows.append(games)
    bottom = [0.0] * len(rows)
    for key, color in (("wins", "C2"), ("draws", "C0"), ("losses", "C3")):
        shares = [r[key] / r["games"] for r in rows]
        ax.bar(range(len(rows)), shares, bottom=bottom, color=color, label=key)
        bottom = [b + s for b, s in zip(bottom, shares)]
    ax.set_xticks(range(len(rows)), labels, fontsize=7)
    ax.set(title="TicTacToe, greedy, memory frozen", ylabel="share of games")
    ax.legend(fontsize=8)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the four parts, print the tables, write JSON and PNG."""
    args = parse_embedded_args(__doc__, argv)
    started, load = time.perf_counter(), list(os.getloadavg())
    mode = "quick" if args.quick else "full"
    size = SIZES[mode]
    print(f"bench_selfplay ({mode}): {size}; planned under 60 minutes on 2 cores", flush=True)
    from memplay.agents.components import make_llm

    llm = make_llm(llm_config(args.threads))
    root = args.out / "runs" / ("selfplay_quick" if args.quick else "selfplay")
    res = {"kuhn": kuhn(size, llm, root / "kuhn"), "leduc": leduc(size, root),
           "tictactoe": tictactoe(size, root), "targets": TARGETS}
    report(res)
    record = {"sizes": size, "parallel_envs": PARALLEL, "machine": machine(),
              "load_avg_at_start": load, **res,
              "wall_s": round(time.perf_counter() - started, 1)}
    finish(args.out, "bench_selfplay", args.quick, record, lambda png: plot(res, png))
    return record


if __name__ == "__main__":
    main()
