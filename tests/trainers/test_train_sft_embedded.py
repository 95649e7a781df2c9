"""SFT (TRL with a peft LoRA) of the embedded 135M model for a few steps on a tiny
FrozenLake-like run (CPU)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from memplay.agents.config import PromptConfig
from memplay.agents.prompts import agent_prompt_fn
from memplay.trainers.data import sft_records
from memplay.trainers.logprobs import answer_logprob
from memplay.trainers.loop import train_round
from memplay.trainers.modeling import cpu_threads
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.sft_trainer import SFTTrainer
from memplay.types import Step, Trajectory

pytestmark = pytest.mark.embedded
MOVES = ["left", "down", "right", "up"]

# the agent's play prompt, which step-wise training examples use
step_prompt = agent_prompt_fn(PromptConfig())


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    # on a busy 2-core machine two torch threads can be 10x slower than one
    with cpu_threads(1):
        yield


def lake(actions: list[str], success: bool, seed: int = 0) -> Trajectory:
    steps, row, col = [], 0, 0
    for action in actions:
        steps.append(Step(observation=f"You are at row {row}, column {col}.", action=action,
                          admissible_actions=MOVES))
        row += {"down": 1, "up": -1}.get(action, 0)
        col += {"right": 1, "left": -1}.get(action, 0)
    return Trajectory(env_id="FrozenLake-4x4-v0", goal="reach the goal at row 3, column 3",
                      seed=seed, steps=steps, success=success, total_reward=float(success))


def write_run(run: Path, trajectories: list[Trajectory]) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    (run / "trajectories.jsonl").write_text("".join(t.model_dump_json() + "\n"
                                                    for t in trajectories))
    return run


def trained_action_scores(llm, trajectory: Trajectory) -> list[float]:
    prompts = [step_prompt(trajectory, i) for i in range(len(trajectory.steps))]
    scores = llm.score(prompts, [MOVES] * len(prompts))
    return [next(s.logprob_sum for s in row if s.text == step.action)
            for row, step in zip(scores, trajectory.steps)]


def test_train_round_lowers_loss_raises_trained_actions_and_reloads(tmp_path: Path) -> None:
    from memplay.llm.transformers_backend import TransformersLLM

    win = lake(["down", "down", "right", "right", "down", "right"], True)
    run = write_run(tmp_path / "run", [win, lake(["right", "up"], False)])
    llm = TransformersLLM(device="cpu")
    before = trained_action_scores(llm, win)
    config = SFTConfig(learning_rate=1e-3, batch_size=3, epochs=2, device="cpu", num_threads=1)

    version = train_round(run, llm, config, prompt_fn=step_prompt)

    assert Path(version.path) == (run / "models" / "v1").resolve()
    assert version.steps == 4 and version.data == {"success": 6}
    assert version.losses[-1] < version.losses[0]
    saved = json.loads((run / "models" / "v1" / "version.json").read_text())
    assert saved["config"]["learning_rate"] == 1e-3 and saved["success_after"] is None
    assert not (run / "models" / "v1" / "adapter_config.json").exists()  # merged, plain model
    assert llm.source == run / "models" / "v1"  # the backend now plays with the new weights
    after = trained_action_scores(llm, win)
    assert sum(after) > sum(before) + 1.0, (before, after)
    assert sum(a > b for a, b in zip(after, before)) >= 5


def test_full_fine_tuning_on_transcripts(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    wins = [lake(["down", "right", "down"], True, seed=0), lake(["right", "down"], True, seed=1)]
    records = sft_records(wins)
    config = SFTConfig(use_lora=False, learning_rate=1e-4, batch_size=2, epochs=3,
                       device="cpu", num_threads=1, output_dir=str(tmp_path / "full"))
    trainer = SFTTrainer(None, config)
    held_in = [(r.messages[: i], r.messages[i]["content"]) for r in records for i in r.train_on]
    before = [answer_logprob(trainer.model, trainer.tokenizer, p, a) for p, a in held_in]

    result = trainer.train(records)

    # one example per trained answer (TRL sees prompt + completion pairs), batches of 2
    examples = sum(len(r.train_on) for r in records)
    assert result.steps == 3 * math.ceil(examples / 2) and result.losses[-1] < result.losses[0]
    after = [answer_logprob(trainer.model, trainer.tokenizer, p, a) for p, a in held_in]
    assert all(a > b for a, b in zip(after, before)), (before, after)
    reloaded = AutoModelForCausalLM.from_pretrained(str(result.output_dir))
    prompt, action = held_in[0]
    assert answer_logprob(reloaded, trainer.tokenizer, prompt, action) == pytest.approx(
        after[0], abs=1e-3)


def test_failed_training_leaves_the_weights_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    import trl

    trainer = SFTTrainer(None, SFTConfig(device="cpu"))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(trl.SFTTrainer, "train", crash)
    with pytest.raises(RuntimeError, match="out of memory"):
        trainer.train(sft_records([lake(["down"], True)]))
    assert not any("lora" in name for name, _ in trainer.model.named_modules())
    after = trainer.model.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
