"""The default view: what an env without a view of its own gets from its text alone
(canonical objects, goal roles, what is carried, the last action's change), deterministic,
kept through invalid actions, passing check_env; and TextWorld-gen's disjoint task sets."""

from __future__ import annotations

import doctest
from typing import Any

import pytest

from memplay.environments import check_env, make, register
from memplay.environments import default_view as view_module
from memplay.environments.core import Outcome, TextEnv
from memplay.environments.default_view import (
    DefaultView,
    DefaultViewTracker,
    canonical_text,
    default_views,
)
from memplay.environments.frozenlake.env import FrozenLakeEnv
from memplay.errors import ConfigError


class Pantry(TextEnv):
    """A tiny text game with no view: fetch the item the goal names from the shelf it is on
    (two layouts: the reset seed picks the item and the shelf numbers)."""

    ITEMS = (("apple", 3), ("jar of honey", 7))

    def _reset_game(self, options: dict[str, Any]) -> str:
        self.item, self.shelf = self.ITEMS[int(self.np_random.integers(2))]
        self.held: str | None = None
        self.moves = 0
        return self._observe()

    def _observe(self) -> str:
        lying = "" if self.held else f" On shelf {self.shelf} you see a {self.item} 1."
        carried = f"a {self.item} 1" if self.held else "nothing"
        return f"You are in the pantry.{lying} You are carrying: {carried}."

    def _goal(self) -> str:
        return f"Take the {self.item} from the shelf and eat the {self.item}."

    def _admissible(self) -> list[str]:
        base = ["look", f"examine shelf {self.shelf}"]
        if self.held:
            return [*base, f"eat {self.item} 1", f"put {self.item} 1 on shelf {self.shelf}"]
        return [*base, f"take {self.item} 1 from shelf {self.shelf}"]

    def _apply(self, action: str) -> Outcome:
        if action.startswith("take"):
            self.held = self.item
        elif action.startswith("put"):
            self.held = None
        elif action.startswith("eat"):
            return Outcome("Delicious.", 1.0, True, True)
        return Outcome("OK." if action != "look" else "You look around.")


register("Pantry-test-v0", f"{__name__}:Pantry", 10)


def walk(env: TextEnv, actions: list[str], item: str = "apple") -> list[dict[str, Any]]:
    """Infos of playing ``actions`` from the first seed whose goal names ``item``."""
    seed = next(s for s in range(20) if item in env.reset(seed=s)[1]["goal"])
    _, info = env.reset(seed=seed)
    infos = [info]
    for action in actions:
        infos.append(env.step(action)[4])
    return infos


def kinds(info: dict[str, Any]) -> dict[str, str]:
    return {a: e["kind"] for a, e in info["view"]["actions"].items()}


def test_canonical_text_drops_ids_and_numbers() -> None:
    assert canonical_text("On Shelf 3 you see a Jar 12.  2 left") == \
        "on shelf you see a jar. # left"


def test_objects_take_their_goal_role_and_ids_do_not_matter() -> None:
    apple, honey = walk(make("Pantry-test-v0"), [])[0], walk(make("Pantry-test-v0"), [], "honey")[0]
    assert apple["goal"] != honey["goal"]
    assert set(kinds(apple).values()) == set(kinds(honey).values()) == {
        "look", "examine goal-2", "take goal-1 from goal-2"}
    assert apple["view"]["state"].startswith("goal: take the goal-1 from the goal-2 and eat")


def test_carried_items_and_the_last_change_are_in_the_context() -> None:
    start, taken, looked = walk(make("Pantry-test-v0"), ["take apple 1 from shelf 3", "look"])
    context = next(iter(start["view"]["actions"].values()))["context"]
    assert context == "carrying nothing; here goal-1 goal-2; start"
    after = next(iter(taken["view"]["actions"].values()))["context"]
    assert after.startswith("carrying goal-1;")
    # the shelf is no longer mentioned once the apple is taken
    assert after.endswith("here goal-1; last take goal-1 from goal-2 (-goal-2)")
    assert "eat goal-1" in kinds(taken).values()
    assert next(iter(looked["view"]["actions"].values()))["context"].endswith(
        "last look (nothing changed)")


def test_carrying_is_followed_through_actions_when_no_inventory_is_shown() -> None:
    tracker = DefaultViewTracker("put the mug in the sink")
    tracker.view("you see a mug 1 and a sink 1", ["take mug 1 from table 2"])
    tracker.update("take mug 1 from table 2", "you pick up the mug 1")
    assert tracker.view("you see a sink 1", ["put mug 1 in/on sink 1"])["actions"][
        "put mug 1 in/on sink 1"] == {"kind": "put goal-1 in/on goal-2",
                                      "context": "carrying goal-1; here goal-2; "
                                                 "last take goal-1 from other (-goal-1)"}
    tracker.update("put mug 1 in/on sink 1", "you put the mug 1 in the sink 1")
    assert tracker.context().startswith("carrying nothing;")


