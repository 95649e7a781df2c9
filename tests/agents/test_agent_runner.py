"""The runner: files written, metrics, resume after interruption, fault isolation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.run_files import RunFiles
from memplay.agents.runner import run_episodes
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM
from memplay.types import Trajectory


def _ctx(corridor: Any, n_envs: int = 2, **kw: Any) -> AgentContext:
    # Greedy and uncalibrated: the scripted "always right" policy must be followed.
    cfg = AgentConfig(variant="none", tasks=[3, 4, 5], epochs=2, parallel_envs=n_envs,
                      policy={"temperature": 0.0, "calibrate": False}, **kw)
    return AgentContext(envs=[corridor() for _ in range(n_envs)],
                        llm=ScriptedLLM(scores={"right": 0.0}), config=cfg,
                        env_factory=corridor)


def test_run_writes_rows_metrics_config_and_curve(corridor: Any, tmp_path: Path) -> None:
    result = run_episodes(_ctx(corridor), tmp_path, progress=False)
    rows = RunFiles(tmp_path).read_results()
    assert sorted(r.episode for r in rows) == list(range(6))
    assert [r.seed for r in sorted(rows, key=lambda r: r.episode)] == [3, 4, 5, 3, 4, 5]
    assert all(r.success and r.steps == 2 for r in rows)
    trajs = [Trajectory.model_validate_json(line) for line in
             (tmp_path / "trajectories.jsonl").read_text().splitlines()]
    assert len(trajs) == 6 and trajs[0].actions == ["right", "right"]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["success_per_epoch"] == [1.0, 1.0] and metrics["last_epoch_success"] == 1.0
    assert result.metrics["cumulative_success"] == [1.0, 1.0]
    assert (tmp_path / "learning_curve.png").stat().st_size > 1000
    assert "variant: none" in (tmp_path / "config.yaml").read_text()


def test_interrupted_run_resumes_where_it_stopped(corridor: Any, tmp_path: Path) -> None:
    batches = 0

    def crash_after_first_batch() -> None:
        nonlocal batches
        batches += 1
        if batches == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_episodes(_ctx(corridor), tmp_path, on_batch_end=crash_after_first_batch,
                     progress=False)
    assert RunFiles(tmp_path).done_episodes() == {0, 1}
    ctx = _ctx(corridor)
    run_episodes(ctx, tmp_path, progress=False)
    episodes = [r.episode for r in RunFiles(tmp_path).read_results()]
    assert sorted(episodes) == list(range(6)) and len(episodes) == 6
    assert sum(len(e.resets) for e in ctx.envs.envs) == 4  # only the 4 missing episodes ran


def test_a_torn_last_line_is_ignored_and_rerun(corridor: Any, tmp_path: Path) -> None:
    run_episodes(_ctx(corridor), tmp_path, progress=False)
    lines = (tmp_path / "episodes.jsonl").read_text().splitlines()
    (tmp_path / "episodes.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
    assert len(RunFiles(tmp_path).done_episodes()) == 5
    run_episodes(_ctx(corridor), tmp_path, progress=False)
    assert len(RunFiles(tmp_path).done_episodes()) == 6


def test_env_crash_marks_episode_errored_and_recreates_the_env(corridor: Any,
                                                               tmp_path: Path) -> None:
    ctx = _ctx(corridor)
    broken = corridor(crash_on_step=1)
    ctx.envs.envs[0] = broken  # the in-process envs of a plain list
    result = run_episodes(ctx, tmp_path, progress=False)
    rows = sorted(RunFiles(tmp_path).read_results(), key=lambda r: r.episode)
    assert rows[0].errored and "corridor exploded" in (rows[0].error or "")
    assert not any(r.errored for r in rows[1:]) and len(rows) == 6
    assert ctx.envs.envs[0] is not broken
    assert result.metrics["errored"] == 1 and result.metrics["success_per_epoch"][0] == 2 / 3


def test_unwritable_run_dir_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="not writable"):
        RunFiles(blocker / "run")


def test_envs_in_worker_processes_play_exactly_as_in_this_process(tmp_path: Path) -> None:
    from memplay.agents import Agent
    from memplay.memory import HashEmbedder

    curves = {}
    for where in ("local", "process"):
        agent = Agent("FrozenLake-4x4-v0", variant="memrl", env_workers=where,
                      llm=ScriptedLLM(scores={"down": -0.5}), embedder=HashEmbedder(64),
                      max_steps=8, parallel_envs=2)
        result = agent.run(epochs=2, tasks=[0, 1], run_dir=tmp_path / where, progress=False)
        agent.close()
        curves[where] = ((tmp_path / where / "trajectories.jsonl").read_text(),
                         result.success_per_epoch)
    assert curves["process"] == curves["local"]
