"""``memplay run`` (learn) and ``memplay eval`` (frozen memory: read, never write).

    >>> from memplay.app.cli import main
    >>> main(["run", "--env", "FrozenLake-4x4-v0", "--epochs", "3"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from memplay.app.cli import Command
from memplay.app.commands.agent_options import add_agent_arguments, config_from_args
from memplay.errors import ConfigError
from memplay.run_dir import RunDir

__all__ = ["EvalCommand", "RunCommand", "eval_model", "resume_args", "run_from_args"]


def run_from_args(args: argparse.Namespace, *, frozen: bool) -> int:
    """Validate the options, build the agent, run, print the summary and the PNG path."""
    from memplay.agents.agent import Agent
    from memplay.agents.components import make_env

    resuming = bool(getattr(args, "resume", None))
    if resuming:
        args = resume_args(args)
    config = config_from_args(args)
    if frozen and args.epochs is None and args.config is None:
        config = config.model_copy(update={"epochs": 1})  # one pass is an evaluation
    make_env(config)  # an unknown env id fails here, before any model loads
    if frozen and args.memory_dir is None:
        raise ConfigError("eval needs the memory to evaluate; pass --memory-dir DIR "
                          "(a run's <run-dir>/memory)")
    if frozen and not any((Path(args.memory_dir) / part).is_dir()
                          for part in ("store", "strategy")):
        raise ConfigError(f"--memory-dir {args.memory_dir!r} holds no memory (no store/ or "
                          "strategy/ inside); pass a run's <run-dir>/memory")
    if frozen:
        config, note = eval_model(config, args.memory_dir)
        if note:
            print(note)
    agent = Agent(config=config, llm=_resume_backend(args, config) if resuming else None)
    try:
        result = agent.run(run_dir=args.run_dir, memory_dir=args.memory_dir, frozen=frozen,
                           progress=not args.no_progress)
    finally:
        agent.close()
    _print_result(result, config, frozen)
    return 0


def eval_model(config: Any, memory_dir: str | Path) -> tuple[Any, str]:
    """The config ``eval`` plays with: when the memory belongs to a run that trained its
    weights (``<run>/models/vN``) and no model was chosen, the run's latest version, so
    memory and weights are evaluated together as the run left them (the rule of
    :func:`memplay.agents.agent.trained_model`). Returns the config and a line saying which
    model was picked ('' when unchanged).

    >>> from memplay.agents import AgentConfig
    >>> eval_model(AgentConfig(), "/no/such/run/memory")[1]
    ''
    """
    from memplay.agents.agent import trained_model

    return trained_model(config, Path(memory_dir).parent, "the run that owns this memory")


def _print_result(result: Any, config: Any, frozen: bool) -> None:
    from rich.console import Console

    from memplay.agents.metrics import error_lines
    from memplay.agents.progress import print_summary

    console = Console()
    print_summary({config.variant: result.metrics}, console)
    for line in error_lines(result.metrics):
        console.print(line, soft_wrap=True, markup=False, style="red")
    if config.train_every and not frozen:
        from memplay.trainers.rounds import describe_rounds

        for line in describe_rounds(result.run_dir) or ["no round was due"]:
            console.print(f"training: {line}", soft_wrap=True, markup=False)
    for line in _self_play_lines(result.run_dir):
        console.print(line, soft_wrap=True, markup=False)
    console.print(f"run dir: {result.run_dir}\nlearning curve: {RunDir(result.run_dir).curve}",
                  soft_wrap=True)


def _self_play_lines(run_dir: Path) -> list[str]:
    """Each exact self-play measure (e.g. Kuhn poker's nash_conv), if recorded."""
    from memplay.memory.jsonio import read_jsonl

    rows = read_jsonl(RunDir(run_dir).selfplay_measures)
    keys = [k for k, v in rows[-1].items() if k.startswith("nash_conv") and isinstance(v, float)] \
        if rows else []
    games = " ".join(str(r.get("games", "-")) for r in rows)
    return [f"self-play {key} after {games} games: " + " ".join(f"{r[key]:.3f}" for r in rows)
            for key in keys]


def _resume_backend(args: argparse.Namespace, config: Any) -> Any:
    """The backend ``--llm`` names, built here, when the run being resumed played with an
    LLM object memplay cannot rebuild (the agent refuses to guess one); else None."""
    from memplay.agents.agent import RunRecord, trained_model
    from memplay.agents.components import make_llm

    if RunRecord.read(args.run_dir).llm_object is None:
        return None
    picked, note = trained_model(config, args.run_dir)
    if note:
        print(note)
    return make_llm(picked)


def resume_args(args: argparse.Namespace) -> argparse.Namespace:
    """Point the options at an interrupted run: its directory and its saved config.

    Episodes already in ``episodes.jsonl`` are skipped and the memory the run recorded
    (``memory_dir``) is reloaded, so the run continues where it stopped; it plays with the
    run's latest ``models/vN`` unless a model is chosen, and rounds already recorded are
    not trained again. Options given beside ``--resume`` override the saved config
    (``--epochs 20`` extends a finished run). A run that played with an LLM object memplay
    cannot rebuild (``Agent(llm=obj)``, see ``llm.json``) needs ``--llm NAME``.
    """
    from memplay.agents.agent import RunRecord

    run_dir = Path(args.resume)
    saved = RunDir(run_dir).config
    if not saved.is_file():
        raise ConfigError(f"--resume {str(run_dir)!r} is not a memplay run directory (no "
                          "config.yaml); pass the --run-dir of an earlier `memplay run`")
    if args.run_dir is not None and Path(args.run_dir) != run_dir:
        raise ConfigError(f"--resume {str(run_dir)!r} and --run-dir {args.run_dir!r} differ; "
                          "pass only --resume")
    if args.config is not None:
        raise ConfigError("--resume reuses the run's own config.yaml; drop --config")
    RunRecord.read(run_dir).check_backend(run_dir, given=args.llm is not None)
    return argparse.Namespace(**{**vars(args), "run_dir": str(run_dir), "config": str(saved)})


class RunCommand(Command):
    """Run an agent for some epochs over a task set, learning as it goes."""

    help = "run an agent on an environment and learn (memory is written)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_agent_arguments(parser)
        parser.add_argument("--resume", metavar="RUN_DIR",
                            help="continue an interrupted run in RUN_DIR with its saved config")

    def run(self, args: argparse.Namespace) -> int:
        return run_from_args(args, frozen=False)


class EvalCommand(Command):
    """Evaluate a learned memory without changing it."""

    help = ("evaluate an agent with frozen memory (nothing is written to memory); a run that "
            "trained its weights is played with its latest models/vN unless --model is given")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_agent_arguments(parser, learning=False)

    def run(self, args: argparse.Namespace) -> int:
        return run_from_args(args, frozen=True)
