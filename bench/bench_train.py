"""Benchmark the parametric loop: memory only vs memory plus one training round, same seeds.

A MemRL agent with the embedded SmolLM2-135M plays FrozenLake-4x4-v0 (task seeds 0..3,
12 steps, 4 envs in lockstep, agent seed 0, the demo's settings) for ``collect`` epochs.
That run directory is copied into two arms, which resume it for ``eval`` more epochs on the
same seeds:

- ``memory``: ``train_every=0``, the base weights;
- ``memory+train``: ``train_every=collect``, so the runner's own weight loop
  (:mod:`memplay.agents.training`) trains one LoRA SFT round on the run's successful steps
  right at the copy point, reloads the backend and plays on with the same memory.

Both arms start from identical files and resume identically (fresh agent RNG from the same
seed), so the round is the only difference. Playing the shared epochs once instead of twice
halves the time. Then each arm's final weights play one epoch with no memory (variant
``none``): do the weights alone solve the tasks? And how often do they rank the action of a
collected successful step first (:func:`step_accuracy`)?

The JSON records the machine, versions, seeds, success per epoch, the round's loss curve and
data counts, and the wall time of each phase (collect play, eval play, training round).

    python bench/bench_train.py            # default map, 6 + 3 epochs, 20 steps: ~10 min
    python bench/bench_train.py --quick    # CI smoke: a holeless map, 1 + 1 epochs, 2 steps

``--quick`` uses a 4x4 map with no holes and the goal two moves away, so the single collect
epoch has successes to train on; its numbers only show the pipeline runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import add_common_args, machine, result_path, write_record

os.environ.setdefault("HF_HUB_OFFLINE", "1")

NAME = "bench_train"
EASY_MAP = ["SFFF", "FGFF", "FFFF", "FFFF"]


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """Agent and round settings of this mode (the JSON records them)."""
    full = not args.quick
    return {
        "env_id": "FrozenLake-4x4-v0", "env_kwargs": {} if full else {"desc": EASY_MAP},
        "tasks": [0, 1, 2, 3], "max_steps": 12, "parallel_envs": 4, "seed": args.seed,
        "collect_epochs": args.collect_epochs or (6 if full else 1),
        "eval_epochs": args.eval_epochs or (3 if full else 1),
        "train": {"method": "sft", "max_steps": args.train_steps or (20 if full else 2),
                  "learning_rate": args.lr, "lora": True, "min_examples": 1},
    }


def play(llm: Any, embedder: Any, run_dir: Path, epochs: int, cfg: dict[str, Any],
         **overrides: Any) -> tuple[Any, float]:
    """Run (or resume) a MemRL agent in ``run_dir`` up to ``epochs``; (result, seconds)."""
    from memplay.agents import Agent

    fields = {k: cfg[k] for k in ("env_kwargs", "max_steps", "parallel_envs", "seed")}
    agent = Agent(cfg["env_id"], variant="memrl", llm=llm, embedder=embedder,
                  **{**fields, **overrides})
    start = time.perf_counter()
    try:
        result = agent.run(epochs=epochs, tasks=cfg["tasks"], run_dir=run_dir, progress=False)
    finally:
        agent.close()
    return result, time.perf_counter() - start


def train_arm(llm: Any, embedder: Any, run_dir: Path, cfg: dict[str, Any]
              ) -> dict[str, Any]:
    """The ``memory+train`` arm: resume with one round due at the copy point."""
    from memplay.trainers.rounds import read_rounds
    from memplay.trainers.version import list_versions, read_version

    total = cfg["collect_epochs"] + cfg["eval_epochs"]
    result, seconds = play(llm, embedder, run_dir, total, cfg,
                           train_every=cfg["collect_epochs"], train=cfg["train"])
    rounds = read_rounds(run_dir)
    train_s = sum(r.seconds for r in rounds)
    versions = [read_version(p).model_dump(exclude={"config"}) for p in list_versions(run_dir)]
    return {"success_per_epoch": result.success_per_epoch[cfg["collect_epochs"]:],
            "play_seconds": seconds - train_s, "train_seconds": train_s,
            "rounds": [r.model_dump() for r in rounds], "versions": versions,
            "mean_steps": result.metrics["mean_steps"]}


def weights_alone(llm: Any, embedder: Any, out: Path, cfg: dict[str, Any], name: str
                  ) -> dict[str, Any]:
    """One epoch with no memory at all (variant ``none``) on the weights ``llm`` holds."""
    from memplay.agents import Agent

    fields = {k: cfg[k] for k in ("env_kwargs", "max_steps", "parallel_envs", "seed")}
    agent = Agent(cfg["env_id"], variant="none", llm=llm, embedder=embedder, **fields)
    start = time.perf_counter()
    try:
        result = agent.run(epochs=1, tasks=cfg["tasks"], run_dir=out / f"alone-{name}",
                           progress=False)
    finally:
        agent.close()
    return {"success": result.success_per_epoch[0], "seconds": time.perf_counter() - start}


def step_accuracy(llm: Any, run_dir: Path) -> dict[str, Any]:
    """How often the weights alone rank a successful step's action first among the allowed
    ones (greedy, mean log-prob as the agent scores, prompt without memories): the round's
    own examples, so this is in-sample; it shows whether the round taught what it saw."""
    from memplay.agents.config import PromptConfig
    from memplay.agents.training import agent_prompt_fn
    from memplay.trainers.data import load_trajectories

    prompt_fn = agent_prompt_fn(PromptConfig())
    # prompt -> (messages, allowed actions, actions some success took from it)
    seen: dict[str, tuple[list[dict[str, str]], list[str], set[str]]] = {}
    for traj in load_trajectories(run_dir):
        for i, step in enumerate(traj.steps if traj.success else []):
            prompt = prompt_fn(traj, i)
            entry = seen.setdefault(str(prompt), (prompt, list(step.admissible_actions), set()))
            entry[2].add(step.action)
    if not seen:
        return {"steps": 0, "accuracy": None}
    prompts, choices, answers = zip(*seen.values())
    scored = llm.score(list(prompts), [list(c) for c in choices])
    right = sum(max(row, key=lambda c: c.logprob_mean).text in good
                for row, good in zip(scored, answers))
    return {"steps": len(seen), "accuracy": right / len(seen)}


def run(cfg: dict[str, Any], work: Path, threads: int) -> dict[str, Any]:
    """Collect once, then the two arms and the no-memory check; returns the summary."""
    from memplay.llm.transformers_backend import TransformersLLM
    from memplay.memory.embedders import default_embedder

    llm, embedder = TransformersLLM(device="cpu", num_threads=threads), default_embedder()
    base = llm.source
    collect, collect_s = play(llm, embedder, work / "collect", cfg["collect_epochs"], cfg)
    for arm in ("memory", "memory+train"):
        shutil.copytree(work / "collect", work / arm)
    total = cfg["collect_epochs"] + cfg["eval_epochs"]
    memory, memory_s = play(llm, embedder, work / "memory", total, cfg)
    alone_base = weights_alone(llm, embedder, work, cfg, "base")
    alone_base["step_accuracy"] = step_accuracy(llm, work / "collect")
    trained = train_arm(llm, embedder, work / "memory+train", cfg)
    alone_trained = weights_alone(llm, embedder, work, cfg, "trained")
    alone_trained["step_accuracy"] = step_accuracy(llm, work / "collect")
    llm.reload(base)
    return {
        "collect": {"success_per_epoch": collect.success_per_epoch, "seconds": collect_s},
        "memory": {"success_per_epoch": memory.success_per_epoch[cfg["collect_epochs"]:],
                   "play_seconds": memory_s, "mean_steps": memory.metrics["mean_steps"]},
        "memory+train": trained,
        "weights_alone": {"base": alone_base, "trained": alone_trained},
    }


def _rates(values: list[float | None]) -> str:
    return ", ".join("-" if v is None else f"{v:.2f}" for v in values)


def _accuracy(alone: dict[str, Any]) -> str:
    acc = alone["step_accuracy"]
    return "-" if acc["accuracy"] is None else f"{acc['accuracy']:.2f} of {acc['steps']}"


def report(summary: dict[str, Any], cfg: dict[str, Any], png: Path) -> None:
    """Print the table and save the plot."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="FrozenLake-4x4: memory only vs memory + one SFT round")
    for col in ("arm", "success per eval epoch", "no-memory success",
                "step accuracy (no memory)", "play s", "train s"):
        table.add_column(col)
    alone = summary["weights_alone"]
    mem, trained = summary["memory"], summary["memory+train"]
    table.add_row("memory", _rates(mem["success_per_epoch"]), f"{alone['base']['success']:.2f}",
                  _accuracy(alone["base"]), f"{mem['play_seconds']:.0f}", "-")
    table.add_row("memory+train", _rates(trained["success_per_epoch"]),
                  f"{alone['trained']['success']:.2f}", _accuracy(alone["trained"]),
                  f"{trained['play_seconds']:.0f}", f"{trained['train_seconds']:.0f}")
    console = Console()
    console.print(table)
    console.print(f"collect: {summary['collect']['seconds']:.0f} s, success per epoch "
                  f"{_rates(summary['collect']['success_per_epoch'])}")
    for r in trained["rounds"]:
        console.print(f"round after epoch {r['after_epoch'] + 1}: {r['status']}, "
                      f"{r['examples']} examples, loss {r['first_loss']} -> {r['final_loss']}"
                      + (f" ({r['reason']})" if r["reason"] else ""))
    plot(summary, cfg, png)


