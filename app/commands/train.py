"""``memplay train``: one distillation round on a run: a recipe's examples, SFT or DPO.

The recipe (``--recipe``, :mod:`memplay.agents.distill`) builds the examples from the run
directory with the prompt its trained model will play with, built from the run's
``config.yaml`` (the same path ``train_every`` rounds take), so weights trained by hand and
in a run see one format.
"""

from __future__ import annotations

import argparse

from memplay.app.cli import Command

__all__ = ["TrainCommand"]


def _recipe_help() -> str:
    from memplay.agents.distill.recipe import RECIPES, get_recipe

    lines = [f"{name} ({get_recipe(name).method}): {get_recipe(name).summary}"
             for name in RECIPES]
    return "where the examples come from (default: successes for sft, pairs for dpo): " + \
        "; ".join(lines)


class TrainCommand(Command):
    """Fine-tune the model on a run's data, built by a distillation recipe.

    The options come from the trainer config dataclasses (``memplay.trainers``), so every
    field of :class:`~memplay.trainers.sft_config.SFTConfig` is a flag here::

        memplay train runs/frozenlake --recipe memory-greedy --max-steps 60
    """

    help = "distil a run's memory or episodes into the weights (SFT or DPO): a new model version"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from memplay.trainers.cli_options import add_train_arguments

        add_train_arguments(parser)
        parser.add_argument("--recipe", default=None,
                            help=_recipe_help().replace("%", "%%"))

    def run(self, args: argparse.Namespace) -> int:
        from memplay.agents.distill.recipe import recipe_for
        from memplay.agents.distill.round import distil_round
        from memplay.trainers.cli_options import config_from_args

        recipe = recipe_for(args.recipe, args.method)
        args.method = recipe.method
        version = distil_round(args.run_dir, recipe, config_from_args(args), files=args.data)
        loss = f"{version.losses[0]:.3f} -> {version.losses[-1]:.3f}" if version.losses else "-"
        print(f"model version v{version.version} ({recipe.name}): {version.examples} examples, "
              f"{version.steps} steps, loss {loss}, {version.seconds:.0f} s -> {version.path}")
        return 0
