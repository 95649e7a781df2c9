"""Exploration that covers a room: the policy's novelty term counts what the view says the
episode already did ("repeats"), so unsearched places come before going back."""

from __future__ import annotations

from typing import Any

from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.nodes import action_scores, view_repeats
from memplay.agents.policy import LLMView
from memplay.agents.state import Recall, Slot, StepRecord, action_keys
from memplay.environments.alfworld.view import ALREADY_SEARCHED, SEARCH_OPEN, AlfredTracker
from memplay.environments.view import view_problem
from memplay.llm.fake import ScriptedLLM
from memplay.memory import HashEmbedder
from memplay.memory.step_memory import StepMemory

INTRO = ("You are in the middle of a room. Looking quickly around you, you see a drawer 1, "
         "a drawer 2, a drawer 3, and a shelf 1.\n\nYour task is to: put a pen in shelf.")
PLACES = ["go to drawer 1", "go to drawer 2", "go to drawer 3", "go to shelf 1"]


def _walk(tracker: AlfredTracker, moves: list[tuple[str, str]]) -> list[StepRecord]:
    """Play ``moves`` into the tracker, recording each step as the agent would."""
    steps = []
    for action, feedback in moves:
        view = tracker.view(PLACES)
        key = action_keys("s", view, PLACES)[action]
        steps.append(StepRecord(observation="o", action=action, state=feedback, key=key))
        tracker.update(action, feedback)
    return steps


def _scores(tracker: AlfredTracker, steps: list[StepRecord], admissible: list[str],
            memory: Any = None) -> dict[str, float]:
    view = tracker.view(admissible)
    memory = memory or StepMemory(HashEmbedder(32))
    recall = Recall(values=dict(memory.estimate([action_keys("s", view, admissible)])[0]))
    slot = Slot(0, view=view, admissible=admissible, steps=steps, state="s", recall=recall)
    ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(policy={
        "calibrate": False}), step_memory=memory)
    flat = LLMView(dict.fromkeys(admissible, 0.0))
    return action_scores(ctx, slot, flat)


def test_an_unsearched_place_is_newer_than_going_back_to_a_searched_one() -> None:
    tracker = AlfredTracker("put a pen in shelf", INTRO)
    steps = _walk(tracker, [("go to drawer 1", "You arrive at drawer 1. On the drawer 1, you "
                                               "see a key 1.")])
    view = tracker.view(PLACES)
    assert view["actions"]["go to drawer 1"]["context"] == ALREADY_SEARCHED
    assert view_repeats(view) == {"go to drawer 1": 1, "go to drawer 2": 0, "go to drawer 3": 0,
                                  "go to shelf 1": 0}
    scores = _scores(tracker, steps, PLACES)
    # drawer 2 shares the key of the drawer just searched ("drawer: unvisited"), and the
    # searched drawer has a key of its own: counted by key, going back looked newer
    assert scores["go to drawer 2"] == scores["go to drawer 3"] > scores["go to drawer 1"]
    keyed_only = {**view, "actions": {a: {k: v for k, v in e.items() if k != "repeats"}
                                      for a, e in view["actions"].items()}}
    slot_scores = _scores_without_repeats(tracker, steps, keyed_only)
    assert slot_scores["go to drawer 1"] > slot_scores["go to drawer 2"]


def _scores_without_repeats(tracker: AlfredTracker, steps: list[StepRecord],
                            view: dict[str, Any]) -> dict[str, float]:
    slot = Slot(0, view=view, admissible=PLACES, steps=steps, state="s")
    ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(policy={
        "calibrate": False}), step_memory=StepMemory(HashEmbedder(32)))
    return action_scores(ctx, slot, LLMView(dict.fromkeys(PLACES, 0.0)))


def _searched_drawer_scores(policy: dict[str, Any], frozen: bool) -> dict[str, float]:
    tracker = AlfredTracker("put a pen in shelf", INTRO)
    steps = _walk(tracker, [("go to drawer 1", "You arrive at drawer 1. On the drawer 1, you "
                                               "see a key 1.")])
    slot = Slot(0, view=tracker.view(PLACES), admissible=PLACES, steps=steps, state="s")
    config = AgentConfig(frozen=frozen, policy={"calibrate": False, **policy})
    ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=config,
                       step_memory=StepMemory(HashEmbedder(32)))
    return action_scores(ctx, slot, LLMView(dict.fromkeys(PLACES, 0.0)))


def test_repeats_count_while_memory_learns_and_a_frozen_run_counts_keys() -> None:
    # "learning" (the default): a learning run covers the room, a frozen one exploits memory
    # and counts the shared key's tries, as before repeats existed
    learning = _searched_drawer_scores({}, frozen=False)
    assert learning["go to drawer 2"] > learning["go to drawer 1"]
    frozen = _searched_drawer_scores({}, frozen=True)
    assert frozen["go to drawer 1"] > frozen["go to drawer 2"]
    assert _searched_drawer_scores({"view_repeats": "always"}, frozen=True) == learning
    assert _searched_drawer_scores({"view_repeats": "off"}, frozen=False) == frozen


def test_a_closed_place_is_opened_before_the_room_is_walked_again() -> None:
    tracker = AlfredTracker("put a pen in shelf", INTRO)
    steps = _walk(tracker, [("go to drawer 1", "You arrive at drawer 1. On the drawer 1, you "
                                               "see nothing."),
                            ("go to drawer 2", "You arrive at drawer 2. The drawer 2 is "
                                               "closed.")])
    here = ["open drawer 2", "go to drawer 1", "go to drawer 3", "go to shelf 1"]
    view = tracker.view(here)
    assert view["actions"]["open drawer 2"]["context"] == SEARCH_OPEN
    scores = _scores(tracker, steps, here)
    assert scores["open drawer 2"] == scores["go to drawer 3"] > scores["go to drawer 1"]


def test_memory_visits_still_count_next_to_the_episodes_repeats() -> None:
    tracker = AlfredTracker("put a pen in shelf", INTRO)
    memory = StepMemory(HashEmbedder(32))
    shelf = action_keys("s", tracker.view(PLACES), PLACES)["go to shelf 1"]
    memory.update([shelf[1]] * 8, [shelf[0]] * 8, [0.0] * 8)  # tried often in earlier episodes
    scores = _scores(tracker, [], PLACES, memory)
    assert scores["go to drawer 1"] > scores["go to shelf 1"]


def test_the_view_contract_accepts_repeats_and_rejects_bad_counts() -> None:
    entry = {"kind": "go to drawer", "context": "c"}
    assert view_problem({"state": "s", "actions": {"a": {**entry, "repeats": 2}}}, ["a"]) is None
    for bad in (-1, 1.5, True, "2"):
        problem = view_problem({"state": "s", "actions": {"a": {**entry, "repeats": bad}}},
                               ["a"])
        assert problem is not None and "repeats" in problem
    assert "optionally 'needed', 'repeats'" in str(view_problem(
        {"state": "s", "actions": {"a": {**entry, "extra": 1}}}, ["a"]))
