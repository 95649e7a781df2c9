"""Command-line options for ``memplay train``, generated from the config dataclasses.

Every config field becomes ``--field-name`` with its documented help, so the CLI never
drifts from :class:`SFTConfig` / :class:`DPOConfig`. ``app/commands/train.py`` calls
:func:`add_train_arguments` and :func:`config_from_args`::

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

__all__ = ["add_train_arguments", "config_from_args"]

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
    parser.add_argument("--method", choices=sorted(_CONFIGS), default=None,
                        help="sft or dpo; default: the recipe's (a recipe feeds one trainer)")
    parser.add_argument("--data", type=Path, nargs="*", default=[],
                        help="the recipe's extra inputs: demo files (demos), a strategy table "
                        "(average-strategy), chat records or Agent-R revisions (successes, "
                        "revisions), pair files (pairs)")
    # argparse %-formats help text: a literal '%' ("about 30% slower") must be doubled
    helps = {name: text.replace("%", "%%") for name, text in
             {**describe_fields(SFTConfig), **describe_fields(DPOConfig)}.items()}
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
    cls = _CONFIGS[args.method or "sft"]
    names = {f.name for f in dataclasses.fields(cls)}
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    if "lora_target_modules" in given:
        given["lora_target_modules"] = tuple(given["lora_target_modules"])
    return cls(**given)
