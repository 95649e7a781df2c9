"""Benchmark the parametric loop: memory only vs memory plus one SFT round, same seeds.

Phase 1 (collect): a MemRL agent with the embedded SmolLM2-135M plays FrozenLake-4x4 for
``--collect-epochs`` epochs over the task seeds. Then the run directory is copied twice:

- ``memory``: the agent keeps playing ``--eval-epochs`` more epochs with the same weights;
- ``memory+train``: ``train_round`` fine-tunes the model (LoRA, merged) on the run's own
  successful steps, with the prompt the agent plays with, reloads the backend, and the agent
  plays the same ``--eval-epochs`` epochs with the same memory and seeds.

Prints a table (success per eval epoch, wall time of each phase), writes
bench/results/bench_train[_quick].json (machine, versions, seeds, times) and a .png plot.
When the collect phase has no success there is nothing to train on; the JSON says so.

    python bench/bench_train.py --quick        # 4 tasks, 3 + 2 epochs, max 15 steps
    python bench/bench_train.py                # 8 tasks, 6 + 4 epochs, max 20 steps
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = Path(__file__).resolve().parent / "results"


def agent_prompt(system: str) -> Any:
    """A ``prompt_fn`` rebuilding the agent's play prompt for step i (without memories)."""
    from memplay.agents.config import PromptConfig
    from memplay.agents.prompts import build_messages
    from memplay.agents.state import new_slot

    cfg = PromptConfig(system=system)

    def prompt_fn(traj: Any, i: int) -> list[dict[str, str]]:
        step = traj.steps[i]
        slot = new_slot(0)
        slot.update(goal=traj.goal, observation=step.observation,
                    admissible=list(step.admissible_actions),
                    steps=[{"action": s.action} for s in traj.steps[:i]])
        return build_messages(slot, "", cfg)

    return prompt_fn


def play(llm: Any, run_dir: Path, epochs: int, args: argparse.Namespace) -> tuple[Any, float]:
    """Run (or resume) an agent in ``run_dir`` up to ``epochs``; returns (result, seconds)."""
    from memplay.agents import Agent

    agent = Agent("FrozenLake-4x4-v0", variant="memrl", llm=llm, parallel_envs=args.tasks,
                  max_steps=args.max_steps, seed=args.seed)
    start = time.perf_counter()
    try:
        result = agent.run(epochs=epochs, tasks=range(args.tasks), run_dir=run_dir,
                           progress=False)
    finally:
        agent.close()
    return result, time.perf_counter() - start


def train(llm: Any, run_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One SFT round on the run's own successes; returns its record (or why it was skipped)."""
    from memplay.agents.config import PromptConfig
    from memplay.errors import TrainerError
    from memplay.trainers import SFTConfig, train_round

    config = SFTConfig(learning_rate=args.lr, epochs=args.train_epochs, batch_size=8,
                       device="cpu", num_threads=args.threads, seed=args.seed)
    start = time.perf_counter()
    try:
        version = train_round(run_dir, llm, config,
                              prompt_fn=agent_prompt(PromptConfig().system))
    except TrainerError as exc:
        return {"skipped": str(exc), "seconds": time.perf_counter() - start}
    return {"version": version.model_dump(), "seconds": time.perf_counter() - start}


def eval_success(result: Any, first_epoch: int) -> list[float | None]:
    return result.success_per_epoch[first_epoch:]


def run(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    from memplay.agents.llm.transformers_backend import TransformersLLM
    from memplay.trainers import record_success

    llm = TransformersLLM(device="cpu")
    base_source = llm.source
    collected, collect_s = play(llm, out / "collect", args.collect_epochs, args)
    total = args.collect_epochs + args.eval_epochs
    for arm in ("memory", "memory+train"):
        shutil.copytree(out / "collect", out / arm)
    mem_result, mem_s = play(llm, out / "memory", total, args)
    trained = train(llm, out / "memory+train", args)
    if "skipped" in trained:
        llm.reload(base_source)
    train_result, train_play_s = play(llm, out / "memory+train", total, args)
    train_success = eval_success(train_result, args.collect_epochs)
    if "version" in trained and train_success and train_success[-1] is not None:
        record_success(trained["version"]["path"], train_success[-1])
    return {
        "collect": {"success_per_epoch": collected.success_per_epoch, "seconds": collect_s},
        "memory": {"success_per_epoch": eval_success(mem_result, args.collect_epochs),
                   "seconds": mem_s},
        "memory+train": {"success_per_epoch": train_success, "seconds": train_play_s,
                         "train_seconds": trained["seconds"],
                         "train": {k: v for k, v in trained.items() if k != "seconds"}},
    }


def machine() -> dict[str, Any]:
    import torch
    import transformers

    import memplay

    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "transformers": transformers.__version__, "memplay": memplay.__version__}


def report(summary: dict[str, Any], args: argparse.Namespace, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rich.console import Console
    from rich.table import Table

    table = Table(title="FrozenLake-4x4: memory only vs memory + one SFT round")
    for col in ("arm", "success per eval epoch", "mean", "play s", "train s"):
        table.add_column(col)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for arm in ("memory", "memory+train"):
        row = summary[arm]
        rates = [r for r in row["success_per_epoch"] if r is not None]
        mean = sum(rates) / len(rates) if rates else float("nan")
        table.add_row(arm, ", ".join(f"{r:.2f}" for r in rates), f"{mean:.2f}",
                      f"{row['seconds']:.0f}", f"{row.get('train_seconds', 0.0):.0f}")
        ax.plot(range(args.collect_epochs, args.collect_epochs + len(rates)), rates, "o-",
                label=arm)
    Console().print(table)
    Console().print(f"collect phase: {summary['collect']['seconds']:.0f} s, success per "
                    f"epoch {summary['collect']['success_per_epoch']}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("success rate")
    ax.set_ylim(-0.05, 1.05)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (CI-sized)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--train-epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="run directories (default: tmp)")
    args = parser.parse_args()
    args.tasks, args.collect_epochs, args.eval_epochs, args.max_steps = (
        (4, 3, 2, 15) if args.quick else (8, 6, 4, 20))
    import tempfile

    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.out is not None and args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out} is not empty; pass a new folder")
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_train-"))
    start = time.perf_counter()
    try:
        summary = run(args, out)
    finally:
        if args.out is None:  # the run directories were only scratch space
            shutil.rmtree(out, ignore_errors=True)
    name = "bench_train_quick" if args.quick else "bench_train"
    RESULTS.mkdir(exist_ok=True)
    record = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
              "seeds": {"agent": args.seed, "tasks": list(range(args.tasks))},
              "wall_seconds": time.perf_counter() - start, **summary}
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2, default=str))
    report(summary, args, RESULTS / f"{name}.png")


if __name__ == "__main__":
    main()
