"""Command-line options for ``memplay train``, generated from the config dataclasses.

Every config field becomes ``--field-name`` with its documented help, so the CLI never
drifts from :class:`SFTConfig` / :class:`DPOConfig`. ``memplay/commands/train.py`` only has
to call :func:`add_train_arguments` and :func:`run_train`::

    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_train_arguments(parser)
    >>> args = parser.parse_args(["runs/x", "--method", "dpo", "--beta", "0.2"])
    >>> config_from_args(args).beta
    0.2
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from memplay.trainers.base_config import describe_fields
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.sft_config import SFTConfig

__all__ = ["add_train_arguments", "config_from_args", "run_train"]

_CONFIGS: dict[str, type[SFTConfig] | type[DPOConfig]] = {"sft": SFTConfig, "dpo": DPOConfig}
# field annotations are strings (postponed evaluation); these are all the configs use
_PARSERS: dict[str, Any] = {"int": int, "float": float, "str": str, "int | None": int,
                            "str | None": str, "float | None": float}


def _fields() -> dict[str, dataclasses.Field[Any]]:
    """Fields of both configs; DPO's learning_rate default differs, so defaults stay unset."""
    merged: dict[str, dataclasses.Field[Any]] = {}
    for cls in _CONFIGS.values():
        merged.update({f.name: f for f in dataclasses.fields(cls)})
    return merged


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the run directory, method, data and every config field as options."""
    parser.add_argument("run_dir", type=Path, help="run directory with trajectories.jsonl")
    parser.add_argument("--method", choices=sorted(_CONFIGS), default="sft",
                        help="sft: successes (+ revisions); dpo: success/failure pairs")
    parser.add_argument("--data", type=Path, nargs="*", default=[],
                        help="extra JSONL files: revision records (sft) or pairs (dpo)")
    parser.add_argument("--prompt", choices=("steps", "transcript"), default="steps",
                        help="steps: one example per step in the play prompt's shape; "
                             "transcript: whole episodes as chats")
    helps = {**describe_fields(SFTConfig), **describe_fields(DPOConfig)}
    for name, spec in _fields().items():
        if name == "output_dir":  # train_round always writes <run_dir>/models/vN
            continue
        flag = "--" + name.replace("_", "-")
        if spec.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=helps[name])
        elif spec.type == "tuple[str, ...]":
            parser.add_argument(flag, nargs="+", default=None, help=helps[name])
        else:
            parser.add_argument(flag, type=_PARSERS[str(spec.type)], default=None,
                                help=helps[name])


def config_from_args(args: argparse.Namespace) -> SFTConfig | DPOConfig:
    """Build the method's config from the options given (unset options keep defaults)."""
    cls = _CONFIGS[args.method]
    names = {f.name for f in dataclasses.fields(cls)}
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    if "lora_target_modules" in given:
        given["lora_target_modules"] = tuple(given["lora_target_modules"])
    return cls(**given)


def run_train(args: argparse.Namespace) -> int:
    """Run one training round from parsed options and print where the version went."""
    from memplay.trainers.data import step_prompt
    from memplay.trainers.loop import train_round

    config = config_from_args(args)
    prompt_fn = None
    if args.prompt == "steps":
        system = config.system_prompt

        def prompt_fn(traj: Any, i: int) -> list[dict[str, str]]:
            return step_prompt(traj, i, system=system)

    version = train_round(args.run_dir, None, config, data_files=args.data,
                          prompt_fn=prompt_fn)
    loss = f"{version.losses[0]:.3f} -> {version.losses[-1]:.3f}" if version.losses else "-"
    print(f"model version v{version.version}: {version.examples} examples, {version.steps} "
          f"steps, loss {loss}, {version.seconds:.0f} s -> {version.path}")
    return 0