def plot(summary: dict[str, Any], cfg: dict[str, Any], png: Path) -> None:
    """Success per epoch of both arms, the shared collect epochs drawn once."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = cfg["collect_epochs"]
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    collect = summary["collect"]["success_per_epoch"]
    ax.plot(range(1, n + 1), collect, "o-", color="grey", label="collect (shared)")
    for arm, style in (("memory", "s-"), ("memory+train", "^--")):
        rates = [collect[-1], *summary[arm]["success_per_epoch"]]
        ax.plot(range(n, n + len(rates)), rates, style, label=arm)
    ax.axvline(n + 0.5, color="k", lw=0.5, ls=":")
    ax.set_xlabel("epoch (round after the dotted line)")
    ax.set_ylabel("success rate")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=120)


def main(argv: list[str] | None = None) -> Path:
    """Parse options, run, write the JSON and PNG; returns the JSON path."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1 is fastest on a shared 2-core machine)")
    parser.add_argument("--seed", type=int, default=0, help="agent seed")
    parser.add_argument("--lr", type=float, default=5e-4, help="LoRA learning rate")
    parser.add_argument("--train-steps", type=int, help="optimiser steps of the round")
    parser.add_argument("--collect-epochs", type=int, help="epochs before the round")
    parser.add_argument("--eval-epochs", type=int, help="epochs after the round")
    args = parser.parse_args(argv)
    cfg = settings(args)
    start_machine, start = machine(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_train-") as work:
        summary = run(cfg, Path(work), args.threads)
    record = {"settings": cfg, "seeds": {"agent": args.seed, "tasks": cfg["tasks"]},
              "torch_threads": args.threads, "machine": start_machine,
              "wall_seconds": time.perf_counter() - start, **summary}
    path = write_record(args.out, NAME, args.quick, record)
    report(summary, cfg, result_path(args.out, NAME, args.quick).with_suffix(".png"))
    return path


if __name__ == "__main__":
    main()
