"""The optional weight-update loop: SFT and DPO on the agent's own data.

Memory learns fast; weights learn slowly but generalise. This package turns a run directory
into chat-format training data (successes, Agent-R revisions, success/failure preference
pairs), fine-tunes the model with LoRA or on every weight, and saves each round as a model
version the backend reloads. torch and transformers load only when a trainer is used::

    >>> from memplay.trainers import SFTConfig
    >>> SFTConfig(max_steps=20).use_lora
    True
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module; resolved on first access (PEP 562) so importing the package stays light.
_LAZY: dict[str, str] = {
    "ChatRecord": "memplay.trainers.records",
    "PreferencePair": "memplay.trainers.records",
    "read_jsonl": "memplay.trainers.records",
    "write_jsonl": "memplay.trainers.records",
    "to_dataset": "memplay.trainers.records",
    "load_trajectories": "memplay.trainers.data",
    "sft_records": "memplay.trainers.data",
    "step_prompt": "memplay.trainers.data",
    "collect_sft": "memplay.trainers.data",
    "preference_pairs": "memplay.trainers.pairs",
    "collect_pairs": "memplay.trainers.pairs",
    "TrainConfig": "memplay.trainers.base_config",
    "describe_fields": "memplay.trainers.base_config",
    "SFTConfig": "memplay.trainers.sft_config",
    "DPOConfig": "memplay.trainers.dpo_config",
    "SFTTrainer": "memplay.trainers.sft_trainer",
    "DPOTrainer": "memplay.trainers.dpo_trainer",
    "TrainResult": "memplay.trainers.result",
    "ModelVersion": "memplay.trainers.version",
    "read_version": "memplay.trainers.version",
    "record_success": "memplay.trainers.version",
    "record_epoch_success": "memplay.trainers.version",
    "latest_version": "memplay.trainers.version",
    "answer_logprob": "memplay.trainers.logprobs",
    "train_round": "memplay.trainers.loop",
    "collect_round_data": "memplay.trainers.loop",
    "EpochTrainer": "memplay.trainers.periodic",
    "RoundRecord": "memplay.trainers.periodic",
    "read_rounds": "memplay.trainers.periodic",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'memplay.trainers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
