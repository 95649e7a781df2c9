"""Supervised fine-tuning on chat records (successes, Agent-R revision trajectories).

Loss is the usual next-token cross-entropy, only on the assistant turns each record lists in
``train_on`` (the prompt and the environment's observations are context, not targets)::

    >>> from memplay.trainers import SFTConfig, SFTTrainer, collect_sft  # doctest: +SKIP
    >>> trainer = SFTTrainer(None, SFTConfig(max_steps=20, output_dir="out/v1"))  # doctest: +SKIP
    >>> result = trainer.train(collect_sft("runs/frozenlake"))  # doctest: +SKIP
    >>> result.output_dir  # doctest: +SKIP
    PosixPath('out/v1')
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from memplay.errors import TrainerError
from memplay.trainers.base_config import TrainConfig
from memplay.trainers.batches import collate, epoch_batches
from memplay.trainers.optim import optimise, planned_steps
from memplay.trainers.records import ChatRecord, as_records
from memplay.trainers.result import TrainResult
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.tokenization import TokenizedExample, tokenize_chat
from memplay.trainers.trainer_base import BaseTrainer

__all__ = ["SFTTrainer"]


class SFTTrainer(BaseTrainer):
    """Fine-tune a causal LM on :class:`ChatRecord` data with LoRA or on every weight.

    ``train()`` may be called more than once; each call starts from the current weights.

    >>> SFTTrainer("/nonexistent", SFTConfig())
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: model folder '/nonexistent' has no config.json; ...
    """

    method = "sft"

    def __init__(self, model: str | Path | None = None, config: TrainConfig | None = None):
        super().__init__(model, config if config is not None else SFTConfig())

    def tokenize(self, records: list[ChatRecord]) -> list[TokenizedExample]:
        """Tokenise records in the model's chat format; raises when none fits max_length."""
        examples = [tokenize_chat(self.tokenizer, r, self.config.max_length) for r in records]
        kept = [ex for ex in examples if ex is not None]
        if not kept:
            raise TrainerError(
                f"none of the {len(records)} records has a trained turn within max_length="
                f"{self.config.max_length} tokens; collect data first or raise max_length"
            )
        return kept

    def train(self, dataset: Iterable[Any]) -> TrainResult:
        """Train on records (or dicts / a ``datasets.Dataset`` of them); save if output_dir."""
        records = as_records(dataset, ChatRecord)
        if not records:
            raise TrainerError("the SFT dataset is empty; build one with collect_sft(run_dir) "
                               "after some successful episodes")
        examples = self.tokenize(records)
        self._count_sources(records)
        cfg, started = self.config, time.perf_counter()
        batches = (
            collate([examples[i] for i in idx], self.tokenizer.pad_token_id, self.device)
            for idx in epoch_batches(len(examples), cfg.batch_size, cfg.epochs, cfg.seed)
        )
        total = planned_steps(-(-len(examples) // cfg.batch_size), cfg)
        with self._training() as net:

            def loss_fn(batch: dict[str, Any]) -> tuple[Any, dict[str, float]]:
                return net(**batch).loss, {}

            losses, metrics = optimise(net, batches, loss_fn, cfg, total)
        return self._finalise(TrainResult(
            losses=losses, steps=len(losses), seconds=time.perf_counter() - started,
            examples=len(examples), tokens=sum(ex.num_trained for ex in examples),
            metrics=metrics,
        ))
