"""Direct Preference Optimisation on preference pairs, run by TRL's ``DPOTrainer``.

For a pair (prompt, chosen, rejected) with policy log-probs ``pc, pr`` and frozen reference
log-probs ``rc, rr``, the loss is ``-log sigmoid(beta * ((pc - rc) - (pr - rr)))``. The
reference is the model as it was when ``train()`` started; its log-probs are computed once
up front (with LoRA: the same network with the adapters switched off). Per step the result
records the loss and TRL's reward statistics: ``margin`` (chosen minus rejected implicit
reward), ``accuracy`` (share of pairs with a positive margin), ``chosen_reward`` and
``rejected_reward``::

    >>> trainer = DPOTrainer(None, DPOConfig(max_steps=10))  # doctest: +SKIP
    >>> trainer.train(pairs).metrics["accuracy"][-1]  # doctest: +SKIP
    1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from memplay.errors import TrainerError
from memplay.trainers.base_config import TrainConfig
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.records import PreferencePair, as_records
from memplay.trainers.result import TrainResult
from memplay.trainers.trainer_base import BaseTrainer

__all__ = ["DPOTrainer", "preference_rows"]


def preference_rows(pairs: Iterable[PreferencePair]) -> list[dict[str, Any]]:
    """TRL conversational preference rows: the prompt's messages and both answers as turns.

    >>> p = PreferencePair(prompt=[{"role": "user", "content": "at S"}], chosen="down",
    ...                    rejected="left")
    >>> preference_rows([p])[0]["rejected"]
    [{'role': 'assistant', 'content': 'left'}]
    """
    return [{"prompt": p.prompt, "chosen": [{"role": "assistant", "content": p.chosen}],
             "rejected": [{"role": "assistant", "content": p.rejected}]} for p in pairs]


class DPOTrainer(BaseTrainer):
    """DPO with LoRA (reference = adapters off) or full fine-tuning (reference = start weights).

    >>> DPOTrainer("/nonexistent", DPOConfig())
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: model folder '/nonexistent' has no config.json; ...
    """

    method = "dpo"
    trl_trainer = "DPOTrainer"
    logged: ClassVar[dict[str, str]] = {
        "loss": "loss", "rewards/margins": "margin", "rewards/accuracies": "accuracy",
        "rewards/chosen": "chosen_reward", "rewards/rejected": "rejected_reward"}

    def __init__(self, model: str | Path | None = None, config: TrainConfig | None = None):
        config = config if config is not None else DPOConfig()
        if not isinstance(config, DPOConfig):
            raise TrainerError(f"DPOTrainer needs a DPOConfig (for beta), got "
                               f"{type(config).__name__}; build DPOConfig(...) instead")
        super().__init__(model, config)

    def train(self, dataset: Iterable[Any]) -> TrainResult:
        """Train on preference pairs (records, dicts or a Dataset); save if output_dir."""
        from datasets import Dataset

        pairs = as_records(dataset, PreferencePair)
        if not pairs:
            raise TrainerError("the DPO dataset is empty; build one with a preference recipe "
                               "(memory-vs-model, pairs) after some play")
        self._count_sources(pairs)
        return self._fit(Dataset.from_list(preference_rows(pairs)), examples=len(pairs))

    def _trained_tokens(self, dataset: Any) -> int:
        names = [n for n in ("chosen_ids", "rejected_ids") if n in dataset.column_names]
        return sum(len(ids) for name in names for ids in dataset[name])
