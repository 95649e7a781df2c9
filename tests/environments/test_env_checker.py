"""check_env on every registered env, Gymnasium's checker on the Gymnasium-facing views,
and check_env catching broken environments."""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from gymnasium.spaces import Discrete
from gymnasium.utils.env_checker import check_env as gym_check_env

from memplay.environments import check_env, list_envs, make
from memplay.environments.frozenlake.env import FrozenLakeEnv
from memplay.environments.gym_adapter import GymnasiumTextEnv, register_gymnasium_envs
from memplay.errors import ConfigError, EnvironmentFault

_REPO_DATA = Path(__file__).resolve().parents[2] / ".cache" / "alfworld"


def alfworld_data() -> str | None:
    """ALFWORLD_DATA, or the repo's unpacked copy (the Makefile puts it there)."""
    if os.environ.get("ALFWORLD_DATA"):
        return os.environ["ALFWORLD_DATA"]
    return str(_REPO_DATA) if (_REPO_DATA / "json_2.1.1").is_dir() else None


# ALFWorld needs its data; TextWorld-gen compiles games (test_env_textworld_gen.py checks it)
GAME_IDS = [i for i in list_envs() if not i.startswith(("ALFWorld", "TextWorld"))]


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_check_env_passes_on_registered_env(env_id: str) -> None:
    check_env(make(env_id))


@pytest.mark.parametrize("env_id", ["TicTacToe-v0", "KuhnPoker-v0"])
@pytest.mark.parametrize("opponent", ["random", "optimal", "self"])
def test_check_env_passes_for_every_opponent(env_id: str, opponent: str) -> None:
    check_env(make(env_id, opponent=opponent, player="random"), seed=3)


@pytest.mark.alfworld
def test_check_env_passes_on_alfworld() -> None:
    data = alfworld_data()
    if data is None:
        pytest.skip("ALFWORLD_DATA is not set (CI sets it)")
    if importlib.util.find_spec("alfworld") is None:  # importing it would write ~/.cache
        pytest.skip("alfworld is not installed (pip install alfworld==0.4.2 pyyaml)")
    check_env(make("ALFWorld-v0", data_dir=data), rollout_steps=4, probe_actions=2)


@pytest.mark.parametrize("env_id", ["FrozenLake-4x4-v0", "FrozenLakeSlippery-8x8-v0",
                                    "FrozenLake-random-v0", "Sokoban-v0", "Sokoban-gen-v0",
                                    "Minesweeper-v0", "TicTacToe-v0", "KuhnPoker-v0"])
def test_gymnasium_checker_passes_on_gymnasium_view(env_id: str) -> None:
    genv = GymnasiumTextEnv(make(env_id))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(genv, skip_render_check=False)
    # the only acceptable warning: no gymnasium spec (we are not in gymnasium's registry)
    problems = [str(w.message) for w in caught if "spec" not in str(w.message)]
    assert problems == []
    obs, _ = genv.reset(seed=1)
    assert obs in genv.observation_space and obs == genv.reset(seed=1)[0]


def test_gymnasium_make_builds_registered_views_that_pass_the_checker() -> None:
    import gymnasium

    ids = register_gymnasium_envs()
    assert "memplay/Sokoban-gen-v0" in ids and not any("ALFWorld" in i for i in ids)
    env = gymnasium.make("memplay/Minesweeper-v0", rows=4, cols=4, mines=2)
    assert env.action_space == Discrete(3 * 16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=False)
    assert [str(w.message) for w in caught] == []


def test_gymnasium_view_maps_indices_and_rejects_bad_ones() -> None:
    genv = GymnasiumTextEnv(make("FrozenLake-4x4-v0"))
    genv.reset(seed=0)
    obs, *_ = genv.step(genv.actions.index("down"))
    assert "row 1, column 0" in obs
    with pytest.raises(ConfigError, match="Discrete"):
        genv.step(17)


class _Leaky(FrozenLakeEnv):
    """Breaks the invalid-action rule: garbage moves the agent."""

    def _parse(self, text: str) -> str | None:
        return text if text in ("left", "down", "right", "up") else "down"


class _Unseeded(FrozenLakeEnv):
    """Breaks reproducibility: its map does not come from env.np_random."""

    counter = 0

    def _reset_game(self, options: dict[str, Any]) -> str:
        _Unseeded.counter += 1
        self.desc = ["SFFG", "FFFF"] if _Unseeded.counter % 2 else ["SFFF", "FFFG"]
        self._gym = self._build(self.desc)
        return super()._reset_game(options)


class _NoGoal(FrozenLakeEnv):
    def _goal(self) -> str:
        return ""


class _TextReward(FrozenLakeEnv):
    def step(self, action: str) -> Any:
        obs, _, terminated, truncated, info = super().step(action)
        return obs, "zero", terminated, truncated, info


@pytest.mark.parametrize(("env", "message"), [
    (_Leaky(), "changed the state|counted|invalid"),
    (_Unseeded(), "not reproducible"),
    (_NoGoal(), "goal"),
])
def test_check_env_catches_broken_envs(env: FrozenLakeEnv, message: str) -> None:
    with pytest.raises(EnvironmentFault, match=message):
        check_env(env)


def test_check_env_catches_non_float_reward() -> None:
    with pytest.raises(EnvironmentFault, match="reward='zero'"):
        check_env(_TextReward())


def test_check_env_needs_a_text_env() -> None:
    with pytest.raises(EnvironmentFault, match="TextEnv"):
        check_env("FrozenLake-4x4-v0")  # type: ignore[arg-type]
