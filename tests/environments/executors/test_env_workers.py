"""Environment workers: in-process lockstep and one process per env give the same results;
faults stay with their env; a dead or hung worker is restarted."""

from __future__ import annotations

import importlib.util
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memplay.environments.executors.workers import EnvRecipe, LocalEnvs, ProcessEnvs
from memplay.errors import ConfigError, EnvironmentFault

LAKE = EnvRecipe("FrozenLake-random-v0")
_REPO_DATA = Path(__file__).resolve().parents[3] / ".cache" / "alfworld"


def _comparable(results: list[Any]) -> list[Any]:
    # exceptions compare by identity: compare a fault by its type and message
    return [("fault", str(r)) if isinstance(r, EnvironmentFault) else r for r in results]


@pytest.fixture(scope="module")
def lakes() -> Iterator[ProcessEnvs]:
    envs = ProcessEnvs(LAKE, num_envs=2, timeout_s=20)
    yield envs
    envs.close()


def test_processes_give_what_in_process_stepping_gives(lakes: ProcessEnvs) -> None:
    local = LocalEnvs(LAKE, num_envs=2)
    seeds, moves = [5, 9], [["down", "right"], ["right", "right"], ["down", "up"]]
    first = local.reset_many([0, 1], seeds=seeds)
    assert first == lakes.reset_many([0, 1], seeds=seeds)
    assert first[0][0] != first[1][0]  # two different random maps
    for actions in moves:
        here = local.step_many([1, 0], actions)
        assert _comparable(here) == _comparable(lakes.step_many([1, 0], actions))
    # start_* returns at once; the answer is read on wait()
    pending = lakes.start_reset([0], seeds=[5])
    assert pending.wait() == local.reset_many([0], seeds=[5]) and pending.wait() is pending.wait()
    step = local.step_many([0], ["right"])
    assert lakes.start_step([0], ["right"]).wait() == step and len(step[0]) == 5


def test_an_env_that_raises_returns_its_fault_and_others_go_on(lakes: ProcessEnvs) -> None:
    lakes.reset_many([0, 1], seeds=[1, 2])
    lakes.step_many([1], ["down"])
    results = lakes.reset_many([0, 1], seeds=[1, 2**40])  # env 1: seed out of range raises
    assert isinstance(results[0], tuple)
    assert isinstance(results[1], EnvironmentFault) and "ConfigError" in str(results[1])
    assert isinstance(lakes.step_many([0], ["down"])[0], tuple)


def test_a_dead_worker_is_restarted(lakes: ProcessEnvs) -> None:
    lakes.reset_many([0, 1], seeds=[3, 4])
    before = lakes.restarts
    os.kill(lakes._workers[1].process.pid, signal.SIGKILL)
    lakes._workers[1].process.join()
    results = lakes.step_many([0, 1], ["down", "down"])
    assert isinstance(results[0], tuple) and isinstance(results[1], EnvironmentFault)
    assert lakes.restarts == before + 1
    fresh = lakes.step_many([1], ["down"])[0]  # the new env was never reset
    assert isinstance(fresh, EnvironmentFault) and "reset" in str(fresh)
    assert isinstance(lakes.reset_many([1], seeds=[4])[0], tuple)


def test_a_hung_worker_times_out_and_is_replaced() -> None:
    with ProcessEnvs(LAKE, num_envs=1, timeout_s=3) as envs:
        envs.reset_many([0], seeds=[0])
        os.kill(envs._workers[0].process.pid, signal.SIGSTOP)
        [result] = envs.step_many([0], ["down"])
        assert isinstance(result, EnvironmentFault) and "did not answer" in str(result)
        assert isinstance(envs.reset_many([0], seeds=[0])[0], tuple)


def test_a_recipe_that_cannot_build_reports_why() -> None:
    bad = EnvRecipe("FrozenLake-4x4-v0", {"map_name": "9x9"})
    with pytest.raises(ConfigError):
        LocalEnvs(bad, num_envs=1)
    with ProcessEnvs(bad, num_envs=1, timeout_s=30) as envs:
        [result] = envs.reset_many([0])
        assert isinstance(result, EnvironmentFault) and "9x9" in str(result)


def test_requests_are_checked(lakes: ProcessEnvs) -> None:
    with pytest.raises(ConfigError, match="indices"):
        lakes.step_many([0, 0], ["up", "up"])
    with pytest.raises(ConfigError, match="indices"):
        lakes.step_many([2], ["up"])
    with pytest.raises(ConfigError, match="entries"):
        lakes.reset_many([0, 1], seeds=[1])
    lakes.reset_many([0])
    pending = lakes.start_step([0], ["up"])
    with pytest.raises(ConfigError, match="in flight"):
        lakes.start_step([0], ["up"])
    pending.wait()


@pytest.mark.alfworld
def test_alfworld_in_processes_matches_in_process() -> None:
    if importlib.util.find_spec("alfworld") is None:
        pytest.skip("alfworld is not installed")
    data = os.environ.get("ALFWORLD_DATA") or (
        str(_REPO_DATA) if (_REPO_DATA / "json_2.1.1").is_dir() else None)
    if data is None:
        pytest.skip("ALFWORLD_DATA is not set")
    recipe = EnvRecipe("ALFWorld-v0", {"split": "eval_in_distribution", "data_dir": data,
                                       "max_episode_steps": 30})
    options = [{"game": 0}, {"game": 7}]
    with LocalEnvs(recipe, 2) as local, ProcessEnvs(recipe, 2, timeout_s=120) as remote:
        here, there = local.reset_many([0, 1], options=options), remote.reset_many(
            [0, 1], options=options)
        assert here == there and "view" in here[0][1]
        walks = [local.envs[i].unwrapped.walkthrough()[:3] for i in (0, 1)]
        for step in range(3):
            actions = [walks[0][step], walks[1][step]]
            assert local.step_many([0, 1], actions) == remote.step_many([0, 1], actions)
