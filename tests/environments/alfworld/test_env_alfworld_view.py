"""ALFWorld's portable view: goal parsing, canonical actions, the tracker, and portability."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from memplay.environments.alfworld.env import ALFWorldEnv, floorplan_of
from memplay.environments.alfworld.view import (
    ALREADY_SEARCHED,
    NOT_NEEDED_OBJECT,
    NOT_NEEDED_PUT,
    NOT_NEEDED_STEP,
    SEARCH_OPEN,
    AlfredTracker,
    canonical_action,
    parse_goal,
)
from memplay.environments.default_view import default_views
from memplay.environments.registry import make
from memplay.environments.view import view_problem

KITCHEN = ("-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking "
           "quickly around you, you see a cabinet 2, a cabinet 1, a countertop 1, a fridge 1, a "
           "microwave 1, and a sinkbasin 1.\n\nYour task is to: put a clean apple in fridge.")




@pytest.mark.parametrize(("action", "kind"), [
    ("go to desk 2", "go to desk"),
    ("go to desk 12", "go to desk"),
    ("take apple 1 from countertop 2", "take apple from countertop"),
    ("clean butterknife 3 with sinkbasin 1", "clean butterknife with sinkbasin"),
    ("move book 2 to desk 1", "move book to desk"),
    ("inventory", "inventory"),
    ("look", "look"),
])
def test_canonical_action_drops_object_ids(action: str, kind: str) -> None:
    assert canonical_action(action) == kind


@pytest.mark.parametrize(("goal", "task_type", "obj", "target"), [
    ("put a apple in fridge.", "pick_and_place_simple", "apple", "fridge"),
    ("put some spraybottle on toilet", "pick_and_place_simple", "spraybottle", "toilet"),
    ("look at bowl under the desklamp", "look_at_obj_in_light", "bowl", "desklamp"),
    ("examine the cd with the floorlamp", "look_at_obj_in_light", "cd", "floorlamp"),
    ("put a clean apple in fridge", "pick_clean_then_place_in_recep", "apple", "fridge"),
    ("clean some knife and put it in drawer", "pick_clean_then_place_in_recep", "knife", "drawer"),
    ("put a hot egg in garbagecan", "pick_heat_then_place_in_recep", "egg", "garbagecan"),
    ("heat some cup and put it in cabinet", "pick_heat_then_place_in_recep", "cup", "cabinet"),
    ("put a cool tomato in microwave", "pick_cool_then_place_in_recep", "tomato", "microwave"),
    ("cool some pan and put it in stoveburner", "pick_cool_then_place_in_recep", "pan",
     "stoveburner"),
    ("put two cellphone in sofa", "pick_two_obj_and_place", "cellphone", "sofa"),
    ("find two book and put them in desk", "pick_two_obj_and_place", "book", "desk"),
])
def test_every_goal_template_is_parsed(goal: str, task_type: str, obj: str,
                                       target: str) -> None:
    task = parse_goal(goal)
    assert (task.task_type, task.obj) == (task_type, obj)
    assert target in (task.parent, task.lamp)


def test_both_phrasings_of_a_task_give_the_same_context() -> None:
    one = AlfredTracker("put a clean apple in fridge", KITCHEN)
    other = AlfredTracker("clean some apple and put it in fridge", KITCHEN)
    assert one.view(["go to fridge 1"]) == other.view(["go to fridge 1"])


def test_searching_for_an_object_reads_the_same_in_every_task_but_later_stages_do_not() -> None:
    tasks = ["put a clean apple in fridge", "heat some apple and put it in countertop",
             "put a apple in cabinet"]
    trackers = [AlfredTracker(goal, KITCHEN) for goal in tasks]
    searching = {t.view(["go to fridge 1"])["actions"]["go to fridge 1"]["context"]
                 for t in [*trackers, AlfredTracker("put a egg in cabinet", KITCHEN)]}
    assert searching == {"find it | it not seen | fridge: unvisited"}  # any task, any object
    for t in trackers:
        t.update("go to countertop 1", "You arrive at countertop 1. On the countertop 1, you "
                                       "see a apple 3.")
        t.update("take apple 3 from countertop 1", "You pick up the apple 3 from the countertop 1.")
    carrying = [t.view(["go to fridge 1"])["actions"]["go to fridge 1"]["context"]
                for t in trackers]
    # once the object is held the task type decides what is right and leads the context
    assert carrying == [
        "clean and place | clean it with sinkbasin | fridge: not the place needed",
        "heat and place | heat it with microwave | fridge: not the place needed",
        "place | bring it to the destination | fridge: not the place needed"]


def test_tracker_follows_a_clean_task_through_its_stages() -> None:
    t = AlfredTracker("put a clean apple in fridge", KITCHEN)
    assert t.receptacles[:2] == ["cabinet 1", "cabinet 2"]
    assert t.stage() == "find apple" and t.where() == "start"
    t.update("go to cabinet 1", "You arrive at cabinet 1. The cabinet 1 is closed.")
    assert t.where() == "cabinet (closed)" and t.place_status("cabinet 1") == "closed, not searched"
    t.update("open cabinet 1", "You open the cabinet 1. The cabinet 1 is open. In it, you see "
                               "a cup 1.")
    assert t.place_status("cabinet 1") == "no apple" and t.where() == "cabinet"
    t.update("go to countertop 1",
             "You arrive at countertop 1. On the countertop 1, you see a apple 3, and a egg 1.")
    assert t.where() == "countertop, apple here"
    t.update("look", "You are facing the countertop 1. Next to it, you see nothing.")
    assert t.place_status("countertop 1") == "apple there"  # "look" lists no contents
    t.update("take apple 3 from countertop 1", "You pick up the apple 3 from the countertop 1.")
    assert t.stage() == "clean it with sinkbasin"
    t.update("clean apple 3 with fridge 1", "Nothing happens.")
    assert t.stage() == "clean it with sinkbasin"  # failed actions change nothing
    t.update("go to sinkbasin 1", "You arrive at sinkbasin 1. On the sinkbasin 1, you see nothing.")
    t.update("clean apple 3 with sinkbasin 1", "You clean the apple 3 using the sinkbasin 1.")
    assert t.stage() == "bring it to the destination"
    assert "Holding clean apple" in t.state_text()


def test_two_object_task_counts_placed_objects_and_ignores_them_when_searching() -> None:
    intro = "you see a bed 1, a desk 1, and a shelf 1."
    t = AlfredTracker("put two book in desk", intro)
    t.update("go to bed 1", "You arrive at bed 1. On the bed 1, you see a book 1, a book 2.")
    t.update("take book 2 from bed 1", "You pick up the book 2 from the bed 1.")
    assert t.stage() == "bring the first one to the destination"
    t.update("go to desk 1", "You arrive at desk 1. On the desk 1, you see a pen 1.")
    t.update("move book 2 to desk 1", "You move the book 2 to the desk 1.")
    assert t.stage() == "find second book" and t.placed == ["book 2"]
    assert t.place_status("desk 1") == "no book"  # the placed book does not count
    assert t.place_status("bed 1") == "book there"
    context = t.view(["go to bed 1"])["actions"]["go to bed 1"]["context"]
    assert context == "find the second one | it seen | bed: it there"


def test_a_placed_object_taken_back_is_not_the_second_one() -> None:
    t = AlfredTracker("put two book in desk", "you see a bed 1, and a desk 1.")
    t.update("go to desk 1", "You arrive at desk 1. On the desk 1, you see a book 1.")
    t.update("take book 1 from desk 1", "You pick up the book 1 from the desk 1.")
    t.update("move book 1 to desk 1", "You move the book 1 to the desk 1.")
    placed = t.view(["take book 1 from desk 1"])["actions"]["take book 1 from desk 1"]
    assert placed == {"kind": "take book from desk", "context": NOT_NEEDED_OBJECT,  # not "it"
                      "needed": False}
    t.update("take book 1 from desk 1", "You pick up the book 1 from the desk 1.")
    assert t.stage() == "drop book"  # not "bring the second one": this book is done
    assert _contexts(t, ["move book 1 to desk 1"]) == ["place two | drop book | at desk"]
    t.update("move book 1 to desk 1", "You move the book 1 to the desk 1.")
    assert t.placed == ["book 1"] and t.stage() == "find second book"


def test_look_task_seeks_the_lamp_once_the_object_is_held() -> None:
    t = AlfredTracker("look at bowl under the desklamp", "you see a desk 1, a dresser 1.")
    t.update("go to dresser 1", "You arrive at dresser 1. On the dresser 1, you see a desklamp 1.")
    assert t.sought() == "bowl" and t.place_status("dresser 1") == "no bowl"
    assert _contexts(t, ["use desklamp 1"]) == [NOT_NEEDED_STEP]  # not with empty hands
    t.update("use desklamp 1", "You turn on the desklamp 1.")
    assert t.stage() == "find bowl"  # the search reads as in any other task
    t.update("go to desk 1", "You arrive at desk 1. On the desk 1, you see a bowl 1.")
    t.update("take bowl 1 from desk 1", "You pick up the bowl 1 from the desk 1.")
    assert t.sought() == "desklamp" and t.place_status("dresser 1") == "desklamp there"
    t.update("go to dresser 1", "You arrive at dresser 1. On the dresser 1, you see a desklamp 1.")
    assert _contexts(t, ["use desklamp 1"]) == [t.context()]


def _contexts(tracker: AlfredTracker, actions: list[str]) -> list[str]:
    view = tracker.view(actions)["actions"]
    return [view[a]["context"] for a in actions]


def test_actions_that_cannot_help_get_task_free_contexts() -> None:
    t = AlfredTracker("put a clean apple in fridge", KITCHEN)
    t.update("go to cabinet 1", "You arrive at cabinet 1. On the cabinet 1, you see a cup 1.")
    assert _contexts(t, ["go to cabinet 2"])[0].endswith("cabinet: unvisited")
    t.update("go to countertop 1", "You arrive at countertop 1. On the countertop 1, you see "
                                   "a apple 3, and a egg 1.")
    take_apple, take_egg, back, fresh, look = _contexts(t, [
        "take apple 3 from countertop 1", "take egg 1 from countertop 1", "go to cabinet 1",
        "go to cabinet 2", "look"])
    assert take_apple == t.context() and take_egg == NOT_NEEDED_OBJECT
    assert back == ALREADY_SEARCHED
    assert fresh == look == NOT_NEEDED_STEP  # the apple is here: take it, walk no further
    t.update("take apple 3 from countertop 1", "You pick up the apple 3 from the countertop 1.")
    sink, fridge, heat, put, slice_ = _contexts(t, [
        "go to sinkbasin 1", "go to fridge 1", "heat apple 3 with microwave 1",
        "move apple 3 to countertop 1", "slice egg 1 with apple 3"])
    assert sink == "clean and place | clean it with sinkbasin | the place needed"
    assert fridge == ("clean and place | clean it with sinkbasin | fridge: not the "
                      "place needed")  # not task-free: walkthroughs reach places via shared spots
    assert put == NOT_NEEDED_PUT
    assert heat == slice_ == NOT_NEEDED_STEP
    t.update("go to sinkbasin 1", "You arrive at sinkbasin 1. On the sinkbasin 1, you see nothing.")
    clean, early_put = _contexts(t, ["clean apple 3 with sinkbasin 1", "move apple 3 to fridge 1"])
    assert clean == t.context() and early_put == NOT_NEEDED_PUT  # not clean yet: no win
    t.update("clean apple 3 with sinkbasin 1", "You clean the apple 3 using the sinkbasin 1.")
    again, fridge, put = _contexts(t, ["clean apple 3 with sinkbasin 1", "go to fridge 1",
                                       "move apple 3 to fridge 1"])
    assert again == NOT_NEEDED_STEP and put == t.context()
    assert fridge == "clean and place | bring it to the destination | the place needed"
    kinds = t.view(["move apple 3 to fridge 1", "go to fridge 1"])["actions"]
    # any object, any destination: one walkthrough to a fridge teaches the step to a desk
    assert kinds["move apple 3 to fridge 1"]["kind"] == "move it to the place needed"
    assert kinds["go to fridge 1"]["kind"] == "go to the place needed"
    t.update("go to fridge 1", "You arrive at fridge 1. The fridge 1 is closed.")
    assert t.where() == "the place needed (closed)"
    assert t.view(["open fridge 1"])["actions"]["open fridge 1"]["kind"] == (
        "open the place needed")


def test_at_a_place_of_the_kind_needed_walking_on_cannot_help() -> None:
    t = AlfredTracker("put two pen in drawer", "you see a desk 1, a drawer 1, and a drawer 2.")
    t.update("go to desk 1", "You arrive at desk 1. On the desk 1, you see a pen 3.")
    t.update("take pen 3 from desk 1", "You pick up the pen 3 from the desk 1.")
    first = _contexts(t, ["go to drawer 2"])[0]
    assert first == "place two | bring the first one to the destination | the place needed"
    t.update("go to drawer 1", "You arrive at drawer 1. The drawer 1 is closed.")
    other, back = _contexts(t, ["go to drawer 2", "go to desk 1"])
    assert other == back == NOT_NEEDED_STEP  # open this drawer instead of walking on


def test_objects_reachable_from_a_shared_spot_count_as_seen_there() -> None:
    t = AlfredTracker("put a apple in fridge", "you see a cabinet 1, a coffeemachine 1.")
    t.update("go to cabinet 1", "You arrive at cabinet 1. The cabinet 1 is closed.")
    view = t.view(["open cabinet 1", "take apple 2 from countertop 1", "go to coffeemachine 1"])
    assert t.where() == "cabinet (closed), apple here" and t.place_status("cabinet 1") == (
        "apple there")
    assert view["state"].endswith("Apple seen at: cabinet.")
    t.update("take apple 2 from countertop 1", "You pick up the apple 2 from the countertop 1.")
    assert t.reachable == {"cabinet 1": set()} and t.stage() == "bring it to the destination"


def test_full_hands_do_not_erase_what_a_shared_spot_offers() -> None:
    # a walkthrough of "put two bowl in desk": both bowls sit on a dresser reached from a
    # drawer; with the first bowl in hand ALFWorld lists no take, yet the second is still there
    t = AlfredTracker("put two bowl in desk", "you see a desk 1, a drawer 7, a dresser 1.")
    t.update("go to drawer 7", "You arrive at drawer 7. On the drawer 7, you see a creditcard 2.")
    t.view(["take bowl 1 from dresser 1", "take bowl 2 from dresser 1", "go to desk 1"])
    t.update("take bowl 2 from dresser 1", "You pick up the bowl 2 from the dresser 1.")
    t.view(["go to desk 1", "move bowl 2 to drawer 7"])  # hands full: no take offered
    t.update("go to desk 1", "You arrive at desk 1. On the desk 1, you see a pen 1.")
    t.update("move bowl 2 to desk 1", "You move the bowl 2 to the desk 1.")
    back = t.view(["go to drawer 7"])["actions"]["go to drawer 7"]["context"]
    assert back == "find the second one | it seen | drawer: it there"


def test_opening_the_closed_place_searched_for_reads_the_same_in_every_task() -> None:
    contexts = []
    for goal, obj in (("put a clean apple in fridge", "apple"), ("look at cd under the "
                                                                  "desklamp", "cd")):
        t = AlfredTracker(goal, "you see a cabinet 1, a fridge 1, a desklamp 1.")
        t.update("go to cabinet 1", "You arrive at cabinet 1. The cabinet 1 is closed.")
        contexts.append(_contexts(t, ["open cabinet 1"])[0])
        t.update("open cabinet 1", f"You open the cabinet 1. The cabinet 1 is open. In it, you "
                                   f"see a {obj} 1.")
        assert _contexts(t, ["close cabinet 1"])[0] == t.context()  # searched: the task's own
    assert contexts == [SEARCH_OPEN, SEARCH_OPEN]
    t = AlfredTracker("put a apple in fridge", "you see a fridge 1.")
    t.held = "apple 1"  # bringing it: opening the destination belongs to this task
    t.update("go to fridge 1", "You arrive at fridge 1. The fridge 1 is closed.")
    assert _contexts(t, ["open fridge 1"])[0] == t.context()


def test_a_bathroom_without_sink_basin_cleans_in_the_bathtub() -> None:
    t = AlfredTracker("put a clean cloth in cabinet", "you see a bathtubbasin 1, a cabinet 1.")
    t.held = "cloth 1"
    assert t.needed_place() == "bathtubbasin"
    assert _contexts(t, ["go to bathtubbasin 1"])[0].endswith(" | the place needed")
    assert t.view(["go to bathtubbasin 1"])["actions"]["go to bathtubbasin 1"]["kind"] == (
        "go to the place needed")


def test_view_matches_contract_and_stays_short_and_id_free() -> None:
    t = AlfredTracker("put a clean apple in fridge", KITCHEN)
    admissible = [f"go to {r}" for r in t.receptacles] + ["inventory", "look"]
    view = t.view(admissible)
    assert set(view) == {"state", "actions"} and list(view["actions"]) == admissible
    assert view_problem(view, admissible) is None
    for action, entry in view["actions"].items():
        # look and inventory cannot help: the view says so, and a gated policy skips them
        assert entry.get("needed", True) is (action not in ("inventory", "look"))
        assert set(entry) - {"repeats", "needed"} == {"kind", "context"}
        assert len(entry["context"]) < 200 and not any(c.isdigit() for c in entry["context"])
    assert not any(c.isdigit() for c in view["state"])
    assert view == AlfredTracker("put a clean apple in fridge", KITCHEN).view(admissible)


def test_unknown_goal_still_gives_a_view() -> None:
    t = AlfredTracker("Juggle 3 oranges", "you see a table 1.")
    view = t.view(["go to table 1"])
    assert view["actions"]["go to table 1"]["kind"] == "go to table"
    assert view["actions"]["go to table 1"]["context"].startswith("juggle oranges")


@pytest.fixture(scope="module")
def seen_env(alfworld_data: str) -> ALFWorldEnv:
    return ALFWorldEnv(split="eval_in_distribution", data_dir=alfworld_data)


@pytest.mark.alfworld
def test_env_info_carries_the_view_while_the_episode_runs(seen_env: ALFWorldEnv) -> None:
    _, info = seen_env.reset(options={"game": 3})
    assert list(info["view"]["actions"]) == info["admissible_actions"]
    for action in seen_env.walkthrough():
        assert action in info["view"]["actions"]
        _, _, terminated, _, info = seen_env.step(action)
    assert terminated and "view" not in info


def _same_task_in_two_rooms(env: ALFWorldEnv) -> tuple[str, str]:
    # e.g. pick_cool_then_place_in_recep-Apple-None-CounterTop-<scene>: same task, other room
    by_task: dict[str, list[str]] = defaultdict(list)
    for game in env.games:
        by_task[Path(game).parent.parent.name.rsplit("-", 1)[0]].append(game)
    for games in by_task.values():
        rooms = {floorplan_of(g): g for g in games}
        if len(rooms) >= 2 and "pick_and_place" in games[0]:
            first, second = list(rooms.values())[:2]
            return first, second
    pytest.skip("no task type with the same objects in two rooms")


@pytest.mark.alfworld
def test_same_situation_in_two_rooms_gives_the_same_keys(seen_env: ALFWorldEnv) -> None:
    first, second = _same_task_in_two_rooms(seen_env)
    keys = []
    for game in (first, second):
        _, info = seen_env.reset(options={"game": game})
        start = {(e["kind"], e["context"]) for e in info["view"]["actions"].values()}
        for action in seen_env.walkthrough():  # play until the object is in hand
            _, _, _, _, info = seen_env.step(action)
            if action.startswith("take "):
                break
        holding = {(e["kind"], e["context"]) for e in info["view"]["actions"].values()
                   if e["kind"] == "go to the place needed"}
        keys.append((info["goal"], start, holding))
    (goal_a, start_a, held_a), (goal_b, start_b, held_b) = keys
    assert floorplan_of(first) != floorplan_of(second)
    assert parse_goal(goal_a).describe() == parse_goal(goal_b).describe()
    shared = start_a & start_b  # "go to countertop" while looking, in both rooms
    assert len(shared) >= 2 and {k for k, _ in shared} == {k for k, _ in start_a} & {
        k for k, _ in start_b}
    assert held_a == held_b and len(held_a) == 1, "bringing the object reads the same"
    assert next(iter(held_a))[1].startswith(parse_goal(goal_a).label + " | bring it to")


def test_exact_state_changes_only_with_what_the_agent_knows() -> None:
    """Loops and no-ops are found by it: a step that teaches nothing leaves it unchanged."""
    t = AlfredTracker("put a clean apple in fridge", KITCHEN)
    states = [t.exact_state()]
    for action, feedback in [
            ("look", "You are in the middle of a room."),
            ("inventory", "You are carrying: nothing."),
            ("go to cabinet 1", "You arrive at cabinet 1. The cabinet 1 is closed."),
            ("examine cabinet 1", "The cabinet 1 is closed."),
            ("take apple 1 from cabinet 1", "Nothing happens."),
            ("open cabinet 1", "You open the cabinet 1. The cabinet 1 is open. In it, you see a "
                               "apple 1."),
            ("take apple 1 from cabinet 1", "You pick up the apple 1 from the cabinet 1."),
            ("go to cabinet 2", "You arrive at cabinet 2. The cabinet 2 is closed."),
            ("go to cabinet 1", "You arrive at cabinet 1. The cabinet 1 is open. In it, you see "
                                "nothing.")]:
        t.update(action, feedback)
        states.append(t.exact_state())
    changed = [a != b for a, b in itertools.pairwise(states)]
    assert changed == [False, False, True, False, False, True, True, True, True]
    assert all(s.startswith("Task: put a clean apple in fridge.") for s in states)


@pytest.mark.alfworld
def test_the_default_view_reads_observations_while_the_state_is_exact(
        alfworld_data: str) -> None:
    """With ``view_source="default"`` the view is built from ALFWorld's observations, as
    ``with_default_views`` rebuilds it for walkthroughs, not from the exact state's digest."""
    env = make("ALFWorld-v0", split="eval_in_distribution", data_dir=alfworld_data,
               view_source="default")
    obs, info = env.reset(options={"game": 3})
    observations, infos = [obs], [info]
    plan = env.unwrapped.walkthrough()[:3]
    for action in plan:
        obs, _, _, _, info = env.step(action)
        observations.append(obs)
        infos.append(info)
    assert all(i["state"].startswith("Task: ") and " #" in i["state"] for i in infos)
    recomputed = default_views(infos[0]["goal"], observations, plan,
                               [i["admissible_actions"] for i in infos])
    assert [i["view"] for i in infos] == recomputed
