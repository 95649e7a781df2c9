"""``memplay train``: one weight-update round on a run's own data (SFT or DPO).

The examples use the prompt the agent played with, built from the run's ``config.yaml``
(the same prompt ``train_every`` rounds use), so weights trained by hand and in a run see
one format.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from memplay.cli import Command

__all__ = ["TrainCommand", "run_prompt_fn"]


def run_prompt_fn(run_dir: str | Path) -> Any:
    """The agent's play prompt for the run in ``run_dir`` (its saved prompt settings, or the
    defaults for a directory without ``config.yaml``).

    >>> run_prompt_fn("/no/such/run").__name__
    'prompt_fn'
    """
    from memplay.agents.config import AgentConfig
    from memplay.agents.training import agent_prompt_fn

    saved = Path(run_dir) / "config.yaml"
    config = AgentConfig.from_source(saved if saved.is_file() else None)
    return agent_prompt_fn(config.prompt)


class TrainCommand(Command):
    """Fine-tune the model on a run directory's successes, revisions or preference pairs.

    The options come from the trainer config dataclasses (``memplay.trainers``), so every
    field of :class:`~memplay.trainers.sft_config.SFTConfig` is a flag here::

        memplay train runs/frozenlake --method sft --max-steps 20
    """

    help = "fine-tune the LLM on a run's own data (SFT or DPO) and save a new model version"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from memplay.trainers.cli_options import add_train_arguments

        add_train_arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        from memplay.trainers.cli_options import config_from_args
        from memplay.trainers.loop import train_round

        config = config_from_args(args)
        prompt_fn = run_prompt_fn(args.run_dir) if args.prompt == "steps" else None
        version = train_round(args.run_dir, None, config, data_files=args.data,
                              prompt_fn=prompt_fn)
        loss = f"{version.losses[0]:.3f} -> {version.losses[-1]:.3f}" if version.losses else "-"
        print(f"model version v{version.version}: {version.examples} examples, "
              f"{version.steps} steps, loss {loss}, {version.seconds:.0f} s -> {version.path}")
        return 0
