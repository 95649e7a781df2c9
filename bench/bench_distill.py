"""Distillation: memory learns on train maps, the weights learn from memory, both are scored.

FrozenLake 4x4 random maps (Gymnasium's generator, p=0.8), the benchmark's split
(``benchmark_split``: 32 train maps from seed 0, 32 held-out maps from seed 1000, no map in
both), 12 steps an episode, the embedded SmolLM2-135M with a LoRA trained by TRL. Parts
(each merges into the JSON, so the full benchmark runs as run_full groups of <= 60 min):

- ``rounds`` (expert iteration on own play): round r plays the train maps for ``epochs``
  epochs with memory on (``memrl``; from round 2 on with the version round r-1 trained,
  played as trained), then distils memory into the weights (recipe ``memory-greedy``: memory's
  greedy action in every situation the run visited; SFT from the previous version), then
  scores the held-out maps three ways: the new version alone (memory off), memory alone
  (flat LLM scores), both. The base model alone is scored once, before round 1.
- ``demos`` (solver demos): the BFS solver's paths on the train maps, distilled by recipe
  ``demos`` into a fresh LoRA on the base model; held-out: that model alone, the demos'
  memory alone, both.
- ``new-maps``: memory learns the 32 held-out maps from empty memory, with the base model
  and with the last ``rounds`` version (played as trained); success per epoch and the first
  epoch reaching 0.8.
- ``kuhn``: Kuhn poker: the mccfr agent self-plays 20000 hands with memory alone (the scripted
  flat LLM, seed 0, as bench_selfplay's first seed), then its average strategy is distilled
  (recipe ``average-strategy``, read from the run's strategy memory) into a fresh LoRA; the
  model alone's exact NashConv next to the base model's and the memory's own.
- ``alfworld-train`` / ``alfworld-eval`` (ALFWorld, a point of the curve per chunk): one more
  chunk of training on the train walkthroughs, continuing from the last chunk's weights
  (``--alfworld-restart``: from the base model, the recorded chunks dropped); the last
  chunk's model alone on bench_alfworld's 42 valid_seen games.

Every success number is on held-out maps unless it says train, with n and a 95% Wilson
interval. Training wall times are measured under the CPU lock.

    python bench/bench_distill.py --quick                 # CI smoke: 2 maps, tiny rounds
    python bench/bench_distill.py --parts rounds          # run_full group distill-1
    python bench/bench_distill.py --parts demos new-maps  # distill-2 (needs distill-1's model)
    python bench/bench_distill.py --parts alfworld-train --alfworld-restart  # distill-3
    python bench/bench_distill.py --parts alfworld-eval   # distill-4: score the last chunk
    python bench/bench_distill.py --parts alfworld-train  # distill-5: train one chunk more
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from _common import add_common_args, finish, machine, result_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ENV = "FrozenLake-random-v0"
PARTS = ("rounds", "demos", "new-maps", "kuhn", "alfworld-train", "alfworld-eval")


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """Sizes of this mode (the JSON records them)."""
    full = not args.quick
    return {"env_id": ENV, "maps": 32 if full else 2, "max_steps": 12 if full else 6,
            "parallel_envs": 8, "rounds": args.rounds or (3 if full else 1),
            "epochs": args.epochs or 1, "new_map_epochs": 4 if full else 1,
            "threads": args.threads, "reach": 0.8, "alfworld_minutes": args.alfworld_minutes,
            "alfworld_demos_per_type": 50 if full else 1,
            "train": {"learning_rate": args.lr, "lora_r": 16, "lora_alpha": 32,
                      "batch_size": 8, "epochs": args.train_epochs if full else 1,
                      "max_steps": args.train_steps or (100 if full else 2),
                      "warmup_steps": 10 if full else 0, "lr_scheduler_type": "linear",
                      "max_seconds": args.train_minutes * 60 if full and args.train_minutes
                      else None}}


class Bench:
    """The shared pieces: one embedded LLM (reloaded per model), MiniLM, a flat LLM."""

    def __init__(self, cfg: dict[str, Any], work: Path) -> None:
        from memplay.agents.components import make_embedder, make_llm
        from memplay.agents.config import AgentConfig
        from memplay.environments.task_sets import benchmark_split

        self.cfg, self.work = cfg, work
        self.llm = make_llm(AgentConfig(llm_kwargs={"num_threads": cfg["threads"]}))
        self.flat = make_llm(AgentConfig(llm="scripted"))
        self.embedder = make_embedder(AgentConfig())
        self.train, self.held_out = benchmark_split(ENV, count=cfg["maps"])

    def agent(self, variant: str, model: Path | None, llm: Any = None) -> Any:
        from memplay.agents import Agent
        from memplay.agents.distill.play import play_overrides

        if llm is None:
            self.llm.reload(model)
        return Agent(ENV, variant=variant, llm=llm or self.llm, embedder=self.embedder, seed=0,
                     max_steps=self.cfg["max_steps"], parallel_envs=self.cfg["parallel_envs"],
                     memory={"embedder": "default"}, **play_overrides(model))

    def play(self, run: Path, model: Path | None, epochs: int, tasks: list[int]
             ) -> list[float]:
        """Memory on, learning: play (or resume) ``run`` up to ``epochs`` epochs."""
        agent = self.agent("memrl", model)
        try:
            result = agent.run(epochs=epochs, tasks=tasks, run_dir=run, progress=False)
        finally:
            agent.close()
        return [round(v or 0.0, 4) for v in result.success_per_epoch]

    def score(self, name: str, model: Path | None, memory: Path | None, flat: bool = False
              ) -> dict[str, Any]:
        """One held-out row, frozen: ``model`` alone, with ``memory``, or memory alone."""
        from memplay.agents.distill.evaluate import LearnerScore

        agent = self.agent("memrl" if memory else "none", model, self.flat if flat else None)
        started = time.perf_counter()
        try:
            result = agent.run(epochs=1, tasks=self.held_out, run_dir=self.work / "eval" / name,
                               memory_dir=memory, frozen=True, progress=False)
        finally:
            agent.close()
        shutil.rmtree(self.work / "eval" / name, ignore_errors=True)
        solved = round((result.success_per_epoch[0] or 0.0) * len(self.held_out))
        row = LearnerScore(name, "alone" if flat else ("on" if memory else "off"),
                           len(self.held_out), solved, round(time.perf_counter() - started, 1))
        print(f"  {name}: {solved}/{len(self.held_out)} held-out ({row.seconds:.0f} s)",
              flush=True)
        return row.to_dict()

    def trainer_config(self) -> Any:
        from memplay.trainers.sft_config import SFTConfig

        return SFTConfig(device="cpu", num_threads=self.cfg["threads"], seed=0,
                         **self.cfg["train"])

    def learners(self, tag: str, model: Path, memory: Path) -> dict[str, Any]:
        """Model alone, memory alone, both: the three held-out rows of one version."""
        return {"model_alone": self.score(f"{tag}-model", model, None),
                "memory_alone": self.score(f"{tag}-memory", None, memory, flat=True),
                "both": self.score(f"{tag}-both", model, memory)}


def version_row(version: Any) -> dict[str, Any]:
    """What the JSON keeps of a trained version."""
    return {"path": version.path, "recipe": version.recipe, "examples": version.examples,
            "steps": version.steps, "tokens": version.tokens, "data": version.data,
            "losses": [round(x, 4) for x in version.losses], "train_s": round(version.seconds, 1)}


def part_rounds(b: Bench) -> dict[str, Any]:
    """Play -> distil -> score, ``rounds`` times, on one run directory."""
    from memplay.agents.distill.round import distil_round

    run = b.work / "rounds"
    shutil.rmtree(run, ignore_errors=True)
    out: dict[str, Any] = {"base": {"model_alone": b.score("base-model", None, None)},
                           "rounds": []}
    model: Path | None = None
    for r in range(1, b.cfg["rounds"] + 1):
        print(f"round {r}: play", flush=True)
        started = time.perf_counter()
        train = b.play(run, model, r * b.cfg["epochs"], b.train)
        play_s = time.perf_counter() - started
        version = distil_round(run, "memory-greedy", b.trainer_config(), embedder=b.embedder,
                               step_memory=None)
        model = Path(version.path)
        print(f"round {r}: {version.examples} examples, loss {version.losses[0]:.3f} -> "
              f"{version.losses[-1]:.3f}, {version.seconds:.0f} s", flush=True)
        out["rounds"].append({"round": r, "train_success_per_epoch": train[-b.cfg["epochs"]:],
                              "play_s": round(play_s, 1), "version": version_row(version),
                              "held_out": b.learners(f"r{r}", model, run / "memory")})
    out["model"] = str(model)
    return out


def part_demos(b: Bench) -> dict[str, Any]:
    """Solver demos on the train maps: memory from them, and a model distilled from them."""
    from memplay.agents import Agent
    from memplay.agents.distill.round import distil_round
    from memplay.demos import write_demos
    from memplay.environments.demos import solver_demo_episodes

    run = b.work / "demos"
    shutil.rmtree(run, ignore_errors=True)
    demos = solver_demo_episodes(ENV, b.train)
    run.mkdir(parents=True)
    write_demos(run / "demos.jsonl", demos)
    teacher = Agent(ENV, variant="memrl", llm=b.flat, embedder=b.embedder,
                    memory={"embedder": "default"})
    try:
        teacher.learn_from(demos, run / "memory")
    finally:
        teacher.close()
    b.llm.reload(None)
    version = distil_round(run, "demos", b.trainer_config(), files=[run / "demos.jsonl"],
                           base_model=None)
    return {"demos": len(demos), "steps": sum(len(d.trajectory.steps) for d in demos),
            "version": version_row(version),
            "held_out": b.learners("demos", Path(version.path), run / "memory")}


def epochs_to(rates: list[float], reach: float) -> int | None:
    """The first epoch (1-based) whose success is at least ``reach``, or None.

    >>> epochs_to([0.5, 0.81, 0.9], 0.8), epochs_to([0.5], 0.8)
    (2, None)
    """
    return next((i + 1 for i, r in enumerate(rates) if r >= reach), None)


def part_new_maps(b: Bench, trained: Path | None) -> dict[str, Any]:
    """Memory learns the held-out maps from scratch: base model vs the trained version."""
    out: dict[str, Any] = {}
    for name, model in (("base", None), ("trained", trained)):
        if name == "trained" and model is None:
            out[name] = {"skipped": "no trained version: run --parts rounds first"}
            continue
        run = b.work / f"new-{name}"
        shutil.rmtree(run, ignore_errors=True)
        started = time.perf_counter()
        rates = b.play(run, model, b.cfg["new_map_epochs"], b.held_out)
        out[name] = {"model": str(model) if model else "base", "success_per_epoch": rates,
                     "epochs_to_reach": epochs_to(rates, b.cfg["reach"]),
                     "wall_s": round(time.perf_counter() - started, 1)}
        print(f"new maps, {name}: {rates}", flush=True)
    return out


KUHN_HANDS = {"full": 20000, "quick": 200}  # bench_selfplay's memory-alone run: 20000 hands


def part_kuhn(b: Bench) -> dict[str, Any]:
    """Self-play's average strategy distilled into the model; NashConv of the model alone."""
    from memplay.agents.distill.recipe import STRATEGY_PLAY
    from memplay.agents.distill.round import distil_round

    run = b.work / "kuhn"
    self_play = kuhn_self_play(run, KUHN_HANDS["quick" if b.cfg["maps"] < 32 else "full"])
    base = {"default": kuhn_nash_conv(b, None, {}), "as_trained": kuhn_nash_conv(
        b, None, STRATEGY_PLAY)}
    b.llm.reload(None)
    version = distil_round(run, "average-strategy", b.trainer_config(), base_model=None)
    trained = kuhn_nash_conv(b, Path(version.path), STRATEGY_PLAY)
    return {"table": "self-play's average strategy (mccfr, memory alone, scripted flat LLM)",
            "self_play": self_play, "version": version_row(version), "base": base,
            "trained": trained}


