"""The one policy: LLM scores (scored or generated and parsed) plus memory's values."""

from __future__ import annotations

import math
import random

import pytest

from memplay.agents.policy import (
    UNNAMED,
    PolicyConfig,
    choose_action,
    combine_scores,
    llm_scores,
)
from memplay.errors import LLMOutputError
from memplay.llm.base import CandidateScore
from memplay.llm.fake import ScriptedLLM, prompt_text
from memplay.memory.step_memory import ActionValue

MOVES = ["left", "down", "right", "up"]
SCORE, GENERATE = PolicyConfig(), PolicyConfig(method="generate")


def test_score_mode_is_one_batched_call_per_decision() -> None:
    llm = ScriptedLLM(scores=lambda prompt, action: -0.1 if action in prompt else -3.0)
    views = llm_scores(llm, ["go up", "go left"], [MOVES, MOVES], SCORE)
    best = [max(v.scores, key=v.scores.__getitem__) for v in views]
    assert best == ["up", "left"] and len(llm.calls) == 1


def test_score_mode_uses_the_per_token_mean() -> None:
    class Long(ScriptedLLM):
        def score(self, prompts, candidates):  # type: ignore[no-untyped-def]
            return [[CandidateScore("go to the door", -4.0, 4), CandidateScore("wait", -2.0, 1)]]

    view = llm_scores(Long(), ["?"], [["go to the door", "wait"]], SCORE)[0]
    assert view.scores == {"go to the door": -1.0, "wait": -2.0}


def test_non_finite_scores_are_a_backend_fault() -> None:
    with pytest.raises(LLMOutputError, match="finite"):
        llm_scores(ScriptedLLM(scores={"left": math.nan}), ["?"], [["left"]], SCORE)


def test_generate_mode_parses_fuzzy_answers_in_prompt_order() -> None:
    llm = ScriptedLLM(responses=["Action: Go Down.", "rigth", "I go up"])
    views = llm_scores(llm, ["a", "b", "c"], [MOVES] * 3, GENERATE)
    assert [max(v.scores, key=v.scores.__getitem__) for v in views] == ["down", "right", "up"]
    assert views[0].scores == {"left": UNNAMED, "down": 0.0, "right": UNNAMED, "up": UNNAMED}
    assert len(llm.calls) == 1  # no answer needed a reminder


def test_garbage_is_reminded_once_then_left_to_memory() -> None:
    llm = ScriptedLLM(responses=["???", "!!!"])
    view = llm_scores(llm, [[{"role": "user", "content": "?"}]], [MOVES], GENERATE)[0]
    assert not view.parsed and set(view.scores.values()) == {0.0}
    reminder = prompt_text(llm.calls[1][1][0])
    assert "'???' is not a valid action" in reminder and "left, down, right, up" in reminder
    # the LLM said nothing usable, so memory's values decide
    values = {"down": ActionValue(1.0, 3, 1.0)}
    scores = combine_scores(view.scores, values, PolicyConfig(temperature=0.0))
    assert choose_action(scores, 0.0, random.Random(0)) == "down"


def test_a_reminder_that_works_counts_as_parsed() -> None:
    llm = ScriptedLLM(responses=["hmm", "left"])
    view = llm_scores(llm, ["?"], [MOVES], GENERATE)[0]
    assert view.parsed and view.scores["left"] == 0.0


def test_think_turn_is_answered_ok_and_then_asked_for_the_action() -> None:
    llm = ScriptedLLM(responses=["> think: the goal is below me", "down"])
    react = PolicyConfig(method="generate", think=True)
    view = llm_scores(llm, ["Your action:"], [MOVES], react)[0]
    assert view.thought == "the goal is below me" and view.scores["down"] == 0.0
    first, second = prompt_text(llm.calls[0][1][0]), prompt_text(llm.calls[1][1][0])
    assert "think:" in first and second.endswith("OK.\nYour action:")


def test_without_think_a_think_answer_is_just_unparsed_text() -> None:
    llm = ScriptedLLM(responses=["think: hmm", "up"])
    view = llm_scores(llm, ["?"], [MOVES], GENERATE)[0]
    assert view.thought is None and view.scores["up"] == 0.0  # the reminder's answer


def test_prior_weight_and_exploration_come_from_the_policy_config() -> None:
    values = {"left": ActionValue(0.5, 2, 1.0)}
    plain = combine_scores({"left": 0.0, "right": 0.0}, values, PolicyConfig())
    strong = combine_scores({"left": 0.0, "right": 0.0}, values,
                            PolicyConfig(prior_weight=8.0, exploration=0.0))
    assert plain["left"] - plain["right"] == pytest.approx(4 * 0.5 + 2 / math.sqrt(3) - 2)
    assert strong["left"] - strong["right"] == pytest.approx(8 * 0.5)


def test_without_memory_novelty_only_this_episodes_tries_lower_the_bonus() -> None:
    # a teacher's demos: "desk" done 8 times, "drawer" once, both worth the same
    values = {"desk": ActionValue(0.9, 8, 1.0), "drawer": ActionValue(0.9, 1, 1.0)}
    llm = {"desk": 0.0, "drawer": 0.0, "look": 0.0}
    exploring = combine_scores(llm, values, PolicyConfig())
    assert max(exploring, key=exploring.get) == "drawer"  # the rarer one looks more novel
    frozen = combine_scores(llm, values, PolicyConfig(memory_novelty=False), {"desk": 0})
    assert frozen["desk"] == pytest.approx(frozen["drawer"])  # equal values, equal novelty
    assert frozen["desk"] - frozen["look"] == pytest.approx(4 * 0.9)
    tried = combine_scores(llm, values, PolicyConfig(memory_novelty=False), {"desk": 3})
    assert tried["desk"] - tried["drawer"] == pytest.approx(2 / math.sqrt(4) - 2)

