"""``memplay demo`` (what ``make demo`` runs): the embedded model learns FrozenLake.

Memory on (MemRL + step memory) and memory off run over the same task seeds with the
same frozen SmolLM2-135M; the command prints success per epoch for both and saves one
learning-curve PNG with a line per variant.

    >>> from memplay.app.cli import main
    >>> main(["demo", "--epochs", "4"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from memplay.app.cli import Command
from memplay.run_dir import RunDir

__all__ = ["DemoCommand", "run_demo"]

VARIANTS = ("memrl", "none")


def run_demo(root: Path, *, env_id: str, epochs: int, tasks: int, max_steps: int = 12,
             llm: Any = None, embedder: Any = None, progress: bool = True
             ) -> dict[str, dict[str, Any]]:
    """Run every demo variant into ``root/<variant>``; return metrics per variant.

    The LLM and embedder are loaded once and shared, so both variants see the same model.
    """
    from memplay.agents.agent import Agent
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig
    from memplay.agents.metrics import plot_learning_curves

    base = AgentConfig(env_id=env_id, epochs=epochs, tasks=list(range(tasks)),
                       parallel_envs=tasks, max_steps=max_steps)
    llm = llm if llm is not None else make_llm(base)
    embedder = embedder if embedder is not None else make_embedder(base)
    results = {}
    for variant in VARIANTS:
        agent = Agent(config=base.model_copy(update={"variant": variant}), llm=llm,
                      embedder=embedder)
        try:
            results[variant] = agent.run(run_dir=root / variant, progress=progress).metrics
        finally:
            agent.close()
    plot_learning_curves({("memory on (MemRL + step memory)" if v == "memrl" else
                           "memory off"): m["success_per_epoch"] for v, m in results.items()},
                         RunDir(root).curve, title=f"{env_id}, SmolLM2-135M frozen")
    return results


class DemoCommand(Command):
    """FrozenLake with the embedded model: memory on vs memory off, same seeds."""

    help = "watch the embedded model learn FrozenLake (memory on vs off); what `make demo` runs"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--env", default="FrozenLake-4x4-v0", help="environment id")
        parser.add_argument("--epochs", type=int, default=10, help="passes over the tasks")
        parser.add_argument("--tasks", type=int, default=4,
                            help="task seeds 0..N-1, all stepped in lockstep")
        parser.add_argument("--max-steps", type=int, default=12,
                            help="step cap per episode (the 4x4 lake needs 6)")
        parser.add_argument("--run-dir", default=None, help="default runs/demo-<time>")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def run(self, args: argparse.Namespace) -> int:
        from rich.console import Console

        from memplay.agents.components import make_env
        from memplay.agents.config import AgentConfig
        from memplay.agents.progress import print_summary

        # Fail fast, before the model loads, on bad numbers or an unknown env id.
        make_env(AgentConfig.from_source({"env_id": args.env, "epochs": args.epochs,
                                          "tasks": list(range(args.tasks)),
                                          "max_steps": args.max_steps}))
        root = Path(args.run_dir or f"runs/demo-{time.strftime('%Y%m%d-%H%M%S')}")
        started = time.perf_counter()
        results = run_demo(root, env_id=args.env, epochs=args.epochs, tasks=args.tasks,
                           max_steps=args.max_steps, progress=not args.no_progress)
        console = Console()
        print_summary(results, console)
        on, off = (results[v]["last_epoch_success"] for v in VARIANTS)
        console.print(f"last-epoch success: memory on {on:.2f} vs memory off {off:.2f} "
                      f"({time.perf_counter() - started:.0f} s)")
        console.print(f"learning curve: {RunDir(root).curve}", soft_wrap=True)
        return 0
