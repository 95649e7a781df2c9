"""An agent whose environments run as Ray actors: config and CLI wiring, the same memory as a
local run, a killed actor costs one episode (recorded as errored, not retried), and an
interrupted run closes its actors and resumes."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.run_files import RunFiles
from memplay.app.commands.agent_options import add_agent_arguments, config_from_args
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM

# The store gives each item a random id (uuid4) and stamps it with wall-clock times; nothing
# else a run writes into its memory directory may differ between executors.
_VOLATILE = re.compile(r'"(id|created_at|updated_at)": "[^"]*"')
_TIMINGS = ("seconds", "llm_seconds", "env_seconds")


def test_executor_and_ray_fields_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = AgentConfig.from_source({"executor": "ray", "ray_address": "ray://head:10001"})
    assert (cfg.env_workers, cfg.ray_address) == ("ray", "ray://head:10001")
    with pytest.raises(ConfigError, match="env_workers='ray'"):
        AgentConfig.from_source({"ray_address": "auto"})  # an address without the executor
    with pytest.raises(ConfigError, match="not a Ray address"):
        AgentConfig.from_source({"executor": "ray", "ray_address": "http://head"})
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with pytest.raises(ConfigError, match=r"pip install 'memplay\[ray\]'"):
        AgentConfig.from_source({"executor": "ray"})


def test_cli_ray_option_sets_the_executor_and_address() -> None:
    parser = argparse.ArgumentParser()
    add_agent_arguments(parser)
    auto = config_from_args(parser.parse_args(["--ray", "auto", "--envs-per-actor", "3"]))
    assert (auto.env_workers, auto.ray_address, auto.ray_envs_per_actor) == ("ray", "auto", 3)
    alone = config_from_args(parser.parse_args(["--ray"]))
    assert (alone.env_workers, alone.ray_address) == ("ray", None)
    assert config_from_args(parser.parse_args([])).env_workers == "local"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


def _agent(executor: str, llm: Any = None) -> Agent:
    return Agent("FrozenLake-random-v0", variant="memrl", executor=executor,
                 llm=llm or ScriptedLLM(scores={"down": -0.5}), memory={"embedder": "hash"},
                 max_steps=6, parallel_envs=2, seed=3)


def _play(agent: Agent, run_dir: Path) -> Any:
    try:
        return agent.run(epochs=2, tasks=[0, 1], run_dir=run_dir, progress=False)
    finally:
        agent.close()


def _file_text(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name == "items.jsonl":
        data = _VOLATILE.sub(r'"\1": "-"', data.decode()).encode()
    if path.name == "manifest.json" and path.parent.name == "store":
        manifest = json.loads(data)  # records the sha256 of items.jsonl
        manifest["files"]["items.jsonl"].pop("sha256")
        data = json.dumps(manifest).encode()
    return data


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in row.items() if k not in (*_TIMINGS, "memories_used")}
            for row in rows]


def test_a_ray_run_writes_the_memory_a_local_run_writes(cluster: Any, tmp_path: Path) -> None:
    results = {where: _play(_agent(where), tmp_path / where) for where in ("local", "ray")}
    assert results["ray"].success_per_epoch == results["local"].success_per_epoch
    local, remote = tmp_path / "local" / "memory", tmp_path / "ray" / "memory"
    files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert {"store/items.jsonl", "store/index.faiss", "steps/states.jsonl",
            "steps/vectors.npy"} <= {str(f) for f in files}
    assert files == sorted(p.relative_to(remote) for p in remote.rglob("*") if p.is_file())
    for name in files:
        assert _file_text(local / name) == _file_text(remote / name), name
    for name in ("trajectories.jsonl", "episodes.jsonl"):
        assert _rows(tmp_path / "ray" / name) == _rows(tmp_path / "local" / name)


def test_self_play_on_ray_plays_both_seats_as_a_local_run_does(cluster: Any,
                                                                tmp_path: Path) -> None:
    # the runner moves for the seat to play: no env calls back into the agent
    texts = {}
    for where in ("local", "ray"):
        agent = Agent("KuhnPoker-v0", variant="mccfr", executor=where, llm=ScriptedLLM(),
                      self_play=True, parallel_envs=2, seed=1)
        _play(agent, tmp_path / where)
        texts[where] = [(tmp_path / where / name).read_text() for name in
                        ("memory/strategy/infostates.jsonl", "selfplay/games.jsonl")]
    assert texts["ray"] == texts["local"] and texts["local"][0]


def _spy_on_workers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every RayEnvs the agent builds, and whether it was closed."""
    from memplay.agents import components

    made: list[Any] = []
    build = components._EXECUTORS["ray"]

    def spy(config: AgentConfig, count: int) -> Any:
        envs = build(config, count)
        close = envs.close
        envs.closed = False

        def closing() -> None:
            envs.closed = True
            close()
        envs.close = closing
        made.append(envs)
        return envs
    monkeypatch.setitem(components._EXECUTORS, "ray", spy)
    return made


def test_a_killed_actor_costs_one_episode_which_is_not_retried(
        cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _spy_on_workers(monkeypatch)
    calls = 0

    def kill_on_first_decision(prompt: Any, action: str) -> float:
        nonlocal calls
        calls += 1
        if calls == 1:  # the first decision: slot 0 has not stepped yet
            made[-1].kill_actor(0)
        return -0.5 if action == "down" else -5.0
    _play(_agent("ray", ScriptedLLM(scores=kill_on_first_decision)), tmp_path)
    rows = sorted(RunFiles(tmp_path).read_results(), key=lambda r: r.episode)
    assert [r.episode for r in rows] == [0, 1, 2, 3]
    assert [r.errored for r in rows] == [True, False, False, False]
    assert "died" in (rows[0].error or "") and rows[2].steps > 0  # slot 0 played again
    assert made[-1].restarts == 1 and made[-1].closed
    _play(_agent("ray"), tmp_path)  # resuming: every episode is recorded, errored ones too
    assert len(RunFiles(tmp_path).read_results()) == 4


def test_an_interrupted_ray_run_closes_its_actors_and_resumes(
        cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _spy_on_workers(monkeypatch)

    def interrupt_in_second_batch(prompt: Any, action: str) -> float:
        if RunFiles(tmp_path).done_episodes():  # the first batch is on disk
            raise KeyboardInterrupt
        return 0.0
    with pytest.raises(KeyboardInterrupt):
        _play(_agent("ray", ScriptedLLM(scores=interrupt_in_second_batch)), tmp_path)
    assert made[-1].closed and RunFiles(tmp_path).done_episodes() == {0, 1}
    _play(_agent("ray"), tmp_path)
    assert sorted(r.episode for r in RunFiles(tmp_path).read_results()) == [0, 1, 2, 3]
    assert made[-1].closed
