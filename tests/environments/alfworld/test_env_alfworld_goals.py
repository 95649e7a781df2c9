"""Hindsight in ALFWorld: the goals a step achieved (scripted feedback, and the game's own
checker on real walkthroughs), and episodes relabelled with another goal's views."""

from __future__ import annotations

import pytest

from memplay.environments.alfworld.env import ALFWorldEnv, task_type_of
from memplay.environments.alfworld.goals import AchievedGoals
from memplay.environments.alfworld.hindsight import AlfredRelabeller
from memplay.environments.alfworld.view import parse_goal
from memplay.environments.hindsight import hindsight_trajectories, relabeller_for
from memplay.types import Step, Trajectory

INTRO = ("-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking "
         "quickly around you, you see a cabinet 1, a countertop 1, a desk 1, a fridge 1, a "
         "microwave 1, and a sinkbasin 1.\n\nYour task is to: put a clean apple in fridge.")


def play(steps: list[tuple[str, str]]) -> list[list[str]]:
    goals = AchievedGoals()
    return [goals.update(action, feedback) for action, feedback in steps]


def took(obj: str, place: str) -> tuple[str, str]:
    return f"take {obj} from {place}", f"You pick up the {obj} from the {place}."


def moved(obj: str, place: str) -> tuple[str, str]:
    return f"move {obj} to {place}", f"You move the {obj} to the {place}."


def arrive(place: str) -> tuple[str, str]:
    return f"go to {place}", f"You arrive at {place}. On the {place}, you see nothing."


def test_placing_an_object_achieves_put_and_its_processed_forms() -> None:
    said = play([arrive("countertop 1"), took("mug 1", "countertop 1"), arrive("sinkbasin 1"),
                 ("clean mug 1 with sinkbasin 1", "You clean the mug 1 using the sinkbasin 1."),
                 ("heat mug 1 with microwave 1", "Nothing happens."),
                 arrive("cabinet 1"), moved("mug 1", "cabinet 1")])
    assert said[:-1] == [[]] * 6
    assert said[-1] == ["put a mug in cabinet", "put a clean mug in cabinet"]
    for goal in said[-1]:  # the wording the view reads back
        assert parse_goal(goal).describe() == goal


def test_two_objects_in_one_receptacle_and_nothing_twice() -> None:
    said = play([took("book 1", "bed 1"), moved("book 1", "desk 1"),
                 took("book 2", "bed 1"), moved("book 2", "desk 2"),
                 took("book 3", "bed 1"), moved("book 3", "desk 1")])
    assert said[1] == ["put a book in desk"] and said[3] == []  # already achieved once
    assert said[5] == ["put two book in desk"]  # two in desk 1; desk 2 holds one


def test_an_object_taken_out_again_no_longer_counts_where_it_was() -> None:
    said = play([took("book 1", "bed 1"), moved("book 1", "desk 1"), took("book 1", "desk 1"),
                 moved("book 1", "sofa 1"), took("book 2", "bed 1"), moved("book 2", "desk 1")])
    assert said[3] == ["put a book in sofa"] and said[5] == []  # one book in desk 1 now


def test_putting_back_where_it_lay_achieves_nothing() -> None:
    # a mug taken from a desk and put on a desk was "in a desk" before the episode
    assert play([took("mug 1", "desk 1"), moved("mug 1", "desk 2")]) == [[], []]
    said = play([took("mug 1", "desk 1"), ("cool mug 1 with fridge 1",
                                          "You cool the mug 1 using the fridge 1."),
                 moved("mug 1", "desk 1")])
    assert said[-1] == ["put a cool mug in desk"]  # cooling it was this episode's doing


