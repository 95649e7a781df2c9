"""memplay's trainer configs translate into TRL's (no model loads)."""

from __future__ import annotations

import pytest

from memplay.errors import ConfigError
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.dpo_trainer import preference_rows
from memplay.trainers.records import ChatRecord, PreferencePair
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.sft_trainer import completion_rows
from memplay.trainers.trainer_base import logged_series


def test_sft_config_becomes_trls_with_loss_on_the_answer_only() -> None:
    ours = SFTConfig(learning_rate=3e-4, epochs=2, max_steps=None, batch_size=5,
                     grad_accum_steps=2, warmup_steps=4, lr_scheduler_type="cosine",
                     max_length=256, seed=7, device="cpu")
    trl = ours.to_trl("/tmp/unused")
    assert (trl.learning_rate, trl.num_train_epochs, trl.max_steps) == (3e-4, 2, -1)
    assert (trl.per_device_train_batch_size, trl.gradient_accumulation_steps) == (5, 2)
    assert (trl.warmup_steps, trl.lr_scheduler_type.value, trl.max_length) == (4, "cosine", 256)
    assert trl.completion_only_loss is True and trl.packing is False
    assert (trl.seed, trl.save_strategy.value, trl.logging_steps) == (7, "no", 1)
    assert trl.gradient_checkpointing is False and trl.use_cpu is True


def test_dpo_config_keeps_beta_and_precomputes_the_reference() -> None:
    trl = DPOConfig(beta=0.25, max_steps=3).to_trl("/tmp/unused")
    assert (trl.beta, trl.max_steps, trl.precompute_ref_log_probs) == (0.25, 3, True)


def test_unknown_schedule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"lr_scheduler_type='step'"):
        SFTConfig(lr_scheduler_type="step")


def test_records_become_trl_rows_one_per_trained_turn() -> None:
    record = ChatRecord(messages=[{"role": "system", "content": "s"},
                                  {"role": "user", "content": "u1"},
                                  {"role": "assistant", "content": "a1"},
                                  {"role": "user", "content": "u2"},
                                  {"role": "assistant", "content": "a2"}], train_on=[4])
    (row,) = completion_rows([record])  # a1 is context, not a target
    assert [m["content"] for m in row["prompt"]] == ["s", "u1", "a1", "u2"]
    assert row["completion"] == [{"role": "assistant", "content": "a2"}]
    pair = PreferencePair(prompt=[{"role": "user", "content": "q"}], chosen="x", rejected="y")
    assert preference_rows([pair])[0]["chosen"] == [{"role": "assistant", "content": "x"}]


def test_logged_series_keep_step_rows_only() -> None:
    history = [{"loss": 2.0, "mean_token_accuracy": 0.5, "step": 1},
               {"loss": 1.0, "mean_token_accuracy": 0.75, "step": 2},
               {"train_loss": 1.5, "train_runtime": 3.0}]
    assert logged_series(history, {"loss": "loss", "mean_token_accuracy": "acc"}) == {
        "loss": [2.0, 1.0], "acc": [0.5, 0.75]}


def test_time_budget_stops_training_after_the_step_that_crosses_it() -> None:
    from types import SimpleNamespace

    from memplay.trainers.trainer_base import time_budget

    control = SimpleNamespace(should_training_stop=False)
    patient = time_budget(3600.0)
    patient.on_train_begin(None, None, control)
    assert patient.on_step_end(None, None, control).should_training_stop is False
    spent = time_budget(0.0)
    spent.on_train_begin(None, None, control)
    assert spent.on_step_end(None, None, control).should_training_stop is True
    with pytest.raises(ConfigError, match="max_seconds=0"):
        SFTConfig(max_seconds=0)
