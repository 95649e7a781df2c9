"""Action selection and output parsing, with the scripted LLM (no model)."""

from __future__ import annotations

import random

import pytest

from memplay.agents.llm.actions import SelectionStats, select_actions
from memplay.agents.llm.fake import ScriptedLLM, prompt_text
from memplay.agents.llm.parse import first_line, parse_action
from memplay.errors import ConfigError

MOVES = ["left", "down", "right", "up"]


def test_score_mode_picks_highest_logprob_per_prompt() -> None:
    llm = ScriptedLLM(scores=lambda p, a: 0.0 if a in prompt_text(p) else -3.0)
    choices = select_actions(llm, ["go up", "go left"], [MOVES, MOVES])
    assert [c.action for c in choices] == ["up", "left"]
    assert all(c.method == "score" and not c.fallback for c in choices)
    assert choices[0].scores["up"] > choices[0].scores["down"]
    assert len(llm.calls) == 1  # one batched score call for all prompts


def test_prior_is_an_additive_bonus_scaled_by_weight() -> None:
    llm = ScriptedLLM(scores={"left": -1.0, "right": -2.0})
    prior = [{"right": 0.6}]
    weak = select_actions(llm, ["?"], [["left", "right"]], prior=prior, prior_weight=1.0)[0]
    strong = select_actions(llm, ["?"], [["left", "right"]], prior=prior, prior_weight=2.0)[0]
    assert weak.action == "left" and strong.action == "right"
    assert strong.scores["right"] == pytest.approx(-2.0 + 1.2)


def test_mean_normalisation_favours_short_high_prob_per_token() -> None:
    # ScriptedLLM counts one token per word: "go to the door" has 4 tokens.
    llm = ScriptedLLM(scores={"go to the door": -4.0, "wait": -2.0})
    mean = select_actions(llm, ["?"], [["go to the door", "wait"]], normalise="mean")[0]
    total = select_actions(llm, ["?"], [["go to the door", "wait"]], normalise="sum")[0]
    assert mean.action == "go to the door" and total.action == "wait"


def test_generate_mode_fuzzy_matches_and_counts() -> None:
    llm = ScriptedLLM(responses=["Action: rihgt\nObservation: blah"])
    stats = SelectionStats()
    choice = select_actions(llm, ["?"], [MOVES], method="generate", stats=stats)[0]
    assert choice.action == "right" and not choice.fallback
    assert stats.fuzzy == 1 and stats.retries == 0 and stats.decisions == 1


def test_garbage_output_retries_once_then_falls_back_counted() -> None:
    llm = ScriptedLLM(responses=["%%%% zzz", "!!!"])
    stats = SelectionStats()
    choice = select_actions(
        llm, ["?"], [MOVES], method="generate", stats=stats, rng=random.Random(3)
    )[0]
    assert choice.fallback and choice.action in MOVES and choice.raw == "!!!"
    assert stats.retries == 1 and stats.fallbacks == 1
    retry_prompt = llm.calls[1][1][0]
    assert isinstance(retry_prompt, str) and "left, down, right, up" in retry_prompt


def test_retry_that_succeeds_is_not_a_fallback() -> None:
    llm = ScriptedLLM(responses=["no idea", "down"])
    choice = select_actions(llm, [[{"role": "user", "content": "?"}]], [MOVES],
                            method="generate")[0]
    assert choice.action == "down" and not choice.fallback
    retry = llm.calls[1][1][0]
    assert isinstance(retry, list) and retry[-2] == {"role": "assistant", "content": "no idea"}


def test_fallback_prefers_best_prior_action() -> None:
    llm = ScriptedLLM(responses=["???"])
    choice = select_actions(llm, ["?"], [MOVES], method="generate",
                            prior=[{"up": 0.9, "left": 0.1}])[0]
    assert choice.fallback and choice.action == "up"


def test_no_admissible_actions_generates_and_takes_first_line() -> None:
    llm = ScriptedLLM(scores={"x": 0.0}, responses=["\n  > take key from table.\nmore text"])
    choice = select_actions(llm, ["?"], [[]])[0]
    assert choice.action == "take key from table" and choice.method == "generate"
    assert [kind for kind, _ in llm.calls] == ["generate"]


def test_empty_output_without_admissible_is_flagged_fallback() -> None:
    llm = ScriptedLLM(responses=[""])
    choice = select_actions(llm, ["?"], None)[0]
    assert choice.fallback and choice.action == ""


def test_mixed_batch_keeps_prompt_order() -> None:
    llm = ScriptedLLM(scores={"up": 0.0}, responses=["open door"])
    choices = select_actions(llm, ["a", "b", "c"], [MOVES, [], MOVES])
    assert [c.action for c in choices] == ["up", "open door", "up"]
    assert [c.method for c in choices] == ["score", "generate", "score"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"method": "vote"}, "method='vote'"),
        ({"normalise": "max"}, "normalise='max'"),
        ({"prior": [{}, {}]}, "2 priors"),
    ],
)
def test_bad_arguments_raise_config_error(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        select_actions(ScriptedLLM(), ["?"], [MOVES], **kwargs)


def test_mismatched_admissible_length_is_rejected() -> None:
    with pytest.raises(ConfigError, match="1 prompts but 2 admissible"):
        select_actions(ScriptedLLM(), ["?"], [MOVES, MOVES])


def test_parse_rules_in_order() -> None:
    acts = ["go to desk 1", "go to desk", "open drawer 2"]
    assert parse_action("go to desk", acts).how == "exact"
    assert parse_action("GO TO DESK 1", acts).action == "go to desk 1"
    contained = parse_action("I think I should go to desk 1 now", acts)
    assert (contained.action, contained.how) == ("go to desk 1", "contains")
    fuzzy = parse_action("opne drawer 2", acts)
    assert fuzzy.action == "open drawer 2" and 0.6 <= fuzzy.ratio < 1.0
    assert parse_action("fly to the moon", acts).action is None
    assert parse_action("left", []).how == "none"


def test_first_line_strips_labels_and_blank_lines() -> None:
    assert first_line("\n\n  Answer: 'up'!\nnext") == "up"
    assert first_line("  \n \t") == ""


def test_parse_rejects_bad_cutoff() -> None:
    with pytest.raises(ConfigError, match="cutoff=0"):
        parse_action("x", ["x"], cutoff=0)
