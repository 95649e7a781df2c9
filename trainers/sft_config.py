"""Configuration of supervised fine-tuning on the agent's own successes and revisions.

    >>> cfg = SFTConfig(max_steps=10, learning_rate=1e-4)
    >>> cfg.use_lora, cfg.max_steps
    (True, 10)
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
        "Keep one copy of identical successful paths (same task and actions), so a route "
        "repeated every epoch does not drown the rest.")})
