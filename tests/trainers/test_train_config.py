"""Config checks: bad fields and bad combinations raise errors that name the fix."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from memplay.errors import ConfigError, TrainerError
from memplay.trainers.base_config import describe_fields
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.sft_config import SFTConfig


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"use_lora": True, "lora_r": 0}, "lora_r=0 with use_lora=True.*set lora_r=8"),
        ({"lora_dropout": 1.0}, "lora_dropout=1.0 must be in"),
        ({"lora_target_modules": ()}, "lora_target_modules is empty"),
        ({"learning_rate": 0.0}, "learning_rate=0.0 must be > 0"),
        ({"epochs": 0}, "epochs=0 must be >= 1"),
        ({"batch_size": 0}, "batch_size=0 must be >= 1"),
        ({"max_steps": 0}, "max_steps=0 must be >= 1"),
        ({"max_length": 8}, "max_length=8 is too short"),
        ({"num_threads": 0}, "num_threads=0 must be >= 1"),
        ({"device": "tpu"}, "device='tpu' is not one of"),
        ({"device": "cuda:x"}, "device='cuda:x'"),
        ({"dtype": "int8"}, "dtype='int8' is not one of"),
        ({"dtype": "float16", "device": "cpu"}, "half-precision training needs a GPU"),
    ],
)
def test_bad_fields_raise_config_error_naming_the_value(fields: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SFTConfig(**fields)


def test_lora_fields_are_ignored_for_full_fine_tuning() -> None:
    assert SFTConfig(use_lora=False, lora_r=0).lora_r == 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_gpu_is_trainer_error() -> None:
    with pytest.raises(TrainerError, match=r"torch sees no cuda device.*device='auto' or 'cpu'"):
        SFTConfig(device="cuda")


def test_dpo_checks_beta_and_keeps_base_checks() -> None:
    with pytest.raises(ConfigError, match=r"beta=-1.0 must be > 0"):
        DPOConfig(beta=-1.0)
    with pytest.raises(ConfigError, match=r"lora_r=0"):
        DPOConfig(lora_r=0)
    assert DPOConfig().learning_rate < SFTConfig().learning_rate


def test_replace_revalidates() -> None:
    with pytest.raises(ConfigError, match=r"epochs=0"):
        dataclasses.replace(SFTConfig(), epochs=0)


@pytest.mark.parametrize("cls", [SFTConfig, DPOConfig])
def test_every_field_is_documented(cls: type) -> None:
    helps = describe_fields(cls)
    assert set(helps) == {f.name for f in dataclasses.fields(cls)}
    assert all(len(text) > 10 for text in helps.values()), helps


def test_to_dict_is_json_ready() -> None:
    import json

    data = json.loads(json.dumps(DPOConfig(beta=0.2).to_dict()))
    assert data["beta"] == 0.2 and data["lora_target_modules"][0] == "q_proj"
