"""What a training run reports back.

    >>> r = TrainResult(losses=[2.0, 1.5], steps=2, seconds=3.0)
    >>> r.final_loss
    1.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TrainResult"]


@dataclass
class TrainResult:
    """Per-step losses and counts of one ``train()`` call.

    ``metrics`` holds extra per-step series (DPO: ``margin``, ``accuracy``, ``chosen_reward``,
    ``rejected_reward``); ``output_dir`` is the saved model version, or None when not saved.

    >>> TrainResult(losses=[], steps=0, seconds=0.0).final_loss is None
    True
    """

    losses: list[float]
    steps: int
    seconds: float
    output_dir: Path | None = None
    examples: int = 0
    tokens: int = 0
    metrics: dict[str, list[float]] = field(default_factory=dict)

    @property
    def final_loss(self) -> float | None:
        """Loss of the last optimiser step (None before any step)."""
        return self.losses[-1] if self.losses else None
