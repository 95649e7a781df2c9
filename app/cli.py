"""The ``memplay`` command line: a small registry of subcommands on argparse.

Each subcommand is a :class:`Command` subclass in ``app/commands/<name>.py``, listed
by string entry point in :data:`COMMANDS`. Command modules keep their imports light (torch,
FAISS and friends are imported inside ``run``) so ``memplay --help`` answers at once.

    >>> main(["--version"])  # doctest: +SKIP
    memplay 0.1.0
    0

Errors that memplay raises on purpose (:class:`~memplay.errors.MemplayError`) print as one
line on stderr with exit status 2; set ``MEMPLAY_DEBUG=1`` to see the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from memplay._lazy import import_target
from memplay._version import __version__
from memplay.errors import MemplayError

__all__ = ["COMMANDS", "Command", "build_parser", "debug_enabled", "main"]

# name -> "module:Class". Adding a subcommand is one line here plus one module.
COMMANDS: dict[str, str] = {
    "envs": "memplay.app.commands.envs:EnvsCommand",
    "run": "memplay.app.commands.run:RunCommand",
    "eval": "memplay.app.commands.run:EvalCommand",
    "demo": "memplay.app.commands.demo:DemoCommand",
    "inspect": "memplay.app.commands.inspect:InspectCommand",
    "export": "memplay.app.commands.archive:ExportCommand",
    "import": "memplay.app.commands.archive:ImportCommand",
    "learn": "memplay.app.commands.learn:LearnCommand",
    "train": "memplay.app.commands.train:TrainCommand",
    "report": "memplay.app.commands.report:ReportCommand",
}


class Command(ABC):
    """One ``memplay`` subcommand.

    Subclasses set ``help`` (one line for ``memplay --help``), add their options in
    :meth:`add_arguments` and do the work in :meth:`run`, returning the exit status.

    >>> class Hello(Command):
    ...     help = "say hello"
    ...     def add_arguments(self, parser): parser.add_argument("--name", default="world")
    ...     def run(self, args): print(f"hello {args.name}"); return 0
    """

    help: ClassVar[str] = ""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # noqa: B027
        """Add this command's options (none by default)."""

    @abstractmethod
    def run(self, args: argparse.Namespace) -> int:
        """Do the work; return the process exit status."""


def _load_command(name: str) -> Command:
    """Instantiate the command registered under ``name``."""
    command = import_target(COMMANDS[name], f"command {name!r}")()
    if not isinstance(command, Command):
        raise TypeError(f"{COMMANDS[name]} is not a memplay.app.cli.Command")
    return command


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    """Build the argument parser and return it with the loaded commands.

    >>> parser, commands = build_parser()
    >>> "envs" in commands
    True
    """
    parser = argparse.ArgumentParser(
        prog="memplay",
        description="LLM agents that get better by themselves while the model stays frozen.",
    )
    parser.add_argument("--version", action="version", version=f"memplay {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, Command] = {}
    for name in COMMANDS:
        command = _load_command(name)
        commands[name] = command
        command.add_arguments(sub.add_parser(name, help=command.help, description=command.help))
    return parser, commands


def debug_enabled() -> bool:
    """True when ``MEMPLAY_DEBUG`` asks for tracebacks: unset, empty, ``0``, ``false``,
    ``no`` and ``off`` (any case) mean off, as usual for such switches.

    >>> import os; os.environ["MEMPLAY_DEBUG"] = "0"; debug_enabled()
    False
    >>> os.environ["MEMPLAY_DEBUG"] = "1"; debug_enabled()
    True
    >>> del os.environ["MEMPLAY_DEBUG"]
    """
    value = os.environ.get("MEMPLAY_DEBUG", "").strip().lower()
    return value not in {"", "0", "false", "no", "off"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``memplay`` console script and ``python -m memplay``."""
    parser, commands = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return commands[args.command].run(args)
    except MemplayError as exc:
        if debug_enabled():
            raise
        print(f"memplay {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"memplay {args.command}: interrupted; saved progress is kept", file=sys.stderr)
        return 130
