"""Supervised fine-tuning on chat records, run by TRL's ``SFTTrainer`` with a peft LoRA.

Loss is next-token cross-entropy on the assistant turns each record lists in ``train_on``
only (the prompt and the environment's observations are context, not targets). Each trained
turn becomes one of TRL's conversational prompt-completion rows: the messages before it are
the prompt (rendered with the chat template's generation prompt, exactly as the agent's
backend scores actions) and the turn is the completion, its end-of-turn token included, so
the model also learns to stop::

    >>> from memplay.trainers import SFTConfig, SFTTrainer  # doctest: +SKIP
    >>> trainer = SFTTrainer(None, SFTConfig(max_steps=20, output_dir="out/v1"))  # doctest: +SKIP
    >>> result = trainer.train(records)  # doctest: +SKIP
    >>> result.output_dir  # doctest: +SKIP
    PosixPath('out/v1')
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from memplay.errors import TrainerError
from memplay.trainers.base_config import TrainConfig
from memplay.trainers.records import ChatRecord, as_records
from memplay.trainers.result import TrainResult
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.trainer_base import BaseTrainer

__all__ = ["SFTTrainer", "completion_rows"]

IGNORE_INDEX = -100  # the label value of tokens that carry no loss


def completion_rows(records: Iterable[ChatRecord]) -> list[dict[str, Any]]:
    """TRL prompt-completion rows: one per trained assistant turn of each record.

    >>> r = ChatRecord(messages=[{"role": "user", "content": "at S"},
    ...                          {"role": "assistant", "content": "down"},
    ...                          {"role": "user", "content": "at F"},
    ...                          {"role": "assistant", "content": "right"}], train_on=[1, 3])
    >>> [(len(row["prompt"]), row["completion"][0]["content"]) for row in completion_rows([r])]
    [(1, 'down'), (3, 'right')]
    """
    return [{"prompt": r.messages[:i], "completion": [r.messages[i]]}
            for r in records for i in sorted(r.train_on)]


class SFTTrainer(BaseTrainer):
    """Fine-tune a causal LM on :class:`ChatRecord` data with LoRA or on every weight.

    ``train()`` may be called more than once; each call starts from the current weights.

    >>> SFTTrainer("/nonexistent", SFTConfig())
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: model folder '/nonexistent' has no config.json; ...
    """

    method = "sft"
    trl_trainer = "SFTTrainer"
    logged: ClassVar[dict[str, str]] = {"loss": "loss", "mean_token_accuracy": "token_accuracy"}

    def __init__(self, model: str | Path | None = None, config: TrainConfig | None = None):
        super().__init__(model, config if config is not None else SFTConfig())

    def train(self, dataset: Iterable[Any]) -> TrainResult:
        """Train on records (or dicts / a ``datasets.Dataset`` of them); save if output_dir."""
        from datasets import Dataset

        records = as_records(dataset, ChatRecord)
        if not records:
            raise TrainerError("the SFT dataset is empty; build one with a distillation "
                               "recipe (memplay.agents.distill) or collect_sft(run_dir)")
        self._count_sources(records)
        rows = completion_rows(records)
        return self._fit(Dataset.from_list(rows), examples=len(rows))

    def _trained_tokens(self, dataset: Any) -> int:
        if "labels" not in dataset.column_names:
            return 0
        return sum(sum(t != IGNORE_INDEX for t in labels) for labels in dataset["labels"])
