"""Configuration of supervised fine-tuning (TRL's ``SFTTrainer``) on distilled examples.

    >>> cfg = SFTConfig(max_steps=10, learning_rate=1e-4)
    >>> cfg.use_lora, cfg.max_steps
    (True, 10)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memplay.trainers.base_config import TrainConfig

__all__ = ["SFTConfig"]


@dataclass(frozen=True)
class SFTConfig(TrainConfig):
    """SFT settings: every :class:`TrainConfig` field plus how trajectories become examples.

    >>> SFTConfig(epochs=0)
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: epochs=0 must be >= 1; the default is 1
    """

    dedupe: bool = field(default=True, metadata={"help": (
        "Keep one copy of identical examples (same prompt and answer), so a route repeated "
        "every epoch does not drown the rest.")})

    def to_trl(self, output_dir: str) -> Any:
        """TRL's ``SFTConfig`` for these settings: loss on the completion (the answer) only.

        >>> SFTConfig(batch_size=2).to_trl("/tmp/sft").per_device_train_batch_size
        2
        """
        from memplay.trainers.trl_import import trl

        return trl().SFTConfig(**self.trl_arguments(output_dir), completion_only_loss=True,
                               packing=False)
