"""Configuration of DPO on preference pairs mined from the agent's own play.

    >>> DPOConfig(beta=0.0)
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: beta=0.0 must be > 0; 0.1 is usual (larger = stay closer ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memplay.errors import ConfigError
from memplay.trainers.base_config import TrainConfig

__all__ = ["DPOConfig"]


@dataclass(frozen=True)
class DPOConfig(TrainConfig):
    """DPO settings: every :class:`TrainConfig` field plus the DPO temperature and pair cap.

    The reference model is the starting model, frozen. Its log-probs are computed once
    before the first step (TRL's ``precompute_ref_log_probs``; with LoRA the reference is the
    same network with its adapters switched off, so no second copy is kept in memory).

    >>> DPOConfig(beta=0.5).learning_rate
    5e-05
    """

    learning_rate: float = field(default=5e-5, metadata={"help": (
        "AdamW learning rate (> 0); DPO wants a smaller one than SFT.")})
    beta: float = field(default=0.1, metadata={"help": (
        "DPO temperature (> 0): how strongly the log-ratio margin is pushed; larger keeps "
        "the policy closer to the reference.")})
    max_pairs_per_task: int = field(default=8, metadata={"help": (
        "At most this many pairs mined from one task (env, goal, seed), >= 1.")})

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.beta > 0:
            raise ConfigError(f"beta={self.beta} must be > 0; 0.1 is usual (larger = stay "
                              "closer to the reference model)")
        if self.max_pairs_per_task < 1:
            raise ConfigError(f"max_pairs_per_task={self.max_pairs_per_task} must be >= 1; "
                              "the default is 8")

    def to_trl(self, output_dir: str) -> Any:
        """TRL's ``DPOConfig`` for these settings (sigmoid DPO loss, reference precomputed).

        >>> DPOConfig(beta=0.3).to_trl("/tmp/dpo").beta
        0.3
        """
        from memplay.trainers.trl_import import trl

        return trl().DPOConfig(**self.trl_arguments(output_dir), beta=self.beta,
                               precompute_ref_log_probs=True)
