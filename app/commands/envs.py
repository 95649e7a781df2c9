"""``memplay envs``: list the registered environments."""

from __future__ import annotations

import argparse

from memplay.app.cli import Command


class EnvsCommand(Command):
    """Print every registered environment id with its entry point and step limit.

    >>> EnvsCommand().run(argparse.Namespace(contains=""))  # doctest: +SKIP
    """

    help = "list registered environments"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--contains", default="", help="only ids containing this text")

    def run(self, args: argparse.Namespace) -> int:
        from rich.console import Console
        from rich.table import Table

        from memplay.environments.registry import registry

        table = Table("id", "entry point", "max steps")
        for env_id, spec in sorted(registry.items()):
            if args.contains.lower() in env_id.lower():
                steps = "" if spec.max_episode_steps is None else str(spec.max_episode_steps)
                table.add_row(env_id, str(spec.entry_point), steps)
        Console().print(table)
        return 0
