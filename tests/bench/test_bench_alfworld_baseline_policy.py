"""The no-LLM ALFWorld baseline (bench/_alfworld_baseline.py): statistics from demos, search
order, and real games."""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

import pytest

from memplay.environments.alfworld.demos import alfworld_demos, demo_games
from memplay.types import Step, Trajectory

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import _alfworld_baseline
from _alfworld_baseline import (
    BaselinePolicy,
    BaselineStats,
    evaluate_baseline,
    fit_baseline,
)

SPLIT = "eval_in_distribution"




def _demo(task_type: str, scene: str, actions: list[str]) -> Trajectory:
    return Trajectory(env_id="ALFWorld-v0", success=True,
                      steps=[Step(observation="", action=a) for a in actions],
                      metadata={"task_type": task_type, "game": f"t/{task_type}-X-{scene}/t/g"})


def test_fit_counts_sequences_and_places_per_object_and_floor_plan() -> None:
    demos = [
        _demo("look_at_obj_in_light", "301", ["go to desk 1", "take cd 1 from desk 1",
                                              "go to sidetable 1", "use desklamp 1"]),
        _demo("look_at_obj_in_light", "302", ["go to shelf 2", "take cd 2 from shelf 2",
                                              "go to desk 1", "use desklamp 1"]),
        _demo("look_at_obj_in_light", "302", ["go to desk 1", "use desklamp 1",
                                              "take cd 1 from desk 1"]),
    ]
    stats = fit_baseline([*demos, _demo("look_at_obj_in_light", "9", ["look"]).model_copy(
        update={"success": False})])
    assert stats.demos == 3 and stats.sequence("look_at_obj_in_light") == ["take", "use"]
    assert stats.where_counts("take", "cd", "302") == {"shelf": 1001.0, "desk": 1002.0}
    assert stats.where_counts("use", "desklamp", "301") == {"sidetable": 1001.0, "desk": 2.0}
    again = BaselineStats.from_json(stats.to_json())
    assert again.to_json() == stats.to_json()


def test_policy_searches_likely_places_first_and_opens_closed_ones() -> None:
    stats = fit_baseline([_demo("pick_and_place_simple", "5", [
        "go to fridge 1", "open fridge 1", "take apple 1 from fridge 1", "go to sinkbasin 1",
        "move apple 1 to sinkbasin 1"])])
    intro = "you see a cabinet 1, a countertop 1, a fridge 1, and a sinkbasin 1."
    policy = BaselinePolicy(stats, "put a apple in sinkbasin", intro, floorplan="77")
    goes = ["go to cabinet 1", "go to countertop 1", "go to fridge 1", "go to sinkbasin 1"]
    assert policy.act(goes) == "go to fridge 1"  # apples come from fridges in the demos
    policy.observe("You arrive at fridge 1. The fridge 1 is closed.")
    assert policy.act(["open fridge 1", *goes[:2], goes[3]]) == "open fridge 1"
    policy.observe("You open the fridge 1. The fridge 1 is open. In it, you see a egg 1.")
    assert policy.act(goes[:2] + goes[3:]) == "go to cabinet 1"  # nothing ranked: list order
    policy.observe("You arrive at cabinet 1. On the cabinet 1, you see a apple 4.")
    assert policy.act(["take apple 4 from cabinet 1", *goes[1:]]) == "take apple 4 from cabinet 1"
    policy.observe("You pick up the apple 4 from the cabinet 1.")
    assert policy.act(goes[1:]) == "go to sinkbasin 1"


@pytest.mark.alfworld
def test_baseline_solves_easy_games_and_demos_make_it_faster(alfworld_data: str) -> None:
    data = alfworld_data
    games = demo_games(SPLIT, per_task_type=1, data_dir=data,
                       task_types=["pick_and_place_simple", "look_at_obj_in_light"])
    blind = evaluate_baseline(fit_baseline([]), games, SPLIT, workers=1, data_dir=data)
    assert any(row["success"] for row in blind), blind
    # statistics from these very games' walkthroughs point the search the right way
    taught = fit_baseline(alfworld_demos(SPLIT, games=games, data_dir=data))
    rows = evaluate_baseline(taught, games, SPLIT, workers=2, data_dir=data)
    assert [r["game"] for r in rows] == [r["game"] for r in blind]
    assert all(r["success"] and r["error"] is None for r in rows), rows
    assert sum(r["steps"] for r in rows) <= sum(r["steps"] if r["success"] else 30 for r in blind)


def test_docstring_examples() -> None:
    assert doctest.testmod(_alfworld_baseline, optionflags=doctest.ELLIPSIS).failed == 0
