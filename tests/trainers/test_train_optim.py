"""The shared optimiser loop and the DPO loss, on tiny torch models (no LLM)."""

from __future__ import annotations

import pytest
import torch

from memplay.errors import TrainerError
from memplay.trainers.batches import collate, epoch_batches
from memplay.trainers.dpo_trainer import dpo_loss
from memplay.trainers.optim import optimise, planned_steps
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.tokenization import TokenizedExample


def regression_problem() -> tuple[torch.nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    torch.manual_seed(0)
    x = torch.randn(32, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    return torch.nn.Linear(3, 1), [(x[i : i + 4], y[i : i + 4]) for i in range(0, 32, 4)]


def mse(model: torch.nn.Module):
    def loss_fn(batch: tuple[torch.Tensor, torch.Tensor]):
        x, y = batch
        return torch.nn.functional.mse_loss(model(x).squeeze(-1), y), {"rows": float(len(x))}

    return loss_fn


def test_optimise_lowers_the_loss_and_logs_each_step() -> None:
    model, batches = regression_problem()
    config = SFTConfig(learning_rate=0.05)
    losses, metrics = optimise(model, batches * 5, mse(model), config, total=40)
    assert len(losses) == 40 and metrics["rows"] == [4.0] * 40
    assert losses[-1] < 0.2 * losses[0]
    assert not model.training  # left in eval mode for scoring


def test_accumulation_steps_once_per_group_and_flushes_the_rest() -> None:
    model, batches = regression_problem()  # 8 batches
    config = SFTConfig(grad_accum_steps=3)
    losses, _ = optimise(model, batches, mse(model), config, total=planned_steps(8, config))
    assert len(losses) == 3  # groups of 3, 3, and a partial 2


def test_max_steps_caps_the_run() -> None:
    model, batches = regression_problem()
    config = SFTConfig(max_steps=2, epochs=3)
    total = planned_steps(len(batches), config)
    assert total == 2
    assert len(optimise(model, batches * 3, mse(model), config, total)[0]) == 2


def test_no_trainable_parameters_is_an_error() -> None:
    model, batches = regression_problem()
    model.requires_grad_(False)
    with pytest.raises(TrainerError, match=r"no trainable parameters"):
        optimise(model, batches, mse(model), SFTConfig(), total=1)


def test_epoch_batches_cover_each_index_once_per_epoch_and_reshuffle() -> None:
    batches = list(epoch_batches(7, batch_size=3, epochs=2, seed=1))
    first, second = batches[:3], batches[3:]
    assert sorted(i for b in first for i in b) == list(range(7))
    assert sorted(i for b in second for i in b) == list(range(7))
    assert batches == list(epoch_batches(7, batch_size=3, epochs=2, seed=1))


def test_collate_pads_right_and_masks_padding() -> None:
    batch = collate([TokenizedExample([1, 2, 3], [-100, 2, 3]), TokenizedExample([4], [4])],
                    pad_id=9, device="cpu")
    assert batch["input_ids"].tolist() == [[1, 2, 3], [4, 9, 9]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 2, 3], [4, -100, -100]]


def test_dpo_loss_prefers_the_chosen_answer() -> None:
    ref = torch.tensor([-2.0, -2.0])
    loss_even, stats_even = dpo_loss(ref, ref, ref, ref, beta=0.1)
    assert stats_even["margin"] == 0.0 and loss_even.item() == pytest.approx(0.6931, abs=1e-4)
    better = torch.tensor([-1.0, -1.5])
    worse = torch.tensor([-3.0, -2.5])
    loss_good, stats = dpo_loss(better, worse, ref, ref, beta=0.1)
    assert loss_good < loss_even and stats["accuracy"] == 1.0
    assert stats["chosen_reward"] > 0 > stats["rejected_reward"]
    loss_bad, stats_bad = dpo_loss(worse, better, ref, ref, beta=0.1)
    assert loss_bad > loss_even and stats_bad["accuracy"] == 0.0


def test_dpo_loss_has_gradient_towards_chosen() -> None:
    chosen = torch.tensor([-2.0], requires_grad=True)
    rejected = torch.tensor([-2.0], requires_grad=True)
    loss, _ = dpo_loss(chosen, rejected, torch.tensor([-2.0]), torch.tensor([-2.0]), beta=0.5)
    loss.backward()
    assert chosen.grad is not None and rejected.grad is not None
    assert chosen.grad.item() < 0 < rejected.grad.item()  # descent raises chosen, lowers rejected
