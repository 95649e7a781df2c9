"""``memplay train``: one weight-update round on a run's own data (SFT or DPO)."""

from __future__ import annotations

import argparse

from memplay.cli import Command


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
        from memplay.trainers.cli_options import run_train

        return run_train(args)
