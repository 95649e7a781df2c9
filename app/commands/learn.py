"""``memplay learn``: write episodes the agent did not play into a memory directory.

Demonstrations are experience like any other (AWM, MemP: memory built by a stronger agent
lifts a weaker one): JSONL demo files (see :mod:`memplay.demos`), the game's own solver on
chosen seeds, or another run's exported archive. Each demo is replayed first and a bad one
stops with its ``file:line`` before anything is written::

    memplay learn --env FrozenLake-random-v0 --memory-dir runs/m --solver-seeds 0 1 2 3
    memplay learn --env Sokoban-gen-v0 --memory-dir runs/m --demos walkthroughs.jsonl
    memplay learn --env FrozenLake-4x4-v0 --memory-dir runs/m --archive other.tar.gz
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from memplay.app.cli import Command
from memplay.errors import ConfigError

__all__ = ["LearnCommand"]


class LearnCommand(Command):
    """Learn from demonstrations or another run's memory, without playing."""

    help = ("write demonstrations (demo files, solver paths, another run's archive) into a "
            "memory directory, keyed as the agent looks them up")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--env", required=True, help="environment id the demos are of")
        parser.add_argument("--memory-dir", required=True, help="memory to create or extend")
        parser.add_argument("--config", help="YAML file of AgentConfig fields (memory keys...)")
        parser.add_argument("--variant", default="memrl", help="variant whose memory is filled")
        parser.add_argument("--embedder", choices=["default", "hash"], help="memory embedder")
        parser.add_argument("--demos", nargs="+", type=Path, default=[],
                            help="JSONL demo files (trajectories, or one step per line)")
        parser.add_argument("--solver-seeds", nargs="+", type=int, default=[],
                            help="play the game's solver on these task seeds")
        parser.add_argument("--archive", type=Path, help="a .tar.gz from `memplay export`")
        parser.add_argument("--provenance", choices=["demo", "import", "self"],
                            help="provenance of the demo files' episodes (default: theirs)")

    def run(self, args: argparse.Namespace) -> int:
        if not (args.demos or args.solver_seeds or args.archive):
            raise ConfigError("nothing to learn from; pass --demos FILE, --solver-seeds N ... "
                              "or --archive FILE")
        agent = _agent(args)
        try:
            if args.archive is not None:
                _import(args.archive, Path(args.memory_dir), agent)
            demos = _demos(args)
            if demos:
                report = agent.learn_from(demos, args.memory_dir)
                print(f"learned {report.episodes} episodes ({report.steps} steps, "
                      f"{report.successes} successes, provenance {report.provenance}) into "
                      f"{args.memory_dir}")
        finally:
            agent.close()
        return 0


def _agent(args: argparse.Namespace) -> Any:
    from memplay.agents.agent import Agent
    from memplay.agents.config import AgentConfig

    base = AgentConfig.from_source(args.config).model_dump()
    fields: dict[str, Any] = {**base, "env_id": args.env, "variant": args.variant}
    if args.embedder is not None:
        fields["memory"] = {**base["memory"], "embedder": args.embedder}
    return Agent(config=fields)


def _demos(args: argparse.Namespace) -> list[Any]:
    from memplay.agents.demos import load_demos
    from memplay.environments.demos import solver_demo_episodes

    demos = load_demos(args.demos, args.provenance)
    if args.solver_seeds:
        demos += solver_demo_episodes(args.env, args.solver_seeds)
    return demos


def _import(archive: Path, memory_dir: Path, agent: Any) -> None:
    """Merge another run's archive into the memory (its experience becomes "import")."""
    from memplay.memory.archive import import_archive
    from memplay.memory.reflection_files import restore_reflection

    memory = agent.open_memory(memory_dir)
    report = import_archive(archive, memory.store, step_memory=memory.step_memory)
    memory.save(memory_dir)
    files = restore_reflection(report.reflection, memory_dir)
    print(f"imported {report.added} memories ({report.merged} merged) and {files} reflection "
          f"files from {archive} into {memory_dir}")
