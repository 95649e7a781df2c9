"""Per-epoch logging of a real run: memory_stats.jsonl (one row per epoch, idempotent),
TensorBoard scalars read back from the event file, and the LLM/env time and retrieval
similarities in episode rows."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from memplay.agents.agent import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.run_log.epoch_log import EpochLog
from memplay.agents.run_log.epoch_stats import Q_EDGES, read_memory_stats
from memplay.agents.run_log.tensorboard import SCALARS, TensorBoardLog
from memplay.app.commands.agent_options import add_agent_arguments, config_from_args
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM
from memplay.memory import HashEmbedder
from memplay.types import EpisodeResult

EPOCHS, TASKS = 3, [0, 1, 2, 3]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tensorboard", reason="--log tensorboard needs the tensorboard "
                        "package (the dev and tensorboard extras install it)")
    root = tmp_path_factory.mktemp("logged")
    agent = Agent("FrozenLake-random-v0", variant="memrl", llm=ScriptedLLM(),
                  embedder=HashEmbedder(64), max_steps=8, parallel_envs=2,
                  memory={"retrieval": {"merge_threshold": 0.999}}, log=["tensorboard"])
    agent.run(epochs=EPOCHS, tasks=TASKS, run_dir=root, progress=False)
    agent.close()
    return root


def _episodes(root: Path) -> list[EpisodeResult]:
    return [EpisodeResult.model_validate_json(line)
            for line in (root / "episodes.jsonl").read_text().splitlines()]


def test_memory_stats_has_one_row_per_epoch_matching_the_run(run: Path) -> None:
    rows = read_memory_stats(run)
    assert [r["epoch"] for r in rows] == list(range(EPOCHS))
    metrics = json.loads((run / "metrics.json").read_text())
    assert [r["success_rate"] for r in rows] == metrics["success_per_epoch"]
    items = (run / "memory" / "store" / "items.jsonl").read_text().splitlines()
    last = rows[-1]["task_memory"]
    assert last["items"] == len(items) == sum(last["q_hist"])
    assert last["q_edges"] == list(Q_EDGES)
    qs = [json.loads(line)["item"]["q"] for line in items]
    assert last["q_min"] == pytest.approx(min(qs)) and last["q_max"] == pytest.approx(max(qs))
    assert rows[0]["task_memory"]["items"] <= last["items"]  # memory grows epoch by epoch
    steps = (run / "memory" / "steps" / "states.jsonl").read_text().splitlines()
    assert rows[-1]["step_memory"]["states"] == len(steps)
    episodes = _episodes(run)
    for row in rows:
        mine = [e for e in episodes if e.epoch == row["epoch"]]
        assert row["retrieval_hit_rate"] == sum(bool(e.memories_used) for e in mine) / len(mine)


def test_epoch_hook_is_idempotent_and_calls_the_hook_it_wraps(run: Path) -> None:
    before = (run / "memory_stats.jsonl").read_text()
    called: list[int] = []
    log = EpochLog(run, AgentConfig(variant="memrl"), then=called.append)
    log.on_epoch_end(EPOCHS - 1)  # what a resumed run does at an epoch boundary
    assert (run / "memory_stats.jsonl").read_text() == before
    assert called == [EPOCHS - 1]


def test_tensorboard_event_file_holds_the_scalars(run: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events
    acc = EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    assert set(SCALARS) <= set(acc.Tags()["scalars"])
    assert "memory/q" in acc.Tags()["histograms"]
    rows = read_memory_stats(run)
    success = acc.Scalars("success/rate")
    assert [e.step for e in success] == list(range(1, EPOCHS + 1))
    assert [e.value for e in success] == pytest.approx([r["success_rate"] for r in rows])
    q_max = acc.Scalars("memory/q_max")
    assert [e.value for e in q_max] == pytest.approx([r["task_memory"]["q_max"] for r in rows])
    env_time = [e.value for e in acc.Scalars("time/env_seconds")]
    assert all(v > 0 for v in env_time)


def test_episode_rows_carry_llm_and_env_time_and_similarities(run: Path) -> None:
    episodes = _episodes(run)
    assert all(e.env_seconds > 0 and e.llm_seconds > 0 for e in episodes)
    assert all(e.llm_seconds + e.env_seconds <= e.seconds for e in episodes)
    assert all(len(e.memory_sims) == len(e.memories_used) for e in episodes)
    sims = [s for e in episodes for s in e.memory_sims]
    assert sims and all(-1.0 <= s <= 1.0 + 1e-6 for s in sims)
    # rows written before these fields existed still load, with zeros
    old = EpisodeResult.model_validate({"episode": 0, "env_id": "x", "success": True,
                                        "reward": 1.0, "steps": 3, "seconds": 0.5})
    assert (old.llm_seconds, old.env_seconds, old.memory_sims) == (0.0, 0.0, [])


def test_log_option_reaches_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_agent_arguments(parser)
    assert config_from_args(parser.parse_args(["--log", "tensorboard"])).log == ["tensorboard"]
    assert config_from_args(parser.parse_args([])).log == []
    with pytest.raises(ConfigError, match="log"):
        AgentConfig.from_source({"log": ["wandb"]})


def test_missing_tensorboard_package_is_a_config_error(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with pytest.raises(ConfigError, match=r"pip install 'memplay\[tensorboard\]'"):
        TensorBoardLog(tmp_path / "tb")
    with pytest.raises(ConfigError, match="tensorboard"):  # the run stops before any episode
        Agent("FrozenLake-4x4-v0", variant="none", llm=ScriptedLLM(),
              log=["tensorboard"]).run(epochs=1, tasks=[0], run_dir=tmp_path / "r",
                                       progress=False)
    assert not (tmp_path / "r" / "episodes.jsonl").exists()
