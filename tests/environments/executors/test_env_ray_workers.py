"""Environments on Ray actors: the same results as in-process stepping; faults stay in their
slot; a killed actor is replaced and its envs play again after a reset."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memplay.environments.executors.workers import EnvRecipe, LocalEnvs
from memplay.environments.frozenlake.env import FrozenLakeEnv
from memplay.errors import ConfigError, EnvironmentFault

ray = pytest.importorskip("ray")

from memplay.environments.executors.ray_workers import RayEnvs  # noqa: E402  (needs ray)

LAKE = EnvRecipe("FrozenLake-random-v0")


def _comparable(results: list[Any]) -> list[Any]:
    # exceptions compare by identity: compare a fault by its message
    return [("fault", str(r)) if isinstance(r, EnvironmentFault) else r for r in results]


def test_joining_no_cluster_is_a_config_error_with_the_fix() -> None:
    # runs before the fixture below connects this process (then 'auto' would not be tried)
    if ray.is_initialized() or os.environ.get("RAY_ADDRESS") \
            or Path("/tmp/ray/ray_current_cluster").exists():
        pytest.skip("a Ray cluster is running or connected here")
    with pytest.raises(ConfigError, match="ray start --head"):
        RayEnvs(LAKE, num_envs=1, address="auto")
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def lakes(cluster: None) -> Iterator[RayEnvs]:
    envs = RayEnvs(LAKE, num_envs=3, envs_per_actor=2, timeout_s=60)  # actors hold [0, 1], [2]
    yield envs
    envs.close()


def test_actors_give_what_in_process_stepping_gives(lakes: RayEnvs) -> None:
    local = LocalEnvs(LAKE, num_envs=3)
    seeds = [5, 9, 11]
    first = local.reset_many([0, 1, 2], seeds=seeds)
    assert lakes.reset_many([0, 1, 2], seeds=seeds) == first
    assert first[0][0] != first[1][0]  # different random maps
    for actions in (["down", "right", "up"], ["right", "right", "down"], ["up", "down", "left"]):
        here = local.step_many([2, 0, 1], actions)
        assert _comparable(lakes.step_many([2, 0, 1], actions)) == _comparable(here)
    pending = lakes.start_reset([1], seeds=[9])  # returns at once; read on wait()
    assert pending.wait() == local.reset_many([1], seeds=[9])
    assert lakes.start_step([1], ["down"]).wait() == local.step_many([1], ["down"])


def test_an_env_that_raises_returns_its_fault_and_others_go_on(lakes: RayEnvs) -> None:
    results = lakes.reset_many([0, 1, 2], seeds=[1, 2**40, 3])  # env 1: bad seed raises
    assert isinstance(results[0], tuple) and isinstance(results[2], tuple)
    assert isinstance(results[1], EnvironmentFault) and "ConfigError" in str(results[1])
    assert "in the worker process" in "".join(results[1].__notes__)
    assert isinstance(lakes.step_many([0], ["down"])[0], tuple)


def test_a_killed_actor_is_replaced_and_its_envs_lose_their_episode(lakes: RayEnvs) -> None:
    lakes.reset_many([0, 1, 2], seeds=[3, 4, 5])
    before = lakes.restarts
    lakes.kill_actor(1)  # its actor holds envs 0 and 1
    results = lakes.step_many([0, 2], ["down", "down"])
    assert isinstance(results[1], tuple)  # the other actor goes on
    assert isinstance(results[0], EnvironmentFault) and "died" in str(results[0])
    assert lakes.restarts == before + 1
    # env 1 was not in that batch, yet its episode went with the actor
    [lost] = lakes.step_many([1], ["down"])
    assert isinstance(lost, EnvironmentFault) and "reset it before stepping" in str(lost)
    local = LocalEnvs(LAKE, num_envs=1)
    assert lakes.reset_many([1], seeds=[4]) == local.reset_many([0], seeds=[4])
    assert lakes.step_many([1], ["down"]) == local.step_many([0], ["down"])


def test_renew_gives_fresh_envs_that_need_a_reset(lakes: RayEnvs) -> None:
    lakes.reset_many([2], seeds=[7])
    lakes.renew([2])
    [result] = lakes.step_many([2], ["down"])
    assert isinstance(result, EnvironmentFault) and "reset" in str(result)
    assert isinstance(lakes.reset_many([2], seeds=[7])[0], tuple)


def test_a_silent_actor_times_out_and_is_replaced(cluster: None) -> None:
    slow = EnvRecipe("Slow-v0", entry_point=f"{__name__}:SlowLake")
    here = {"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}}  # the actor imports SlowLake
    with RayEnvs(slow, num_envs=1, timeout_s=2, actor_options={"runtime_env": here}) as envs:
        assert isinstance(envs.reset_many([0])[0], tuple)  # started up
        [result] = envs.reset_many([0], options=[{"sleep": 30}])
        assert isinstance(result, EnvironmentFault) and "did not answer" in str(result)
        assert envs.restarts == 1
        assert isinstance(envs.reset_many([0])[0], tuple)


def test_bad_settings_are_config_errors(lakes: RayEnvs) -> None:
    with pytest.raises(ConfigError, match="envs_per_actor"):
        RayEnvs(LAKE, num_envs=2, envs_per_actor=0)
    with pytest.raises(ConfigError, match="timeout_s"):
        RayEnvs(LAKE, num_envs=2, timeout_s=0)
    with pytest.raises(ConfigError, match="indices"):
        lakes.step_many([3], ["up"])


class SlowLake(FrozenLakeEnv):
    """A lake whose reset sleeps ``options["sleep"]`` seconds (a hung game)."""

    def _reset_game(self, options: dict[str, Any]) -> str:
        time.sleep(options.get("sleep", 0))
        return super()._reset_game(options)
