"""AgentConfig: every knob of an agent run, validated, documented and loadable from YAML.

    >>> cfg = AgentConfig(variant="none", epochs=2)
    >>> cfg.uses_task_memory, cfg.memory.k2
    (False, 3)
    >>> AgentConfig.from_source({"memory": {"k2": 0}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: invalid config: memory.k2=0: Input should be ... 1
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from memplay.config import load_config

__all__ = ["VARIANTS", "AgentConfig", "MemoryConfig", "PromptConfig", "ReflectionConfig",
           "TrainLoopConfig", "Variant"]

Variant = Literal["none", "rag", "memrl", "memrl+playbook", "memrl+critique"]
VARIANTS: tuple[str, ...] = ("none", "rag", "memrl", "memrl+playbook", "memrl+critique")


class MemoryConfig(BaseModel):
    """How memories are retrieved, valued and written back (MemRL defaults from the paper)."""

    model_config = ConfigDict(extra="forbid")

    k1: int = Field(default=5, ge=1, description="Phase A: candidates kept by similarity.")
    k2: int = Field(default=3, ge=1, description="Phase B: memories injected into the prompt.")
    delta: float = Field(default=0.5, ge=-1.0, le=1.0, description="Minimum cosine similarity.")
    lam: float = Field(default=0.5, ge=0.0, le=1.0, description="Weight of Q against similarity.")
    alpha: float = Field(default=0.3, gt=0.0, le=1.0, description="Q learning rate (Monte Carlo).")
    q_init: float = Field(default=0.0, description="Q of a freshly written memory.")
    merge_threshold: float = Field(default=0.9, ge=0.0, le=1.0, description="Merge above this sim.")
    step_memory: bool = Field(
        default=True, description="Use step-level memory (state -> action Q)."
    )
    step_prior_weight: float = Field(
        default=4.0, ge=0.0, description="Weight of step-level Q added to the LLM's action score."
    )
    exploration: float = Field(
        default=2.0, ge=0.0, description="Novelty bonus scale c in c/sqrt(1+visits)."
    )
    gamma: float = Field(
        default=0.95, ge=0.0, le=1.0,
        description="Discount of step returns (outcome and novelty) over earlier steps.",
    )
    novelty: float = Field(
        default=0.3, ge=0.0,
        description="Intrinsic reward for the first visit (per episode) to a rare state.",
    )
    noop_penalty: float = Field(
        default=0.5, ge=0.0, description="Return of a move that left the state unchanged."
    )
    embedder: Literal["default", "hash"] = Field(
        default="default", description="'default' is MiniLM; 'hash' is fast, model-free (tests)."
    )


class PromptConfig(BaseModel):
    """Bounds on what goes into a prompt (small models have short contexts)."""

    model_config = ConfigDict(extra="forbid")

    max_memory_chars: int = Field(
        default=400, ge=20, description="Each retrieved memory is cut to this many characters."
    )
    max_context_chars: int = Field(
        default=1500, ge=100, description="Memories + playbook together are cut to this size."
    )
    recent_steps: int = Field(default=3, ge=0, description="Past moves of this episode shown.")
    system: str = Field(
        default="You are an agent in a text game. Reply with exactly one of the allowed actions.",
        description="System message of every prompt.",
    )


class ReflectionConfig(BaseModel):
    """Self-written memory: CEL playbooks and Agent-R critique trees (variants
    ``memrl+playbook`` and ``memrl+critique``)."""

    model_config = ConfigDict(extra="forbid")

    playbook_tokens: int = Field(
        default=96, ge=8,
        description="Token cap of each rules/playbook rewrite (small models ramble past ~100).",
    )
    rewrite_every: int = Field(
        default=4, ge=1,
        description="Finished episodes between two playbook rewrites (one rewrite per batch "
        "at most); larger values cost fewer LLM calls.",
    )
    critique_iterations: int = Field(
        default=200, ge=1, description="MCTS iterations per critique tree (one tree per task)."
    )
    critique_chars: int = Field(
        default=300, ge=20, description="Critique text shown in a prompt is cut to this size."
    )


class TrainLoopConfig(BaseModel):
    """The optional weight-update loop: play, collect, train, reload, play again."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["sft", "dpo"] = Field(
        default="sft", description="Trainer run every ``train_every`` epochs."
    )
    max_steps: int = Field(default=30, ge=1, description="Optimiser steps per training round.")
    learning_rate: float = Field(
        default=2e-4, gt=0.0,
        description="Optimiser learning rate (2e-4 suits LoRA; use ~1e-5 with lora=False).",
    )
    lora: bool = Field(default=True, description="Train LoRA adapters (merged on save).")
    min_examples: int = Field(
        default=1, ge=1,
        description="Skip a round (and say so) when the run has fewer training examples.",
    )


