"""The contract pieces: registry, make, TimeLimit, seeding and invalid-action handling."""

from __future__ import annotations

import pytest

from memplay.environments import TextEnv, TimeLimit, list_envs, make, register, registry
from memplay.environments.core import normalize_action, validate_seed
from memplay.environments.frozenlake.env import FrozenLakeEnv
from memplay.errors import ConfigError, EnvironmentFault, EnvironmentNotFound

CONTRACT_IDS = ["FrozenLake-4x4-v0", "FrozenLake-8x8-v0", "FrozenLakeSlippery-4x4-v0",
                "FrozenLake-random-v0", "Sokoban-v0", "Sokoban-gen-v0", "Minesweeper-v0",
                "TicTacToe-v0", "KuhnPoker-v0", "ALFWorld-v0"]


def test_every_contract_id_is_registered() -> None:
    assert set(CONTRACT_IDS) <= set(list_envs())
    assert list_envs() == sorted(list_envs())


def test_unknown_id_suggests_close_matches() -> None:
    with pytest.raises(EnvironmentNotFound) as err:
        make("FrozenLake-4x4-v1")
    assert "FrozenLake-4x4-v0" in str(err.value)
    with pytest.raises(EnvironmentNotFound, match=r"sokoban|Sokoban-v0"):
        make("sokoban-v0")


def test_unknown_id_without_close_match_still_explains() -> None:
    with pytest.raises(EnvironmentNotFound, match="list_envs"):
        make("Zzzzzzzzzzzzzz")


def test_bad_kwarg_names_the_argument() -> None:
    with pytest.raises(ConfigError, match=r"'slipery'.*is_slippery"):
        make("FrozenLake-4x4-v0", slipery=True)


@pytest.mark.parametrize(("env_id", "kwargs", "named"), [
    ("FrozenLake-4x4-v0", {"map_name": "5x5"}, "map_name"),
    ("FrozenLake-random-v0", {"size": 1}, "size"),
    ("Minesweeper-v0", {"mines": 25}, "mines"),
    ("Sokoban-v0", {"level": 999}, "level"),
    ("Sokoban-gen-v0", {"num_boxes": 0}, "num_boxes"),
    ("TicTacToe-v0", {"opponent": "grandmaster"}, "opponent"),
    ("KuhnPoker-v0", {"player": 2}, "player"),
    ("FrozenLake-4x4-v0", {"max_episode_steps": 0}, "max_episode_steps"),
])
def test_bad_kwarg_values_raise_config_error(env_id: str, kwargs: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        make(env_id, **kwargs)


def test_make_sets_spec_and_time_limit() -> None:
    env = make("FrozenLake-8x8-v0", max_episode_steps=7)
    assert isinstance(env, TimeLimit)
    assert env.spec is not None and env.spec.id == "FrozenLake-8x8-v0"
    assert env.spec.max_episode_steps == 7
    assert env.unwrapped.spec is env.spec
    assert isinstance(env.unwrapped, FrozenLakeEnv)


def test_register_rejects_conflicts_and_bad_entry_points() -> None:
    spec = register("TestLake-v0", "memplay.environments.frozenlake.env:FrozenLakeEnv", 5)
    assert register("TestLake-v0", "memplay.environments.frozenlake.env:FrozenLakeEnv", 5) == spec
    with pytest.raises(ConfigError, match="already registered"):
        register("TestLake-v0", "memplay.environments.sokoban.env:SokobanEnv", 5)
    with pytest.raises(ConfigError, match=r"module\.path:ClassName"):
        register("Broken-v0", "no_colon_here")
    register("Missing-v0", "memplay.environments.nowhere:Nothing")
    with pytest.raises(ConfigError, match="cannot import"):
        make("Missing-v0")
    register("NotEnv-v0", "memplay.environments.core:Outcome")
    with pytest.raises(ConfigError, match="not a TextEnv"):
        make("NotEnv-v0")
    for key in ("TestLake-v0", "Missing-v0", "NotEnv-v0"):
        registry.pop(key)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "7", True])
def test_out_of_range_or_wrong_type_seed_is_refused(seed: object) -> None:
    env = make("FrozenLake-4x4-v0")
    with pytest.raises(ConfigError, match="seed"):
        env.reset(seed=seed)  # type: ignore[arg-type]
    assert validate_seed(2**32 - 1) == 2**32 - 1


@pytest.mark.parametrize("garbage", ["", "   ", "fly to the moon", "\x00", None, 42, "l e f t"])
def test_garbage_action_changes_nothing_and_is_counted(garbage: object) -> None:
    env = make("Sokoban-v0")
    _, info = env.reset(seed=2)
    before = env.render()
    obs, reward, terminated, truncated, info = env.step(garbage)  # type: ignore[arg-type]
    assert obs.startswith("Nothing happens")
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert env.render() == before
    assert info["invalid_actions"] == 1
    assert info["admissible_actions"]


def test_time_limit_truncates_exactly_at_the_limit() -> None:
    env = make("FrozenLake-4x4-v0", max_episode_steps=3)
    env.reset(seed=0)
    flags = [env.step(a)[2:4] for a in ("up", "junk", "left")]
    assert flags == [(False, False), (False, False), (False, True)]
    with pytest.raises(EnvironmentFault, match="reset"):
        env.step("up")
    _, info = env.reset(seed=0)
    assert info["elapsed_steps"] == 0 and info["max_episode_steps"] == 3


def test_termination_before_limit_is_not_truncation() -> None:
    env = make("FrozenLake-4x4-v0", max_episode_steps=6)
    env.reset(seed=0)
    results = [env.step(a) for a in env.shortest_path()]
    assert results[-1][2:4] == (True, False)
    assert results[-1][4]["success"] is True


def test_step_before_reset_and_after_end_raise_fault() -> None:
    env = FrozenLakeEnv(desc=["SG"])
    with pytest.raises(EnvironmentFault, match="before reset"):
        env.step("right")
    env.reset(seed=0)
    assert env.step("right")[2] is True
    with pytest.raises(EnvironmentFault, match="after the episode ended"):
        env.step("left")


def test_time_limit_rejects_bad_limits_and_non_envs() -> None:
    with pytest.raises(ConfigError):
        TimeLimit(FrozenLakeEnv(), 0)
    with pytest.raises(ConfigError):
        TimeLimit("not an env", 5)  # type: ignore[arg-type]


def test_normalize_action_forgives_case_space_and_period() -> None:
    assert normalize_action("  Move   LEFT. ") == "move left"
    assert normalize_action(3) == ""
    env = make("FrozenLake-4x4-v0")
    env.reset(seed=0)
    assert env.step("  Right. ")[4]["invalid_actions"] == 0


def test_text_env_base_hooks_are_abstract() -> None:
    with pytest.raises(NotImplementedError):
        TextEnv().reset(seed=0)
