"""AgentConfig: every knob of an agent run, validated, documented and loadable from YAML.

    >>> cfg = AgentConfig(variant="none", epochs=2)
    >>> cfg.spec.uses_memory, cfg.memory.retrieval.k2, cfg.policy.temperature
    (False, 3, 0.5)
    >>> AgentConfig.from_source({"memory": {"retrieval": {"k2": 0}}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: invalid config: memory.retrieval.k2=0: Input should be ... 1
"""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from memplay.agents.policy import PolicyConfig
from memplay.agents.variants import VariantSpec, get_variant
from memplay.config import load_config
from memplay.errors import ConfigError
from memplay.llm.registry import BACKENDS
from memplay.memory.config import MemoryConfig

__all__ = ["AgentConfig", "CurriculumConfig", "MemoryConfig", "PolicyConfig", "PromptConfig",
           "ReflectionConfig", "SelfPlayConfig", "StrategyConfig", "TrainLoopConfig"]

_RAY_ADDRESS = re.compile(r"auto|(ray://)?[\w.\-]+:\d+")


def _ray_missing() -> bool:
    """True when ``import ray`` would fail (checked without importing it: it is heavy)."""
    if "ray" in sys.modules:
        return sys.modules["ray"] is None
    return importlib.util.find_spec("ray") is None


# Fields that moved into ``policy`` (old configs and run directories still load, with a warning).
_MOVED_TO_POLICY = {("action_method",): "method", ("llm_weight",): "llm_weight",
                    ("calibrate",): "calibrate", ("temperature",): "temperature",
                    ("memory", "step_prior_weight"): "prior_weight",
                    ("memory", "exploration"): "exploration"}


class PromptConfig(BaseModel):
    """Bounds on what goes into a prompt (small models have short contexts)."""

    model_config = ConfigDict(extra="forbid")

    max_memory_chars: int = Field(
        default=400, ge=20, description="Each retrieved memory is cut to this many characters."
    )
    max_context_chars: int = Field(
        default=1500, ge=100, description="Memories + playbook together are cut to this size."
    )
    recent_steps: int = Field(default=3, ge=0, description="Past moves of this episode shown "
                              "(layout 'window').")
    layout: Literal["window", "log"] = Field(
        default="window", description="'window': the last recent_steps moves, then the "
        "current observation; 'log': every observation and action of the episode so far, "
        "appended step by step, so a backend that keeps each episode's attention states only "
        "runs the new step and the short tail (hint, actions) (docs/speed.md).")
    history_chars: int = Field(
        default=2400, ge=200, description="Layout 'log': the episode log's size bound; older "
        "steps are left out history_stride at a time, so the log stays a prefix between cuts.")
    history_stride: int = Field(
        default=8, ge=1, description="Layout 'log': steps dropped at once when the log is cut.")
    state: Literal["observation", "view"] = Field(
        default="observation", description="How the prompt describes the situation: "
        "'observation', the environment's text; 'view', its portable view (the state in "
        "map-independent words and, per allowed action, what it leads to), which reads the "
        "same on every map, so a model trained on it can act on maps it never saw; falls "
        "back to the observation where the environment gives no view (layout 'window').")
    memory_text: bool = Field(
        default=True, description="Show what memory recalls as text (task memories, the "
        "step hint, reflections' lessons). False: memory acts only through the policy's "
        "Q prior and novelty bonus, so a model trained on memory-free prompts (every "
        "distillation recipe) plays on the prompt it was trained on.")
    system: str = Field(
        default="You are an agent in a text game. Reply with exactly one of the allowed actions.",
        description="System message of every prompt.",
    )


class ReflectionConfig(BaseModel):
    """Self-written memory (reflections): CEL playbooks, Agent-R critique trees, Reflexion
    reflections and ExpeL insights."""

    model_config = ConfigDict(extra="forbid")

    playbook_tokens: int = Field(
        default=96, ge=8,
        description="Token cap of each rules/playbook rewrite (small models ramble past ~100).",
    )
    rewrite_every: int = Field(
        default=4, ge=1,
        description="Finished episodes between two playbook rewrites or insight updates (one "
        "per batch at most); larger values cost fewer LLM calls.",
    )
    critique_iterations: int = Field(
        default=200, ge=1, description="MCTS iterations per critique tree (one tree per task)."
    )
    critique_chars: int = Field(
        default=300, ge=20, description="Critique text shown in a prompt is cut to this size."
    )
    reflections_shown: int = Field(
        default=3, ge=1,
        description="Reflexion: the newest reflections on a task shown on its next try.")
    insights_shown: int = Field(
        default=8, ge=1, description="ExpeL: the best-voted insights shown to every task.")


