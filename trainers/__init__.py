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

from memplay._lazy import lazy_exports

# name -> "module:attribute"; resolved on first access (PEP 562): the package imports light.
_LAZY: dict[str, str] = {
    "ChatRecord": "memplay.trainers.records:ChatRecord",
    "PreferencePair": "memplay.trainers.records:PreferencePair",
    "read_jsonl": "memplay.trainers.records:read_jsonl",
    "write_jsonl": "memplay.trainers.records:write_jsonl",
    "to_dataset": "memplay.trainers.records:to_dataset",
    "load_trajectories": "memplay.trainers.data:load_trajectories",
    "sft_records": "memplay.trainers.data:sft_records",
    "read_training_file": "memplay.trainers.data:read_training_file",
    "collect_sft": "memplay.trainers.data:collect_sft",
    "preference_pairs": "memplay.trainers.pairs:preference_pairs",
    "collect_pairs": "memplay.trainers.pairs:collect_pairs",
    "TrainConfig": "memplay.trainers.base_config:TrainConfig",
    "describe_fields": "memplay.trainers.base_config:describe_fields",
    "SFTConfig": "memplay.trainers.sft_config:SFTConfig",
    "DPOConfig": "memplay.trainers.dpo_config:DPOConfig",
    "SFTTrainer": "memplay.trainers.sft_trainer:SFTTrainer",
    "DPOTrainer": "memplay.trainers.dpo_trainer:DPOTrainer",
    "TrainResult": "memplay.trainers.result:TrainResult",
    "ModelVersion": "memplay.trainers.version:ModelVersion",
    "read_version": "memplay.trainers.version:read_version",
    "record_success": "memplay.trainers.version:record_success",
    "record_epoch_success": "memplay.trainers.version:record_epoch_success",
    "latest_version": "memplay.trainers.version:latest_version",
    "answer_logprob": "memplay.trainers.logprobs:answer_logprob",
    "train_round": "memplay.trainers.loop:train_round",
    "collect_round_data": "memplay.trainers.loop:collect_round_data",
    "RoundRecord": "memplay.trainers.rounds:RoundRecord",
    "read_rounds": "memplay.trainers.rounds:read_rounds",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports("memplay.trainers", _LAZY, globals(), __all__)