def test_roles_are_sticky_and_numbered_in_goal_order() -> None:
    tracker = DefaultViewTracker("go east, then take the lamp from the desk")
    tracker.view("a room", ["go east", "go west"])
    assert tracker.roles == {"east": "goal-1"}
    tracker.update("go east", "a desk with a lamp")
    tracker.view("a desk with a lamp", ["take lamp from desk", "go west"])
    assert tracker.roles == {"east": "goal-1", "lamp": "goal-2", "desk": "goal-3"}
    assert tracker.kind("go west") == "go other"


def test_the_view_is_deterministic_and_recomputable_from_a_recording() -> None:
    actions = ["take apple 1 from shelf 3", "look"]
    one, two = walk(make("Pantry-test-v0"), actions), walk(make("Pantry-test-v0"), actions)
    assert [i["view"] for i in one] == [i["view"] for i in two]
    recorded = default_views(one[0]["goal"], [i["state"] for i in one[:2]], actions,
                             [i["admissible_actions"] for i in one[:2]])
    assert recorded == [one[0]["view"], one[1]["view"]]


def test_check_env_passes_and_invalid_actions_keep_the_view() -> None:
    env = make("Pantry-test-v0")
    check_env(env, rollout_steps=8)
    info = walk(env, [])[0]
    after = env.step("dance")[4]
    assert after["invalid_actions"] == 1 and after["view"] == info["view"]
    assert after["view"] is not info["view"]  # infos share no objects
    *_, end = env.step(next(a for a in info["admissible_actions"] if "take" in a))
    final = env.step(next(a for a in end["admissible_actions"] if a.startswith("eat")))
    assert final[2] and "view" not in final[4] and env.portable_view() is None


class DigestPantry(Pantry):
    """The pantry with a finer ``info["state"]`` than its text, as ALFWorld's exact state is
    (its portable text and a digest of ids)."""

    def _extra_info(self) -> dict[str, Any]:
        return {"state": f"state #{self.moves}"}


def test_the_default_view_reads_the_rendered_text_not_a_finer_state() -> None:
    actions = ["take apple 1 from shelf 3", "look"]
    plain = walk(DefaultView(Pantry(), source="default"), actions)
    digest = walk(DefaultView(DigestPantry(), source="default"), actions)
    assert [i["state"] for i in digest] == ["state #0"] * 3  # the env's own state is kept
    assert [i["view"] for i in digest] == [i["view"] for i in plain]
    assert "goal-1" in plain[0]["view"]["actions"][actions[0]]["context"]


def test_own_views_are_kept_unless_the_default_is_asked_for() -> None:
    own = make("FrozenLake-4x4-v0").reset(seed=0)[1]["view"]
    assert own["actions"]["down"]["kind"] == "down to ice"
    forced = make("FrozenLake-4x4-v0", view_source="default")
    info = forced.reset(seed=0)[1]
    assert info["view"]["actions"]["down"] == {"kind": "down", "context":
                                               "carrying nothing; here none; start"}
    assert forced.spec.kwargs["view_source"] == "default"
    check_env(forced, rollout_steps=10)
    with pytest.raises(ConfigError, match="view_source='mine'"):
        make("FrozenLake-4x4-v0", view_source="mine")
    with pytest.raises(ConfigError, match="view_source"):
        DefaultView(FrozenLakeEnv(), source="best")


def test_textworld_train_and_held_out_games_share_no_layout(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("textworld")
    from memplay.environments.task_sets import benchmark_split, task_layouts

    monkeypatch.setenv("MEMPLAY_CACHE", str(tmp_path))
    knobs = {"rooms": 1, "objects": 1, "quest_length": 1}
    train, held_out = benchmark_split("TextWorld-gen-v0", count=3, held_out_count=2, **knobs)
    layouts = task_layouts("TextWorld-gen-v0", [*train, *held_out], **knobs)
    assert len(train) == 3 and len(held_out) == 2
    assert not {layouts[s] for s in train} & {layouts[s] for s in held_out}
    assert all("at(P, " in text for text in layouts.values())  # named facts of the world
    assert task_layouts("TextWorld-gen-v0", [train[0]], **knobs)[train[0]] == layouts[train[0]]
    env = make("TextWorld-gen-v0", **knobs)
    _, info = env.reset(seed=train[0])
    first = env.unwrapped.walkthrough()[0]
    assert "goal-1" in info["view"]["actions"][first]["kind"]  # the quest acts on goal objects


def test_docstring_examples() -> None:
    assert doctest.testmod(view_module).failed == 0
