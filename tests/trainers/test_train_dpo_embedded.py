"""DPO with LoRA on CPU: pairs mined from successes and failures, the margin rises."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memplay.errors import TrainerError
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.dpo_trainer import DPOTrainer
from memplay.trainers.logprobs import answer_logprob
from memplay.trainers.modeling import cpu_threads
from memplay.trainers.pairs import preference_pairs
from memplay.trainers.sft_config import SFTConfig
from memplay.types import Step, Trajectory

pytestmark = pytest.mark.embedded


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    with cpu_threads(1):  # two threads on a busy 2-core machine are far slower than one
        yield


def lake(actions: list[str], success: bool, seed: int) -> Trajectory:
    steps, row, col = [], 0, 0
    for action in actions:
        steps.append(Step(observation=f"You are at row {row}, column {col}.", action=action))
        row += {"down": 1, "up": -1}.get(action, 0)
        col += {"right": 1, "left": -1}.get(action, 0)
    return Trajectory(env_id="FrozenLake-4x4-v0", goal="reach row 3, column 3", seed=seed,
                      steps=steps, success=success)


def test_dpo_lora_raises_the_chosen_rejected_margin(tmp_path: Path) -> None:
    trajs = [
        lake(["down", "down", "right"], True, seed=0), lake(["down", "left"], False, seed=0),
        lake(["right", "down"], True, seed=1), lake(["up"], False, seed=1),
        lake(["down", "right"], True, seed=2), lake(["down", "up"], False, seed=2),
    ]
    pairs = preference_pairs(trajs)
    assert len(pairs) == 3
    config = DPOConfig(learning_rate=2e-3, beta=0.1, batch_size=3, epochs=3, device="cpu",
                       num_threads=1, output_dir=str(tmp_path / "dpo"))
    trainer = DPOTrainer(None, config)

    def margins(model) -> list[float]:
        tok = trainer.tokenizer
        return [answer_logprob(model, tok, p.prompt, p.chosen)
                - answer_logprob(model, tok, p.prompt, p.rejected) for p in pairs]

    before = margins(trainer.model)
    result = trainer.train(pairs)

    assert result.steps == 3
    assert result.metrics["margin"][0] == pytest.approx(0.0, abs=1e-4)  # policy == reference
    assert result.metrics["margin"][-1] > result.metrics["margin"][0]
    assert result.losses[-1] < result.losses[0]
    after = margins(trainer.model)  # the merged model, measured independently of training
    assert all(a > b for a, b in zip(after, before)), (before, after)
    assert (tmp_path / "dpo" / "version.json").is_file()


def test_dpo_trainer_needs_a_dpo_config() -> None:
    with pytest.raises(TrainerError, match=r"needs a DPOConfig"):
        DPOTrainer(None, SFTConfig())


def test_empty_pair_list_is_a_clear_error() -> None:
    trainer = DPOTrainer(None, DPOConfig(device="cpu"))
    with pytest.raises(TrainerError, match=r"DPO dataset is empty"):
        trainer.train([])