class TrainLoopConfig(BaseModel):
    """The optional weight-update loop: play, collect, train, reload, play again."""

    model_config = ConfigDict(extra="forbid")

    recipe: str | None = Field(
        default=None, description="Distillation recipe of each round's data "
        "(memplay.agents.distill: successes, pairs, revisions, memory-greedy, "
        "memory-vs-model, demos, average-strategy, or your own); None: the method's default "
        "(successes for sft, pairs for dpo).")
    method: Literal["sft", "dpo"] | None = Field(
        default=None, description="Trainer run every ``train_every`` epochs; None: the "
        "recipe's (a recipe feeds one trainer).")
    data_files: list[str] = Field(
        default_factory=list, description="Extra inputs of the recipe (demo files for "
        "'demos', a strategy table for 'average-strategy', chat-record or pair files).")
    max_steps: int = Field(default=30, ge=1, description="Optimiser steps per training round.")
    learning_rate: float = Field(
        default=2e-4, gt=0.0,
        description="Optimiser learning rate (2e-4 suits LoRA; use ~1e-5 with lora=False).",
    )
    lora: bool = Field(default=True, description="Train LoRA adapters (merged on save).")

    @field_validator("recipe")
    @classmethod
    def _known_recipe(cls, value: str | None) -> str | None:
        from memplay.agents.distill.registry import RECIPES

        if value is not None and value not in RECIPES:
            raise ConfigError(RECIPES.unknown(value) + "; register your own with "
                              "memplay.agents.distill.register_recipe")
        return value
    min_examples: int = Field(
        default=1, ge=1,
        description="Skip a round (and say so) when the run has fewer training examples.",
    )


class SelfPlayConfig(BaseModel):
    """Self-play in two-player games: the opponent is the agent's own policy and both seats
    learn (see :mod:`memplay.agents.selfplay`).

    >>> SelfPlayConfig(enabled=True, pool_every=2).pool_size
    4
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=False, description="Play both seats of a two-player game: the env's opponent "
        "is the agent's own policy, and memory learns from both seats of every game.")
    pool_every: int = Field(
        default=0, ge=0, description="Save a frozen snapshot of step memory every K epochs "
        "and draw opponents from that pool (0 = always the live policy).")
    pool_size: int = Field(default=4, ge=1, description="Newest snapshots kept in the pool.")
    pool_share: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="Share of games played against a snapshot once the pool has one.")
    gamma: float = Field(
        default=1.0, ge=0.0, le=1.0,
        description="Discount of a game's payoff over a seat's earlier moves (1 = the payoff).")
    measure_every: int = Field(
        default=0, ge=0, description="Games between two exact measures of the strategy "
        "(games with a registered game tree, such as Kuhn and Leduc poker), and one at the "
        "end of every epoch; 0 = after every epoch only.")


class StrategyConfig(BaseModel):
    """Strategy memory (variants with ``strategy_memory``, such as ``mccfr``): how games are
    sampled and how much the LLM's opinion counts (see :mod:`memplay.agents.mccfr`).

    >>> StrategyConfig().exploration
    0.6
    """

    model_config = ConfigDict(extra="forbid")

    exploration: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Share of uniform play mixed into the "
        "strategy of a seat being taught (outcome sampling's epsilon; Lanctot et al. use 0.6).")
    prior_weight: float = Field(
        default=2.0, ge=0.0, description="Weight of the LLM's distribution over the actions "
        "in the strategy played, in visits: (n * regret matching + w * LLM) / (n + w) after n "
        "visits. 0: the LLM is never asked.")
    settle_visits: int = Field(
        default=20, ge=0, description="Visits after which an information state is settled: "
        "the LLM is no longer asked there (its mean answer keeps its fading weight).")
    baseline_step: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Step of the per-action baselines that "
        "reduce the variance of sampled values (VR-MCCFR); 0 = plain outcome sampling.")
    teach: Literal["both", "alternate"] = Field(
        default="both", description="Self-play: teach both seats from every game, or one "
        "seat per game in turn (the other plays on-policy).")


class CurriculumConfig(BaseModel):
    """Which tasks the next batch plays: a task sampler named in the curriculum registry
    (see :mod:`memplay.agents.curriculum`).

    >>> CurriculumConfig(name="sec").options
    {}
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        default="uniform", description="A registered task sampler: uniform (the fixed "
        "schedule), sec, replay, proposer, or your own.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="The sampler's own settings (its docstring).")

    @field_validator("name")
    @classmethod
    def _known_sampler(cls, value: str) -> str:
        from memplay.agents.curriculum.registry import CURRICULA

        if value not in CURRICULA:
            raise ConfigError(CURRICULA.unknown(value) + "; register your own with "
                              "memplay.agents.curriculum.register_curriculum")
        return value


