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

from memplay.agents.config import AgentConfig
from memplay.agents.curriculum.registry import curriculum_names
from memplay.agents.variants import variant_names
from memplay.llm.registry import BACKENDS

__all__ = ["add_agent_arguments", "config_from_args"]

# option dest -> AgentConfig field (None means "not given": keep the config's value)
_FIELDS = {
    "env": "env_id", "variant": "variant", "llm": "llm", "model": "model",
    "epochs": "epochs", "parallel": "parallel_envs", "seed": "seed", "max_steps": "max_steps",
    "train_every": "train_every", "log": "log",
}
# option dest -> PolicyConfig field
_POLICY = {"temperature": "temperature", "action_method": "method", "think": "think",
           "gate": "gate", "llm_clip": "llm_clip", "list_actions": "list_actions",
           "reuse_scores": "reuse_scores"}
# option dest -> SelfPlayConfig field
_SELF_PLAY = {"self_play": "enabled", "self_play_pool": "pool_every",
              "self_play_measure": "measure_every"}
# option dest -> llm_kwargs key (the API key itself never goes into a config: only its name)
_LLM_KWARGS = {"base_url": "base_url", "api_key_env": "api_key_env"}


def add_agent_arguments(parser: argparse.ArgumentParser, *, learning: bool = True) -> None:
    """Add the agent/run options to ``parser`` (``learning=False``: eval's, without
    ``--train-every``)."""
    parser.add_argument("--config", help="YAML file of AgentConfig fields (options override it)")
    parser.add_argument("--env", help="environment id (see `memplay envs`)")
    parser.add_argument("--variant", help="memory variant: " + ", ".join(variant_names())
                        + ", or several joined with '+' (e.g. memrl+playbook)")
    parser.add_argument("--llm", help="LLM backend: " + ", ".join(BACKENDS)
                        + " (default: the embedded model via transformers)")
    parser.add_argument("--model", help="model folder or name (default: embedded SmolLM2)")
    parser.add_argument("--base-url", help="--llm openai: server root with /v1 (default: "
                        "$OPENAI_BASE_URL, else http://127.0.0.1:8000/v1)")
    parser.add_argument("--api-key-env", metavar="NAME",
                        help="--llm openai: environment variable holding the API key "
                        "(default OPENAI_API_KEY); the key itself is never written to disk")
    parser.add_argument("--action-method", choices=["score", "generate"],
                        help="score the admissible actions (needs log-probs) or parse the "
                        "model's answer")
    parser.add_argument("--think", action="store_true", default=None,
                        help="generate mode: allow a ReAct 'think:' turn before each action")
    parser.add_argument("--epochs", type=int, help="passes over the task set")
    parser.add_argument("--tasks", type=int, help="number of tasks: seeds START..START+N-1")
    parser.add_argument("--seeds", type=int, nargs="+", help="explicit task seeds")
    parser.add_argument("--task-start", type=int, default=0, help="first seed for --tasks")
    parser.add_argument("--parallel", type=int, help="environments stepped in lockstep")
    parser.add_argument("--ray", nargs="?", const="local", metavar="auto|ADDRESS",
                        help="run the environments as Ray actors (pip install 'memplay[ray]'): "
                        "'auto' joins the cluster `ray start --head` runs on this machine, "
                        "ADDRESS ('ray://HOST:10001' or 'HOST:6379') a remote one, and --ray "
                        "alone starts a local instance; the agent loop, its LLM client and "
                        "the memory stay in this process (config: env_workers, ray_address)")
    parser.add_argument("--envs-per-actor", type=int, metavar="N",
                        help="with --ray: environments each Ray actor holds (default 1)")
    parser.add_argument("--seed", type=int, help="the agent's own random seed")
    parser.add_argument("--max-steps", type=int, help="step cap per episode")
    parser.add_argument("--temperature", type=float, help="action sampling temperature")
    parser.add_argument("--gate", choices=["off", "on", "audit"],
                        help="ask the LLM only when memory's values leave the choice open "
                        "(on), or ask always and count what the gate would skip (audit); "
                        "needs --llm-clip (docs/speed.md)")
    parser.add_argument("--llm-clip", type=float, metavar="B",
                        help="bound the LLM term to B nats, so the gate is exact")
    parser.add_argument("--list-actions", choices=["all", "candidates", "none"],
                        help="the prompt lists every allowed action (all, the default), only "
                        "those the gate leaves for the model to score (candidates), or none")
    parser.add_argument("--reuse-scores", type=int, metavar="N",
                        help="keep each score the model gives for the episode's next N "
                        "decisions instead of asking again (0, the default: always ask)")
    if learning:
        parser.add_argument("--train-every", type=int, metavar="K",
                            help="fine-tune the model on the run's own data every K epochs "
                            "(0 = never; settings in the config's train: section)")
    parser.add_argument("--self-play", action="store_true", default=None,
                        help="two-player games (TicTacToe-v0, KuhnPoker-v0, LeducPoker-v0): the "
                        "agent plays both seats and learns from both (the runner moves for the "
                        "seat to play, on any executor); step memory looks states up exactly, "
                        "so the seats' values never mix; --variant mccfr learns a strategy "
                        "that converges to an equilibrium (config: self_play)")
    parser.add_argument("--self-play-pool", type=int, metavar="K",
                        help="with --self-play: every K epochs save a frozen snapshot of step "
                        "memory; half the games are then played against a recent snapshot")
    parser.add_argument("--self-play-measure", type=int, metavar="K",
                        help="with --self-play on Kuhn or Leduc poker: measure the strategy's "
                        "NashConv every K games (default: after every epoch)")
    parser.add_argument("--curriculum", metavar="NAME",
                        help="which tasks each batch plays: " + ", ".join(curriculum_names())
                        + " (uniform = --tasks in order every epoch; sec = bandit over task "
                        "categories by learning progress; replay = restart from states of "
                        "failed episodes; proposer = generator settings of intermediate "
                        "success, e.g. on --env TaskSpace-v0). Options: config curriculum:")
    parser.add_argument("--embedder", choices=["default", "hash"], help="memory embedder")
    parser.add_argument("--log", action="append", choices=["tensorboard"],
                        help="also write per-epoch scalars to <run-dir>/tensorboard/")
    parser.add_argument("--run-dir", help="where results go (default runs/<env>-<variant>-<time>)")
    parser.add_argument("--memory-dir", help=(
        "memory to load and save (default <run-dir>/memory)" if learning else
        "memory to evaluate (read only: a run's <run-dir>/memory)"))
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> AgentConfig:
    """Merge ``--config`` with the options given; validate everything at once."""
    base = AgentConfig.from_source(args.config).model_dump()
    update: dict[str, Any] = _given(args, _FIELDS)
    if policy := _given(args, _POLICY):
        update["policy"] = {**base["policy"], **policy}
    # another backend than the config's: the saved options (base_url...) were the old one's
    switched = update.get("llm", base["llm"]) != base["llm"]
    if switched:
        update["llm_kwargs"] = {}
    if llm_kwargs := _given(args, _LLM_KWARGS):
        update["llm_kwargs"] = {**({} if switched else base["llm_kwargs"]), **llm_kwargs}
    if args.seeds:
        update["tasks"] = list(args.seeds)
    elif args.tasks is not None:
        update["tasks"] = list(range(args.task_start, args.task_start + args.tasks))
    if args.embedder is not None:
        update["memory"] = {**base["memory"], "embedder": args.embedder}
    if play := _given(args, _SELF_PLAY):
        update["self_play"] = {**base["self_play"], **play}
    if getattr(args, "curriculum", None) is not None:
        update["curriculum"] = {**base["curriculum"], "name": args.curriculum}
    update.update(_ray_fields(args))
    return AgentConfig.from_source({**base, **update})


def _ray_fields(args: argparse.Namespace) -> dict[str, Any]:
    """``--ray [auto|ADDRESS]`` and ``--envs-per-actor`` as config fields.

    >>> _ray_fields(argparse.Namespace(ray="auto", envs_per_actor=None))
    {'env_workers': 'ray', 'ray_address': 'auto'}
    >>> _ray_fields(argparse.Namespace(ray="local", envs_per_actor=2))["ray_address"] is None
    True
    """
    fields: dict[str, Any] = {}
    if getattr(args, "ray", None) is not None:
        fields = {"env_workers": "ray", "ray_address": None if args.ray == "local" else args.ray}
    if getattr(args, "envs_per_actor", None) is not None:
        fields["ray_envs_per_actor"] = args.envs_per_actor
    return fields


def _given(args: argparse.Namespace, names: dict[str, str]) -> dict[str, Any]:
    """``{field: value}`` for every option in ``names`` that was given on the command line."""
    return {field: getattr(args, dest) for dest, field in names.items()
            if getattr(args, dest, None) is not None}