def kuhn_self_play(run: Path, hands: int) -> dict[str, Any]:
    """``hands`` self-play games of the mccfr agent, memory alone (seed 0, as bench_selfplay's
    first seed); the NashConv of the average strategy it leaves in ``run``'s memory."""
    from memplay.agents import Agent
    from memplay.llm.fake import ScriptedLLM

    shutil.rmtree(run, ignore_errors=True)
    agent = Agent("KuhnPoker-v0", variant="mccfr", llm=ScriptedLLM(), seed=0, parallel_envs=32,
                  self_play={"enabled": True, "measure_every": hands}, trajectory_every=hands)
    started = time.perf_counter()
    try:
        agent.run(epochs=1, tasks=range(hands), run_dir=run, progress=False)
    finally:
        agent.close()
    last = json.loads((run / "selfplay" / "measures.jsonl").read_text().splitlines()[-1])
    print(f"  kuhn self-play: {hands} hands, average strategy NashConv "
          f"{last['nash_conv']:.3f}", flush=True)
    return {"hands": hands, "nash_conv": round(last["nash_conv"], 4),
            "wall_s": round(time.perf_counter() - started, 1)}


def kuhn_nash_conv(b: Bench, model: Path | None, play: dict[str, Any]) -> dict[str, Any]:
    """The model alone's strategy (memory off) and its exact NashConv."""
    from memplay.agents.config import AgentConfig
    from memplay.agents.context import AgentContext
    from memplay.agents.distill.play import with_play
    from memplay.agents.selfplay_measure import measure

    b.llm.reload(model)
    config = with_play(AgentConfig(env_id="KuhnPoker-v0", variant="none"), play)
    row = measure(AgentContext(envs=[], llm=b.llm, config=config))
    print(f"  kuhn {model or 'base'}: NashConv {row['nash_conv']:.3f}", flush=True)
    return {"nash_conv": round(row["nash_conv"], 4),
            "strategy": {state: {a: round(p, 3) for a, p in probs.items()}
                         for state, probs in row["strategy"].items()}}


