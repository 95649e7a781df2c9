"""Self-play: exact Kuhn poker exploitability per epoch, and TicTacToe against fixed players.

Kuhn poker: the MemRL agent (embedded SmolLM2-135M scoring actions + step memory) plays both
seats against itself (``self_play=True``); after every epoch the strategy its policy induces
over the 12 information sets is read off the policy (LLM scores + memory + novelty bonus, the
softmax temperature) and its NashConv is computed exactly by best response
(:mod:`memplay.environments.kuhn_exploitability`). Beside it: the uniformly random strategy,
an equilibrium (0) and the LLM alone (variant none).

TicTacToe: the same agent learns by self-play, then plays greedily (temperature 0) with its
memory frozen against the random and the minimax player (its seat drawn per game); the
memory-off agent (variant none, same LLM) plays the same games. A third arm, memory alone
(the scripted LLM, whose scores are all equal, so only memory decides), learns from many more
self-play games than the embedded model can play in the budget, to show where the learning
rule goes with more experience.

    python bench/bench_selfplay.py --quick    # a few games of each (CI smoke run)
    python bench/bench_selfplay.py            # the full run (see bench/README.md)
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

SIZES: dict[str, dict[str, Any]] = {
    # kuhn: (epochs, hands per epoch); ttt: (epochs, games per epoch);
    # evaluation: (games vs random, games vs minimax, games per opponent with memory off);
    # model_free: TicTacToe self-play (epochs, games) with the scripted LLM
    "quick": {"kuhn": (2, 4), "ttt": (1, 4), "evaluation": (4, 4, 2), "model_free": (1, 8),
              "parallel": 4},
    "full": {"kuhn": (10, 32), "ttt": (10, 16), "evaluation": (100, 50, 50),
             "model_free": (50, 64), "parallel": 16},
}
EVAL_SEEDS = 5000  # evaluation games use seeds from here (self-play uses 0..games-1)
SHORT = {"self-play + memory (embedded model)": "self-play",
         "memory off (embedded model)": "memory off",
         "self-play + memory alone (scripted LLM)": "memory alone"}


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def kuhn(llm: Any, embedder: Any, size: dict[str, Any], root: Path) -> dict[str, Any]:
    """Self-play on Kuhn poker; NashConv after every epoch, and the reference strategies."""
    from memplay.agents import Agent
    from memplay.agents.kuhn_policy import measure
    from memplay.environments.kuhn_exploitability import nash_conv, uniform_strategy

    epochs, hands = size["kuhn"]
    started = time.perf_counter()
    agent = Agent("KuhnPoker-v0", variant="memrl", llm=llm, embedder=embedder, self_play=True,
                  parallel_envs=min(size["parallel"], hands), seed=0)
    shutil.rmtree(root, ignore_errors=True)
    try:
        agent.run(epochs=epochs, tasks=range(hands), run_dir=root, progress=False)
    finally:
        agent.close()
    rows = _rows(root / "selfplay" / "measures.jsonl")
    curve = [r["nash_conv"] for r in rows]
    alone = Agent("KuhnPoker-v0", variant="none", llm=llm, embedder=embedder)
    llm_alone = measure(alone.context(root / "none"))
    tail = curve[-3:]
    return {"epochs": epochs, "hands_per_epoch": hands, "nash_conv_per_epoch": curve,
            "first": curve[0], "last": curve[-1], "best": min(curve),
            "last_over_first": curve[-1] / curve[0] if curve[0] else None,
            "mean_last3_over_first": sum(tail) / len(tail) / curve[0] if curve[0] else None,
            "random": nash_conv(uniform_strategy()), "equilibrium": 0.0,
            "llm_alone": llm_alone["nash_conv"], "llm_alone_strategy": llm_alone["strategy"],
            "last_strategy": rows[-1]["strategy"],
            "wall_s": round(time.perf_counter() - started, 1)}


def play_against(opponent: str, games: int, root: Path, llm: Any, embedder: Any,
                 variant: str, memory_dir: Path | None) -> dict[str, Any]:
    """Greedy games against a fixed player, memory frozen; wins, draws and losses."""
    from memplay.agents import Agent

    agent = Agent("TicTacToe-v0", variant=variant, llm=llm, embedder=embedder, seed=1,
                  env_kwargs={"opponent": opponent, "player": "random"},
                  memory={"step_exact": True}, policy={"temperature": 0.0},
                  parallel_envs=min(20, games))
    shutil.rmtree(root, ignore_errors=True)
    try:
        agent.run(epochs=1, tasks=range(EVAL_SEEDS, EVAL_SEEDS + games), run_dir=root,
                  memory_dir=memory_dir, frozen=memory_dir is not None, progress=False)
    finally:
        agent.close()
    rewards = [r["reward"] for r in _rows(root / "episodes.jsonl")]
    counts = {"wins": sum(r > 0 for r in rewards), "draws": sum(r == 0 for r in rewards),
              "losses": sum(r < 0 for r in rewards)}
    return {**counts, "games": games, **{f"{k}_rate": v / games for k, v in counts.items()}}


def self_play_ttt(epochs: int, games: int, root: Path, llm: Any, embedder: Any,
                  parallel: int) -> dict[str, Any]:
    """TicTacToe self-play; the share of drawn games per epoch (perfect play draws)."""
    from memplay.agents import Agent

    agent = Agent("TicTacToe-v0", variant="memrl", llm=llm, embedder=embedder, self_play=True,
                  parallel_envs=min(parallel, games), seed=0)
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    try:
        agent.run(epochs=epochs, tasks=range(games), run_dir=root, progress=False)
    finally:
        agent.close()
    rows = _rows(root / "episodes.jsonl")
    draws = [sum(r["reward"] == 0 for r in rows if r["epoch"] == e) / games
             for e in range(epochs)]
    return {"epochs": epochs, "games_per_epoch": games, "draws_per_epoch": draws,
            "wall_s": round(time.perf_counter() - started, 1)}


def tictactoe(llm: Any, embedder: Any, size: dict[str, Any], root: Path) -> dict[str, Any]:
    """Self-play, then games against random and minimax; memory off and memory alone too."""
    from memplay.agents.llm.fake import ScriptedLLM
    from memplay.memory import HashEmbedder

    vs_random, vs_minimax, off_games = size["evaluation"]
    arms: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    train = self_play_ttt(*size["ttt"], root / "ttt", llm, embedder, size["parallel"])
    memory = root / "ttt" / "memory"
    arms["self-play + memory (embedded model)"] = {
        "training": train,
        "random": play_against("random", vs_random, root / "r", llm, embedder, "memrl", memory),
        "minimax": play_against("minimax", vs_minimax, root / "m", llm, embedder, "memrl",
                                memory)}
    arms["memory off (embedded model)"] = {
        opp: play_against(opp, off_games, root / f"off-{opp}", llm, embedder, "none", None)
        for opp in ("random", "minimax")}
    scripted, hashed = ScriptedLLM(), HashEmbedder(256)
    train = self_play_ttt(*size["model_free"], root / "mf", scripted, hashed, 16)
    arms["self-play + memory alone (scripted LLM)"] = {
        "training": train, **{
            opp: play_against(opp, n, root / f"mf-{opp}", scripted, hashed, "memrl",
                              root / "mf" / "memory")
            for opp, n in (("random", vs_random), ("minimax", vs_minimax))}}
    return {"arms": arms, "wall_s": round(time.perf_counter() - started, 1)}


def report(res: dict[str, Any]) -> None:
    """Rich tables: NashConv per epoch; game results per arm."""
    from rich.console import Console
    from rich.table import Table

    k = res["kuhn"]
    table = Table(title="Kuhn poker self-play: NashConv of the policy (0 = equilibrium)")
    for col in ("epoch", *[str(i + 1) for i in range(len(k["nash_conv_per_epoch"]))]):
        table.add_column(col)
    table.add_row("self-play + memory", *[f"{v:.3f}" for v in k["nash_conv_per_epoch"]])
    console = Console(width=140)
    console.print(table)
    console.print(f"first {k['first']:.3f} -> last {k['last']:.3f} (x{k['last_over_first']:.2f}"
                  f"; mean of the last 3 x{k['mean_last3_over_first']:.2f}); random "
                  f"{k['random']:.3f}, LLM alone {k['llm_alone']:.3f}, equilibrium 0")
    games = Table(title="TicTacToe, greedy, memory frozen (wins/draws/losses)")
    for col in ("agent", "vs random", "vs minimax", "self-play games"):
        games.add_column(col)
    for name, arm in res["tictactoe"]["arms"].items():
        cells = [f"{arm[o]['wins']}/{arm[o]['draws']}/{arm[o]['losses']}"
                 for o in ("random", "minimax")]
        train = arm.get("training")
        played = str(train["epochs"] * train["games_per_epoch"]) if train else "-"
        games.add_row(name, *cells, played)
    console.print(games)


def plot(res: dict[str, Any], path: Path) -> None:
    """NashConv per epoch with its references; TicTacToe result shares per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = res["kuhn"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    xs = range(1, len(k["nash_conv_per_epoch"]) + 1)
    left.plot(xs, k["nash_conv_per_epoch"], marker="o", label="self-play + memory")
    for name, value, style in (("uniform random", k["random"], "--"),
                               ("LLM alone", k["llm_alone"], ":"),
                               ("equilibrium", 0.0, "-")):
        left.axhline(value, linestyle=style, color="grey", label=f"{name} ({value:.2f})")
    left.set(xlabel="epoch", ylabel="NashConv", title="Kuhn poker: exploitability per epoch")
    left.xaxis.get_major_locator().set_params(integer=True)
    left.legend(fontsize=8)
    arms = res["tictactoe"]["arms"]
    short = {name: SHORT.get(name, name[:12]) for name in arms}
    labels = [f"{short[n]}\nvs {o}" for n in arms for o in ("random", "minimax")]
    rows = [arms[n][o] for n in arms for o in ("random", "minimax")]
    bottom = [0.0] * len(rows)
    for key, color in (("wins_rate", "C2"), ("draws_rate", "C0"), ("losses_rate", "C3")):
        values = [r[key] for r in rows]
        right.bar(range(len(rows)), values, bottom=bottom, color=color, label=key[:-5])
        bottom = [b + v for b, v in zip(bottom, values)]
    right.set_xticks(range(len(rows)), labels, fontsize=7)
    right.set(ylabel="share of games", title="TicTacToe, greedy, memory frozen")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both games, print the tables, write JSON and PNG."""
    args = parse_embedded_args(__doc__, argv)
    started, load = time.perf_counter(), list(os.getloadavg())
    size = SIZES["quick" if args.quick else "full"]
    llm, embedder = embedded_parts(args.threads)
    root = args.out / "runs" / ("selfplay_quick" if args.quick else "selfplay")
    res = {"kuhn": kuhn(llm, embedder, size, root / "kuhn"),
           "tictactoe": tictactoe(llm, embedder, size, root / "tictactoe")}
    report(res)
    record = {"sizes": size, "agent_seed": 0, "machine": machine(), "load_avg_at_start": load,
              **res, "wall_s": round(time.perf_counter() - started, 1)}
    finish(args.out, "bench_selfplay", args.quick, record, lambda png: plot(res, png))
    return record


if __name__ == "__main__":
    main()
