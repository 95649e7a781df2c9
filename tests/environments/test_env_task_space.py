"""TaskSpace-v0: arms of generators behind one env, the seed naming arm and instance."""

from __future__ import annotations

import pytest

from memplay.environments import check_env, make
from memplay.environments.task_sets import task_layouts
from memplay.environments.task_space import DEFAULT_ARMS, STRIDE, TaskSpaceEnv
from memplay.errors import ConfigError


def test_every_default_arm_keeps_the_contract() -> None:
    env = make("TaskSpace-v0")
    inner = env.unwrapped
    assert isinstance(inner, TaskSpaceEnv) and len(inner.arm_names) == len(DEFAULT_ARMS)
    for arm in inner.arm_names:
        check_env(env, seed=inner.task_id(arm, 3), rollout_steps=8)


def test_a_task_id_is_an_arm_and_an_instance_of_its_generator() -> None:
    env = TaskSpaceEnv()
    seed = env.task_id("lake-5x5", 12)
    assert seed == STRIDE + 12 and env.arm_of(seed) == ("lake-5x5", 12)
    obs, info = env.reset(seed=seed)
    direct, _ = make("FrozenLake-random-v0", size=5, p=0.8).reset(seed=12)
    assert obs == direct  # the arm's own game, reset with the instance seed
    assert info["category"] == "lake-5x5" and info["arm_kwargs"] == {"size": 5, "p": 0.8}
    _, _, _, _, info = env.step(info["admissible_actions"][0])
    assert info["category"] == "lake-5x5"


def test_instances_of_one_arm_differ_and_arms_differ() -> None:
    env = TaskSpaceEnv()
    boards = {env.reset(seed=env.task_id(arm, k))[0] for arm in env.arm_names for k in range(3)}
    assert len(boards) >= 3 * len(env.arm_names) - 2  # random 4x4 lakes may repeat


def test_bad_arms_and_seeds_are_refused() -> None:
    env = TaskSpaceEnv()
    assert env.arm_of(len(DEFAULT_ARMS) * STRIDE + 2) == (env.arm_names[0], 2)  # wraps
    with pytest.raises(ConfigError, match="out of range"):
        env.reset(seed=2**40)
    with pytest.raises(ConfigError, match="not in the task space"):
        env.task_id("lake-9x9", 0)
    with pytest.raises(ConfigError, match="used twice"):
        TaskSpaceEnv(arms=[{"name": "a", "env_id": "FrozenLake-random-v0"}] * 2)
    with pytest.raises(ConfigError, match="needs 'name' and 'env_id'"):
        TaskSpaceEnv(arms=[{"env_id": "FrozenLake-random-v0"}])


def test_layouts_name_the_arm_so_held_out_sets_can_exclude_train_levels() -> None:
    env = TaskSpaceEnv()
    seeds = [env.task_id("soko-5x5-1box", 0), env.task_id("lake-4x4", 0)]
    layouts = task_layouts("TaskSpace-v0", seeds)
    assert layouts[seeds[0]].startswith("soko-5x5-1box\n#")
    assert layouts[seeds[1]].startswith("lake-4x4\nS")
    env.reset(seed=seeds[1])
    assert layouts[seeds[1]].split("\n", 1)[1] == "\n".join(env.current.unwrapped.desc)