class AgentConfig(BaseModel):
    """One agent run. Every field has a default, so ``AgentConfig()`` is the FrozenLake demo.

    Load from YAML with :meth:`from_source`; unknown or bad fields raise ConfigError naming
    the field.
    """

    model_config = ConfigDict(extra="forbid")

    env_id: str = Field(default="FrozenLake-4x4-v0", description="Registered environment id.")
    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="Passed to make().")
    variant: str = Field(
        default="memrl",
        description="A registered variant (none, rag, memrl, playbook, critique, reflexion, "
        "expel, or your own), or several joined with '+' such as memrl+playbook.")
    llm: str = Field(
        default="transformers",
        description="A registered LLM backend (transformers, openai, vllm, scripted, or your "
        "own); 'transformers' with model=None runs the embedded model.")
    model: str | None = Field(default=None, description="Model path/name; None = embedded SmolLM2.")
    llm_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra backend arguments, e.g. base_url for 'openai', device for GPUs.",
    )
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    epochs: int = Field(default=5, ge=1, description="Passes over the task set.")
    tasks: list[int] = Field(
        default_factory=lambda: list(range(4)), description="Task seeds (one episode each)."
    )
    parallel_envs: int = Field(default=4, ge=1, description="Environments stepped in lockstep.")
    env_workers: Literal["local", "process", "ray"] = Field(
        default="local", description="Where the environments run: 'local' (this process, one "
        "after another), 'process' (one worker process each, stepped in parallel: worth it "
        "for slow games such as ALFWorld) or 'ray' (actors on a Ray cluster; needs "
        "memplay[ray]). Also accepted as 'executor'. The agent loop (LLM calls, memory) "
        "always runs in this process.")
    ray_address: str | None = Field(
        default=None, description="env_workers='ray': the cluster to join: 'auto' (the one "
        "`ray start` runs on this machine), 'ray://HOST:10001' or 'HOST:6379'; None starts "
        "a local Ray instance for the run.")
    ray_envs_per_actor: int = Field(
        default=1, ge=1, description="env_workers='ray': environments each Ray actor holds "
        "(and steps one after another).")
    max_steps: int = Field(default=30, ge=1, description="Hard cap on steps per episode.")
    seed: int = Field(default=0, ge=0, description="Seed of the agent's own randomness.")
    frozen: bool = Field(default=False, description="Evaluate only: read memory, never write it.")
    trajectory_every: int = Field(
        default=1, ge=0, description="Keep the trajectory of every k-th episode in "
        "trajectories.jsonl (and self-play's games.jsonl); 0 = none. Episode rows are always "
        "written. Large runs of short games (self-play on poker) keep a sample.")
    memory_dir: str | None = Field(
        default=None,
        description="Memory directory (None: <run_dir>/memory). A run records the one it used "
        "in its config.yaml, so a resumed run continues on it.")
    train_every: int = Field(
        default=0, ge=0,
        description="Fine-tune the model on the run's own data every K epochs (0 = never).",
    )
    play_as_trained: bool = Field(
        default=True,
        description="When the model is a trained memplay version (a models/vN folder), play "
        "with the prompt and policy settings its recipe trained it for (version.json 'play': "
        "the portable view in the prompt, calibration off, greedy...) over this config's; "
        "False keeps this config's prompt and policy settings.")
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    reflection: ReflectionConfig = Field(default_factory=ReflectionConfig)
    train: TrainLoopConfig = Field(default_factory=TrainLoopConfig)
    log: list[Literal["tensorboard"]] = Field(
        default_factory=list,
        description="Also log per-epoch scalars: 'tensorboard' writes <run>/tensorboard/.",
    )
    self_play: SelfPlayConfig = Field(default_factory=SelfPlayConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    curriculum: CurriculumConfig = Field(default_factory=CurriculumConfig)

    @classmethod
    def from_source(cls, source: str | Path | Mapping[str, Any] | None) -> AgentConfig:
        """Validate a YAML file path, a mapping or None (defaults).

        >>> AgentConfig.from_source({"epochs": 3}).epochs
        3
        """
        return load_config(source, cls)

    @model_validator(mode="before")
    @classmethod
    def _move_policy_fields(cls, data: Any) -> Any:
        """Accept the pre-0.2 places of the policy fields, with a deprecation warning."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        policy = data.get("policy") or {}
        if not isinstance(policy, Mapping):
            return data  # pydantic reports the bad type
        policy = dict(policy)
        for path, name in _MOVED_TO_POLICY.items():
            holder = data if len(path) == 1 else data.get(path[0])
            if not isinstance(holder, Mapping) or path[-1] not in holder:
                continue
            holder = dict(holder)
            policy[name] = holder.pop(path[-1])  # the old place was written on purpose
            warnings.warn(f"config field {'.'.join(path)} moved to policy.{name}; "
                          "update the config", DeprecationWarning, stacklevel=2)
            if len(path) == 2:
                data[path[0]] = holder
        if policy:
            data["policy"] = policy
        return data

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        """``self_play=True`` and ``curriculum="sec"`` stand for their sections."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if isinstance(data.get("self_play"), bool):
            data["self_play"] = {"enabled": data["self_play"]}
        if isinstance(data.get("curriculum"), str):
            data["curriculum"] = {"name": data["curriculum"]}
        if "executor" in data:  # Agent(executor="ray"): given on purpose, so it wins
            data["env_workers"] = data.pop("executor")
        return data

    @model_validator(mode="after")
    def _ray_settings(self) -> AgentConfig:
        """Ray settings only with ``env_workers='ray'``, which needs the ray package."""
        if self.env_workers == "ray" and _ray_missing():
            raise ConfigError("env_workers='ray' needs the ray package, which is not "
                              "installed; pip install 'memplay[ray]'")
        if self.env_workers != "ray" and self.ray_address is not None:
            raise ConfigError(f"ray_address={self.ray_address!r} is set but env_workers is "
                              f"{self.env_workers!r}; set env_workers='ray' (memplay run "
                              "--ray ADDRESS) or drop ray_address")
        return self

    @field_validator("ray_address")
    @classmethod
    def _ray_address_form(cls, value: str | None) -> str | None:
        if value is None or _RAY_ADDRESS.fullmatch(value):
            return value
        raise ConfigError(f"ray_address={value!r} is not a Ray address; use 'auto' (the "
                          "cluster `ray start` runs on this machine), 'ray://HOST:10001' "
                          "(Ray Client), 'HOST:6379' (a head node), or None for a local "
                          "instance")

    @model_validator(mode="after")
    def _self_play_settings(self) -> AgentConfig:
        """Self-play plays both seats of ``opponent="self"`` envs (the runner moves for the
        seat to play, so envs may run in worker processes or on Ray). It keys step memory by
        the whole state text, which names the seat, whatever ``memory.step_keys`` says: a
        portable view could file an O move and an X move under one key."""
        if not self.self_play.enabled:
            return self
        opponent = self.env_kwargs.get("opponent", "self")
        if opponent != "self":
            raise ConfigError(f"self-play plays the opponent itself; remove env_kwargs."
                              f"opponent={opponent!r} or turn self_play off")
        self.env_kwargs = {**self.env_kwargs, "opponent": "self"}
        if self.memory.step_keys != "state":  # forced, also over a dumped default "view"
            self.memory = self.memory.model_copy(update={"step_keys": "state"})
        return self

    @field_validator("variant")
    @classmethod
    def _known_variant(cls, value: str) -> str:
        get_variant(value)  # raises ConfigError naming the closest variant
        return value

    @field_validator("llm")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ConfigError(BACKENDS.unknown(value) + "; register your own with "
                              "memplay.llm.register_backend")
        return value

    @property
    def spec(self) -> VariantSpec:
        """What this run's variant uses (see :mod:`memplay.agents.variants`)."""
        return get_variant(self.variant)

    def keeps_trajectory(self, episode: int) -> bool:
        """Is ``episode``'s trajectory written (see ``trajectory_every``)?

        >>> [AgentConfig(trajectory_every=2).keeps_trajectory(e) for e in range(3)]
        [True, False, True]
        """
        every = self.trajectory_every
        return every > 0 and episode % every == 0

    @property
    def exact_step_lookup(self) -> bool:
        """True when step memory answers only for exactly stored states (self-play, or
        ``memory.step_exact``)."""
        return self.self_play.enabled or self.memory.step_exact

    @property
    def uses_step_memory(self) -> bool:
        """True when the variant keeps step memory and ``memory.step_memory`` allows it."""
        return self.spec.step_memory and self.memory.step_memory
