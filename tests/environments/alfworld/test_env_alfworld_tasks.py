"""A curriculum over ALFWorld's task types (and rooms) through the curriculum hook: arms from
game files, and a learning-progress sampler that practises the type being learned."""

from __future__ import annotations

import pytest

from memplay.agents.config import AgentConfig
from memplay.agents.curriculum.base import CurriculumSetup, Outcome, Planned, Task
from memplay.agents.curriculum.sec import SECSampler
from memplay.environments.alfworld.env import TASK_TYPES, collect_games
from memplay.environments.alfworld.tasks import room_of, task_categories
from memplay.errors import ConfigError


def game(task_type: str, plan: int, trial: int = 1) -> str:
    return f"train/{task_type}-Obj-None-Recep-{plan}/trial_{trial}/game.tw-pddl"


GAMES = [game(t, plan, i) for t in ("look_at_obj_in_light", "pick_and_place_simple",
                                     "pick_two_obj_and_place") for i, plan in enumerate((7, 412))]


def test_arms_are_task_types_or_task_types_in_kinds_of_room() -> None:
    assert task_categories(GAMES, range(6)) == {
        "look_at_obj_in_light": [0, 1], "pick_and_place_simple": [2, 3],
        "pick_two_obj_and_place": [4, 5]}
    by_room = task_categories(GAMES, [0, 1, 4], by_room=True)
    assert by_room == {"look_at_obj_in_light/bathroom": [1], "look_at_obj_in_light/kitchen": [0],
                       "pick_two_obj_and_place/kitchen": [4]}
    assert [room_of(game("x", p)) for p in (1, 230, 301, 430, 999)] == [
        "kitchen", "livingroom", "bedroom", "bathroom", "unknown"]
    with pytest.raises(ConfigError, match="not a game index"):
        task_categories(GAMES, [6])


def test_learning_progress_practises_the_task_type_being_learned() -> None:
    config = AgentConfig(tasks=list(range(6)), curriculum={"name": "sec", "options": {
        "categories": task_categories(GAMES, range(6)), "explore": 0.0, "temperature": 0.05}})
    sampler = SECSampler(CurriculumSetup(config))
    batch = [Planned(i, 0, i) for i in range(3)]
    first = sampler.choose(batch)
    assert sorted(t.category for t in first) == sorted(sampler.space.arms)  # each type once
    # look tasks start to succeed, the others stay at zero: look is where progress is
    sampler.observe([Outcome(Task(t.seed, t.category), t.seed, 0,
                             t.category == "look_at_obj_in_light") for t in first])
    later = sampler.choose([Planned(i, 1, i) for i in range(3, 9)])
    assert [t.category for t in later] == ["look_at_obj_in_light"] * 6
    assert {t.seed for t in later} == {0, 1}  # its games in turn


@pytest.mark.alfworld
def test_the_train_split_has_every_type_in_every_kind_of_room(alfworld_data: str) -> None:
    games = collect_games(alfworld_data, "train", TASK_TYPES)
    arms = task_categories(games, range(len(games)), by_room=True)
    assert {name.split("/")[0] for name in arms} == set(TASK_TYPES)
    assert {name.split("/")[1] for name in arms} == {"kitchen", "livingroom", "bedroom",
                                                    "bathroom"}
    assert sum(len(seeds) for seeds in arms.values()) == len(games)