def test_look_is_achieved_holding_the_object_where_a_lit_lamp_is() -> None:
    said = play([arrive("dresser 1"), ("use desklamp 1", "You turn on the desklamp 1."),
                 took("alarmclock 2", "dresser 1")])
    assert said == [[], [], ["look at alarmclock under the desklamp"]]
    # lit elsewhere: walking there with the object achieves it, not before
    said = play([arrive("sidetable 1"), ("use floorlamp 1", "You turn on the floorlamp 1."),
                 arrive("bed 1"), took("cd 1", "bed 1"), arrive("sidetable 1")])
    assert said[3] == [] and said[4] == ["look at cd under the floorlamp"]


def test_failed_actions_achieve_nothing() -> None:
    assert play([took("mug 1", "desk 1"), ("move mug 1 to shelf 1", "Nothing happens.")]) == [
        [], []]


def played(goal: str, steps: list[tuple[str, str, list[str]]]) -> Trajectory:
    """An own-play trajectory: observation before each action, and what it achieved."""
    observation, out = INTRO, []
    for action, feedback, achieved in steps:
        out.append(Step(observation=observation, action=action, admissible_actions=[action],
                        info={"state": observation, "achieved": achieved}))
        observation = feedback
    return Trajectory(env_id="ALFWorld-v0", goal=goal, steps=out)


def test_relabelled_episode_is_seen_as_an_agent_with_that_task_would_see_it() -> None:
    episode = played("put a clean apple in fridge", [
        ("go to countertop 1", "You arrive at countertop 1. On the countertop 1, you see a "
                               "mug 1.", []),
        ("take mug 1 from countertop 1", "You pick up the mug 1 from the countertop 1.", []),
        ("go to cabinet 1", "You arrive at cabinet 1. The cabinet 1 is open.", []),
        ("move mug 1 to cabinet 1", "You move the mug 1 to the cabinet 1.",
         ["put a mug in cabinet"]),
        ("go to fridge 1", "You arrive at fridge 1.", [])])
    (relabelled,) = hindsight_trajectories(episode)
    assert isinstance(relabeller_for("ALFWorld-v0"), AlfredRelabeller)
    assert (relabelled.goal, relabelled.success, len(relabelled.steps)) == (
        "put a mug in cabinet", True, 4)
    assert relabelled.metadata["provenance"] == "hindsight"
    assert relabelled.steps[0].observation.endswith("Your task is to: put a mug in cabinet.")
    entries = [s.info["view"]["actions"][s.action] for s in relabelled.steps]
    # under its own task the mug was an object the task did not need; now it is the one
    assert entries[1]["kind"] == "take it from countertop"
    assert entries[2]["context"].endswith("| the place needed")
    assert entries[3]["kind"] == "move it to the place needed"
    assert [s.info["state"] for s in relabelled.steps] == [s.info["state"]
                                                           for s in episode.steps[:4]]
    assert [s.reward for s in relabelled.steps] == [0.0, 0.0, 0.0, 1.0]


def test_the_episodes_own_goal_is_not_relabelled_in_either_phrasing() -> None:
    episode = played("clean some apple and put it in fridge", [
        ("move apple 1 to fridge 1", "You move the apple 1 to the fridge 1.",
         ["put a apple in fridge", "put a clean apple in fridge"])])
    assert [t.goal for t in hindsight_trajectories(episode)] == ["put a apple in fridge"]


@pytest.mark.alfworld
def test_the_games_own_checker_agrees_on_real_walkthroughs(alfworld_data: str) -> None:
    """Every walkthrough wins at its last step: the reader must say its goal there, and only
    there (two train games of each task type)."""
    env = ALFWorldEnv(split="train", data_dir=alfworld_data)
    per_type: dict[str, int] = {}
    try:
        for index in range(0, len(env.games), 37):
            task_type = task_type_of(env.games[index])
            if per_type.get(task_type, 0) >= 2:
                continue
            per_type[task_type] = per_type.get(task_type, 0) + 1
            _, info = env.reset(options={"game": index})
            goal = parse_goal(info["goal"]).describe()
            for action in env.walkthrough():
                _, _, won, _, info = env.step(action)
                assert (goal in info["achieved_goals"]) == won, (env.games[index], action)
            assert won
    finally:
        env.close()
    assert len(per_type) == 6
