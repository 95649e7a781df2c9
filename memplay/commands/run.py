"""``memplay run`` (learn) and ``memplay eval`` (frozen memory: read, never write).

    >>> from memplay.cli import main
    >>> main(["run", "--env", "FrozenLake-4x4-v0", "--epochs", "3"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memplay.cli import Command
from memplay.commands.agent_options import add_agent_arguments, config_from_args
from memplay.errors import ConfigError

__all__ = ["EvalCommand", "RunCommand", "run_from_args"]


def run_from_args(args: argparse.Namespace, *, frozen: bool) -> int:
    """Validate the options, build the agent, run, print the summary and the PNG path."""
    from rich.console import Console

    from memplay.agents.agent import Agent
    from memplay.agents.components import make_env
    from memplay.agents.progress import print_summary

    config = config_from_args(args)
    if frozen and args.epochs is None and args.config is None:
        config = config.model_copy(update={"epochs": 1})  # one pass is an evaluation
    make_env(config)  # an unknown env id fails here, before any model loads
    if frozen and args.memory_dir is None:
        raise ConfigError("eval needs the memory to evaluate; pass --memory-dir DIR "
                          "(a run's <run-dir>/memory)")
    if frozen and not (Path(args.memory_dir) / "store").is_dir():
        raise ConfigError(f"--memory-dir {args.memory_dir!r} holds no memory (no store/ "
                          "inside); pass a run's <run-dir>/memory")
    agent = Agent(config=config)
    try:
        result = agent.run(run_dir=args.run_dir, memory_dir=args.memory_dir, frozen=frozen,
                           progress=not args.no_progress)
    finally:
        agent.close()
    console = Console()
    print_summary({config.variant: result.metrics}, console)
    console.print(f"run dir: {result.run_dir}\nlearning curve: "
                  f"{result.run_dir / 'learning_curve.png'}", soft_wrap=True)
    return 0


class RunCommand(Command):
    """Run an agent for some epochs over a task set, learning as it goes."""

    help = "run an agent on an environment and learn (memory is written)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_agent_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        return run_from_args(args, frozen=False)


class EvalCommand(Command):
    """Evaluate a learned memory without changing it."""

    help = "evaluate an agent with frozen memory (nothing is written to memory)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_agent_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        return run_from_args(args, frozen=True)
