"""One distillation round end to end with the embedded model: memory's greedy moves on a
hand-built FrozenLake run, two TRL steps with a LoRA, a merged model version that plays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memplay.agents.distill.recipe import ACTION_PLAY
from memplay.agents.distill.round import distil_round
from memplay.agents.state import action_keys
from memplay.environments.demos import play
from memplay.environments.registry import make
from memplay.memory import HashEmbedder
from memplay.memory.step_memory import StepMemory
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.version import read_version

pytestmark = pytest.mark.embedded
ENV = "FrozenLake-4x4-v0"


def test_memory_greedy_round_trains_a_version_that_plays_as_trained(tmp_path: Path) -> None:
    moves = ["down", "down", "right", "right", "down", "right"]
    won = play(make(ENV), ENV, 0, lambda i, info: moves[i] if i < len(moves) else None)
    run = tmp_path / "run"
    run.mkdir()
    (run / "trajectories.jsonl").write_text(won.model_dump_json() + "\n")
    memory = StepMemory(HashEmbedder(64))
    for step in won.steps:  # memory values the path it won on
        key = action_keys(step.info["state"], step.info["view"], [step.action])[step.action]
        memory.update([key[1]], [key[0]], [1.0], alpha=1.0)
    memory.save(run / "memory" / "steps")
    config = SFTConfig(max_steps=2, batch_size=3, learning_rate=1e-3, device="cpu",
                       num_threads=1)

    version = distil_round(run, "memory-greedy", config, embedder=HashEmbedder(64))

    saved = read_version(run / "models" / "v1")
    assert saved.recipe == "memory-greedy" and saved.play == ACTION_PLAY
    assert saved.examples == 6 and saved.data == {"memory-greedy": 6}
    assert len(version.losses) == saved.steps == 2
    assert not (run / "models" / "v1" / "adapter_config.json").exists()  # merged
    config_json = json.loads((run / "models" / "v1" / "config.json").read_text())
    assert config_json["model_type"] == "llama"