ALFWORLD_STEPS = 30  # bench_alfworld's step cap


def part_alfworld_train(b: Bench, results: dict[str, Any]) -> dict[str, Any]:
    """One more chunk of training on the train walkthroughs (recipe ``demos``; 50 per task
    type, played once into the shared cache), compounding on the last chunk's version;
    ``--alfworld-minutes`` of training wall time."""
    from bench_alfworld import ROOT

    from memplay.agents.distill.round import distil_round
    from memplay.demos import DemoEpisode, write_demos
    from memplay.environments.alfworld.demos import alfworld_demos, demo_statistics
    from memplay.trainers.sft_config import SFTConfig

    out = dict(results.get("alfworld", {"chunks": []}))
    run = b.work / "alfworld"
    if not out["chunks"]:
        shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    per_type = b.cfg["alfworld_demos_per_type"]
    demos = [d for d in alfworld_demos("train", per_task_type=per_type, workers=2,
             cache=ROOT / ".cache" / "alfworld_demos" / "train_walkthrough.jsonl") if d.success]
    write_demos(run / "demos.jsonl", [DemoEpisode(trajectory=d, source="walkthrough")
                                      for d in demos])
    (run / "config.yaml").write_text("env_id: ALFWorld-v0\nenv_kwargs: {split: train}\n")
    out["demos"] = demo_statistics(demos)
    out["demo_s"] = round(time.perf_counter() - started, 1)
    chunk = len(out["chunks"]) + 1
    # ALFWorld prompts run to 1024 tokens: 8 of them in one pass held 24 GB (the logits over
    # SmolLM2's 49k-token vocabulary); 2 per pass, 4 passes per step keep the batch of 8
    batch = {"batch_size": 2, "grad_accum_steps": b.cfg["train"]["batch_size"] // 2}
    config = SFTConfig(**{**b.cfg["train"], **batch, "epochs": 1,
                          "lr_scheduler_type": "constant_with_warmup",
                          "max_seconds": b.cfg["alfworld_minutes"] * 60.0}, seed=chunk,
                       device="cpu", num_threads=b.cfg["threads"], max_length=1024)
    version = distil_round(run, "demos", config, files=[run / "demos.jsonl"])
    seen = version.steps * config.batch_size * config.grad_accum_steps
    done = sum(c["examples_seen"] for c in out["chunks"])
    out["chunks"] = [*out["chunks"], {"chunk": chunk, "version": version_row(version),
                                      "examples_seen": seen, "examples_seen_total": done + seen}]
    print(f"alfworld chunk {chunk}: {seen} examples seen in {version.seconds:.0f} s, loss "
          f"{version.losses[0]:.3f} -> {version.losses[-1]:.3f}", flush=True)
    return out


def alfworld_curve_problem(curve: dict[str, Any], parts: list[str]) -> str | None:
    """Why the ALFWorld parts asked for cannot continue the recorded curve, or None.

    ``alfworld-train`` continues from the last chunk's weights and ``alfworld-eval`` scores
    them, so both need that folder (run folders are not in git: a fresh clone has none).

    >>> alfworld_curve_problem({}, ["alfworld-train"]) is None
    True
    >>> print(alfworld_curve_problem({}, ["alfworld-eval"]))
    no ALFWorld chunk is recorded to score; train one first (run_full group distill-3)
    >>> gone = {"chunks": [{"chunk": 3, "version": {"path": "/no/such/v3"}}]}
    >>> print(alfworld_curve_problem(gone, ["alfworld-train"]))  # doctest: +NORMALIZE_WHITESPACE
    chunk 3's weights /no/such/v3 are missing; start the curve again with --alfworld-restart
    (run_full group distill-3)
    >>> alfworld_curve_problem(gone, ["rounds"]) is None
    True
    """
    chunks = curve.get("chunks", [])
    if "alfworld-eval" in parts and not chunks and "alfworld-train" not in parts:
        return "no ALFWorld chunk is recorded to score; train one first (run_full group distill-3)"
    if not chunks or not {"alfworld-train", "alfworld-eval"} & set(parts):
        return None
    last = chunks[-1]
    if Path(last["version"]["path"]).is_dir():
        return None
    return (f"chunk {last['chunk']}'s weights {last['version']['path']} are missing; start the "
            "curve again with --alfworld-restart (run_full group distill-3)")


def part_alfworld_eval(b: Bench, results: dict[str, Any]) -> dict[str, Any]:
    """The last chunk's version alone (memory off) on bench_alfworld's 42 valid_seen games."""
    from bench_alfworld import episode_successes, eval_games, per_task_type

    from memplay.agents import Agent
    from memplay.agents.distill.play import play_overrides

    out = dict(results.get("alfworld", {"chunks": []}))
    if not out["chunks"]:
        return {**out, "skipped": "no trained version: run --parts alfworld-train first"}
    last = out["chunks"][-1]
    model = Path(last["version"]["path"])
    games = eval_games(7 if b.cfg["maps"] > 2 else 1)[:None if b.cfg["maps"] > 2 else 2]
    b.llm.reload(model)
    agent = Agent("ALFWorld-v0", variant="none", llm=b.llm, embedder=b.embedder, seed=0,
                  env_kwargs={"split": "eval_in_distribution", "games_by_seed": True},
                  max_steps=ALFWORLD_STEPS if b.cfg["maps"] > 2 else 3, parallel_envs=8,
                  **play_overrides(model))
    started, where = time.perf_counter(), b.work / "eval" / f"alfworld-{last['chunk']}"
    shutil.rmtree(where, ignore_errors=True)
    try:
        agent.run(epochs=1, tasks=games, run_dir=where, progress=False, frozen=True)
    finally:
        agent.close()
    wins = episode_successes(where, games)
    from memplay.agents.distill.evaluate import LearnerScore

    row = LearnerScore(f"chunk {last['chunk']}", "off", len(games), sum(wins),
                       round(time.perf_counter() - started, 1)).to_dict()
    last["held_out"] = {**row, "per_task_type": per_task_type(games, wins)}
    print(f"alfworld chunk {last['chunk']}: {sum(wins)}/{len(games)} valid_seen", flush=True)
    return out


def _trained(results: dict[str, Any]) -> Path | None:
    model = results.get("rounds", {}).get("model")
    return Path(model) if model else None


# part name -> what plays it (given the bench and the results so far)
PART_RUNNERS: dict[str, Any] = {
    "rounds": lambda b, results: part_rounds(b),
    "demos": lambda b, results: part_demos(b),
    "new-maps": lambda b, results: part_new_maps(b, _trained(results)),
    "kuhn": lambda b, results: part_kuhn(b),
    "alfworld-train": part_alfworld_train,
    "alfworld-eval": part_alfworld_eval,
}
# parts whose result lands under another key (the ALFWorld chunks accumulate in one record)
RESULT_KEY = {"alfworld-train": "alfworld", "alfworld-eval": "alfworld"}


def report(results: dict[str, Any]) -> None:
    """Print the held-out rows of every part that ran."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="FrozenLake 4x4 random maps, held-out success (n maps, 95% interval)")
    for col in ("part", "model", "memory", "solved", "rate", "interval"):
        table.add_column(col)
    for row in held_out_rows(results):
        table.add_row(row["part"], row["model"], row["memory"], f"{row['solved']}/{row['tasks']}",
                      f"{row['rate']:.2f}", f"{row['interval'][0]:.2f}-{row['interval'][1]:.2f}")
    Console(width=120).print(table)


def held_out_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every held-out score of the record, flattened with the part it belongs to.

    >>> held_out_rows({"demos": {"held_out": {"both": {"model": "m", "rate": 1.0}}}})
    [{'model': 'm', 'rate': 1.0, 'part': 'demos'}]
    """
    rows = []
    rounds = results.get("rounds", {})
    if "base" in rounds:
        rows.append({**rounds["base"]["model_alone"], "part": "rounds: base"})
    for r in rounds.get("rounds", []):
        rows.extend({**row, "part": f"rounds: {r['round']}"} for row in r["held_out"].values())
    if "held_out" in results.get("demos", {}):
        rows.extend({**row, "part": "demos"} for row in results["demos"]["held_out"].values())
    return rows


def plot(results: dict[str, Any], png: Path) -> None:
    """Held-out success per round: model alone, memory alone, both (base model at round 0)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    rounds = results.get("rounds", {}).get("rounds", [])
    base = results.get("rounds", {}).get("base", {}).get("model_alone", {}).get("rate")
    for key, style in (("model_alone", "o-"), ("memory_alone", "s--"), ("both", "^-")):
        xs = [r["round"] for r in rounds]
        ys = [r["held_out"][key]["rate"] for r in rounds]
        if key == "model_alone" and base is not None:
            xs, ys = [0, *xs], [base, *ys]
        ax.plot(xs, ys, style, label=key.replace("_", " "))
    ax.set(xlabel="round (0: base model)", ylabel="held-out success (32 maps)", ylim=(-0.05, 1.05))
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (CPU lock: 2)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=None,
                        help="default: rounds demos kuhn (quick), the FrozenLake and Kuhn "
                        "parts (full)")
    parser.add_argument("--rounds", type=int, help="play -> distil rounds (full: 3)")
    parser.add_argument("--epochs", type=int, help="train epochs played per round (1)")
    parser.add_argument("--lr", type=float, default=1e-3, help="LoRA learning rate")
    parser.add_argument("--train-epochs", type=int, default=3, help="passes over the examples")
    parser.add_argument("--train-steps", type=int,
                        help="optimiser steps per round (full: 100; TRL: overrides epochs)")
    parser.add_argument("--train-minutes", type=float, default=None,
                        help="training wall-time budget of each FrozenLake or Kuhn round")
    parser.add_argument("--alfworld-minutes", type=float, default=20.0,
                        help="training wall time of one ALFWorld chunk")
    parser.add_argument("--alfworld-restart", action="store_true",
                        help="start the ALFWorld curve again: drop its recorded chunks and "
                        "train chunk 1 on the base model (run_full group distill-3)")
    parser.add_argument("--fresh", action="store_true", help="replace the JSON, do not merge")
    args = parser.parse_args(argv)
    args.parts = args.parts or (["rounds", "demos", "kuhn"] if args.quick else
                                ["rounds", "demos", "new-maps", "kuhn"])
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the asked parts, merge them into the JSON, print and plot."""
    args = parse_args(argv)
    cfg, started, load = settings(args), time.perf_counter(), list(os.getloadavg())
    print(f"bench_distill: parts {args.parts}, {cfg['maps']} train and held-out maps",
          flush=True)
    path = result_path(args.out, "bench_distill", args.quick)
    old = json.loads(path.read_text()) if path.is_file() and not args.fresh else {}
    results = old.get("results", {}) if old.get("settings") == cfg else {}
    if args.alfworld_restart:
        results.pop("alfworld", None)
    problem = alfworld_curve_problem(results.get("alfworld", {}), args.parts)
    if problem:  # before any model loads: continuing from missing weights would start over
        raise SystemExit(f"bench_distill.py: {problem}")
    work = args.out / "runs" / ("distill_quick" if args.quick else "distill")
    b = Bench(cfg, work)
    record: dict[str, Any] = {}
    for part in args.parts:  # the JSON is written after every part: a later one may fail
        print(f"part {part}", flush=True)
        part_start = time.perf_counter()
        key = RESULT_KEY.get(part, part)
        earlier = results.get(key, {}).get("wall_s", 0.0) if key != part else 0.0
        results[key] = PART_RUNNERS[part](b, results)
        results[key]["wall_s"] = round(earlier + time.perf_counter() - part_start, 1)
        results[key]["load_avg_at_end"] = list(os.getloadavg())
        record = {"settings": cfg, "train_seeds": b.train, "held_out_seeds": b.held_out,
                  "machine": machine(), "load_avg_at_start": load, "results": results,
                  "wall_s": round(sum(p["wall_s"] for p in results.values()), 1),
                  "this_run_s": round(time.perf_counter() - started, 1)}
        finish(args.out, "bench_distill", args.quick, record, lambda png: plot(results, png))
    report(results)
    return record

if __name__ == "__main__":
    main()
