"""train_every with the real embedded model: train after epoch 1, save, reload, play on.

The map is a 4x4 FrozenLake with no holes and the goal two moves from the start, so the
first epoch has successes to train on within seconds; the test is about the weight loop's
wiring (real LoRA training, merge, save, reload into the playing backend), not about the
learning curve, which bench/bench_train.py measures on the default map.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from memplay.agents import Agent
from memplay.memory import HashEmbedder
from memplay.trainers.rounds import read_rounds
from memplay.trainers.version import list_versions, read_version

pytestmark = pytest.mark.embedded

EASY_MAP = ["SFFF", "FGFF", "FFFF", "FFFF"]
PROBE = [{"role": "user", "content": "You are at row 0, column 0. Your action:"}]


def test_embedded_model_trains_reloads_and_keeps_playing(tmp_path: Path) -> None:
    from memplay.llm.transformers_backend import TransformersLLM

    llm = TransformersLLM(device="cpu", num_threads=1)
    base = llm.source
    before = [s.logprob_sum for s in llm.score([PROBE], [["down", "right"]])[0]]
    agent = Agent("FrozenLake-4x4-v0", variant="memrl", llm=llm, embedder=HashEmbedder(64),
                  env_kwargs={"desc": EASY_MAP}, max_steps=8, parallel_envs=2, seed=0,
                  train_every=1,
                  train={"max_steps": 2, "learning_rate": 1e-3, "min_examples": 1})
    try:
        result = agent.run(epochs=2, tasks=[0, 1], run_dir=tmp_path, progress=False)
    finally:
        agent.close()

    assert result.success_per_epoch[0] is not None and result.success_per_epoch[0] > 0
    (v1,) = list_versions(tmp_path)
    assert (v1 / "config.json").is_file() and (v1 / "model.safetensors").is_file()
    version = read_version(v1)
    assert version.after_epoch == 0 and version.steps == 2 and version.method == "sft"
    assert len(version.losses) == 2 and all(math.isfinite(x) for x in version.losses)
    assert version.config["learning_rate"] == 1e-3 and version.config["use_lora"] is True
    # the backend plays with the new weights: its source moved and its scores changed
    assert Path(str(llm.source)) == v1 and str(llm.source) != str(base)
    after = [s.logprob_sum for s in llm.score([PROBE], [["down", "right"]])[0]]
    assert max(abs(a - b) for a, b in zip(after, before)) > 1e-4
    # and the run went on: epoch 2 was played with v1 and its success recorded there
    assert result.metrics["episodes"] == 4 and result.success_per_epoch[1] is not None
    assert set(version.success_per_epoch) == {1}
    assert version.success_per_epoch[1] == result.success_per_epoch[1]
    assert [r.status for r in read_rounds(tmp_path)] == ["trained"]