class AgentConfig(BaseModel):
    """One agent run. Every field has a default, so ``AgentConfig()`` is the FrozenLake demo.

    Load from YAML with :meth:`from_source`; unknown or bad fields raise ConfigError naming
    the field.
    """

    model_config = ConfigDict(extra="forbid")

    env_id: str = Field(default="FrozenLake-4x4-v0", description="Registered environment id.")
    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="Passed to make().")
    variant: Variant = Field(
        default="memrl", description="none | rag | memrl | memrl+playbook | memrl+critique."
    )
    llm: Literal["transformers", "openai", "vllm", "scripted"] = Field(
        default="transformers", description="LLM backend; 'transformers' runs the embedded model."
    )
    model: str | None = Field(default=None, description="Model path/name; None = embedded SmolLM2.")
    llm_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra backend arguments, e.g. base_url for 'openai', device for GPUs.",
    )
    action_method: Literal["score", "generate"] = Field(
        default="score", description="Choose actions by scoring admissible ones or by generating."
    )
    llm_weight: float = Field(
        default=0.5, ge=0.0,
        description="Weight of the LLM's log-probabilities against memory and exploration.",
    )
    calibrate: bool = Field(
        default=True,
        description="Subtract each action's running mean LLM score (context-free bias).",
    )
    temperature: float = Field(
        default=0.5, ge=0.0, description="Softmax temperature over action scores; 0 = argmax."
    )
    epochs: int = Field(default=5, ge=1, description="Passes over the task set.")
    tasks: list[int] = Field(
        default_factory=lambda: list(range(4)), description="Task seeds (one episode each)."
    )
    parallel_envs: int = Field(default=4, ge=1, description="Environments stepped in lockstep.")
    max_steps: int = Field(default=30, ge=1, description="Hard cap on steps per episode.")
    seed: int = Field(default=0, ge=0, description="Seed of the agent's own randomness.")
    frozen: bool = Field(default=False, description="Evaluate only: read memory, never write it.")
    train_every: int = Field(
        default=0, ge=0,
        description="Fine-tune the model on the run's own data every K epochs (0 = never).",
    )
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    prompt: PromptConfig = Field(default_factory=PromptConfig)
    reflection: ReflectionConfig = Field(default_factory=ReflectionConfig)
    train: TrainLoopConfig = Field(default_factory=TrainLoopConfig)
    log: list[Literal["tensorboard"]] = Field(
        default_factory=list,
        description="Also log per-epoch scalars: 'tensorboard' writes <run>/tensorboard/.",
    )

    @classmethod
    def from_source(cls, source: str | Path | Mapping[str, Any] | None) -> AgentConfig:
        """Validate a YAML file path, a mapping or None (defaults).

        >>> AgentConfig.from_source({"epochs": 3}).epochs
        3
        """
        return load_config(source, cls)

    @property
    def uses_task_memory(self) -> bool:
        """True when episodes retrieve and write task-level memories (all but 'none')."""
        return self.variant != "none"

    @property
    def uses_step_memory(self) -> bool:
        """True when the step-level memory prior and novelty bonus are active."""
        return self.variant in ("memrl", "memrl+playbook", "memrl+critique") and \
            self.memory.step_memory

    @property
    def uses_playbook(self) -> bool:
        """True for the CEL-style variant that rewrites a playbook after each episode."""
        return self.variant == "memrl+playbook"

    @property
    def uses_critique(self) -> bool:
        """True for the Agent-R-style variant that searches critique trees per task."""
        return self.variant == "memrl+critique"
