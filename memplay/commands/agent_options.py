"""The options ``memplay run`` and ``memplay eval`` share, and the AgentConfig they build.

A ``--config`` YAML file gives the base; every option given on the command line overrides
its field. Bad values raise ConfigError naming the field (printed as one line by the CLI).

    >>> import argparse
    >>> parser = argparse.ArgumentParser(); add_agent_arguments(parser)
    >>> config_from_args(parser.parse_args(["--env", "FrozenLake-8x8-v0", "--tasks", "2"])).tasks
    [0, 1]
"""

from __future__ import annotations

import argparse
from typing import Any

from memplay.agents.config import VARIANTS, AgentConfig

__all__ = ["add_agent_arguments", "config_from_args"]

# option dest -> AgentConfig field (None means "not given": keep the config's value)
_FIELDS = {
    "env": "env_id", "variant": "variant", "llm": "llm", "model": "model",
    "epochs": "epochs", "parallel": "parallel_envs", "seed": "seed", "max_steps": "max_steps",
    "temperature": "temperature", "action_method": "action_method",
    "train_every": "train_every", "log": "log",
}


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the agent/run options to ``parser``."""
    parser.add_argument("--config", help="YAML file of AgentConfig fields (options override it)")
    parser.add_argument("--env", help="environment id (see `memplay envs`)")
    parser.add_argument("--variant", choices=VARIANTS, help="memory variant")
    parser.add_argument("--llm", choices=["transformers", "openai", "vllm", "scripted"],
                        help="LLM backend (default: the embedded model via transformers)")
    parser.add_argument("--model", help="model folder or name (default: embedded SmolLM2)")
    parser.add_argument("--action-method", choices=["score", "generate"])
    parser.add_argument("--epochs", type=int, help="passes over the task set")
    parser.add_argument("--tasks", type=int, help="number of tasks: seeds START..START+N-1")
    parser.add_argument("--seeds", type=int, nargs="+", help="explicit task seeds")
    parser.add_argument("--task-start", type=int, default=0, help="first seed for --tasks")
    parser.add_argument("--parallel", type=int, help="environments stepped in lockstep")
    parser.add_argument("--seed", type=int, help="the agent's own random seed")
    parser.add_argument("--max-steps", type=int, help="step cap per episode")
    parser.add_argument("--temperature", type=float, help="action sampling temperature")
    parser.add_argument("--train-every", type=int, metavar="K",
                        help="fine-tune the model on the run's own data every K epochs "
                        "(0 = never; settings in the config's train: section)")
    parser.add_argument("--embedder", choices=["default", "hash"], help="memory embedder")
    parser.add_argument("--log", action="append", choices=["tensorboard"],
                        help="also write per-epoch scalars to <run-dir>/tensorboard/")
    parser.add_argument("--run-dir", help="where results go (default runs/<env>-<variant>-<time>)")
    parser.add_argument("--memory-dir", help="memory to load/save (default <run-dir>/memory)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> AgentConfig:
    """Merge ``--config`` with the options given; validate everything at once."""
    base = AgentConfig.from_source(args.config).model_dump()
    update: dict[str, Any] = {
        field: getattr(args, dest) for dest, field in _FIELDS.items()
        if getattr(args, dest) is not None
    }
    if args.seeds:
        update["tasks"] = list(args.seeds)
    elif args.tasks is not None:
        update["tasks"] = list(range(args.task_start, args.task_start + args.tasks))
    if args.embedder is not None:
        update["memory"] = {**base["memory"], "embedder": args.embedder}
    return AgentConfig.from_source({**base, **update})
