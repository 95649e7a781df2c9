"""The optimiser loop both trainers share: AdamW, warm-up, accumulation, clipping, logging.

A trainer hands over its batches and a function that turns a batch into
``(loss tensor, {metric: float})``; this module does the rest::

    >>> losses, metrics = optimise(model, batches, loss_fn, config, total=8)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from memplay.errors import TrainerError
from memplay.trainers.base_config import TrainConfig

__all__ = ["LossFn", "optimise", "planned_steps"]

log = logging.getLogger("memplay.trainers")
BatchT = TypeVar("BatchT")
LossFn = Callable[[BatchT], tuple[Any, dict[str, float]]]


def planned_steps(num_batches: int, config: TrainConfig) -> int:
    """Optimiser steps a run will take: all epochs, capped by ``max_steps``.

    >>> from memplay.trainers.sft_config import SFTConfig
    >>> planned_steps(10, SFTConfig(epochs=2, grad_accum_steps=4, max_steps=5))
    5
    """
    per_epoch = -(-num_batches // config.grad_accum_steps)  # ceil: a partial group still steps
    total = per_epoch * config.epochs
    return min(total, config.max_steps) if config.max_steps is not None else total


def _optimizer(model: Any, config: TrainConfig) -> tuple[Any, Any]:
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainerError("the model has no trainable parameters; with use_lora=False all "
                           "weights should train, with use_lora=True check lora_target_modules")
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    warmup = config.warmup_steps
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) if warmup else 1.0
    )
    return optimizer, schedule


class _Log:
    """Per-step means of the losses and metrics of the forward passes of one step."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.metrics: dict[str, list[float]] = defaultdict(list)
        self.pending: list[tuple[float, dict[str, float]]] = []

    def close_step(self, total: int) -> None:
        count = len(self.pending)
        self.losses.append(sum(loss for loss, _ in self.pending) / count)
        for name in self.pending[0][1]:
            self.metrics[name].append(sum(m[name] for _, m in self.pending) / count)
        self.pending.clear()
        log.info("step %d/%d loss %.4f", len(self.losses), total, self.losses[-1])


def optimise(
    model: Any,
    batches: Iterable[BatchT],
    loss_fn: LossFn[BatchT],
    config: TrainConfig,
    total: int,
) -> tuple[list[float], dict[str, list[float]]]:
    """Run at most ``total`` optimiser steps; returns per-step mean losses and metrics."""
    import torch

    optimizer, schedule = _optimizer(model, config)
    params = [p for p in model.parameters() if p.requires_grad]
    record = _Log()

    def step() -> None:
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        record.close_step(total)

    model.train()
    for batch in batches:
        loss, extras = loss_fn(batch)
        (loss / config.grad_accum_steps).backward()
        record.pending.append((float(loss.detach()), extras))
        if len(record.pending) == config.grad_accum_steps:
            step()
            if len(record.losses) >= total:
                break
    if record.pending and len(record.losses) < total:
        step()  # the data ended inside an accumulation group: use its gradient too
    model.eval()
    return record.losses, dict(record.metrics)
