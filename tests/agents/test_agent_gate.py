"""The decision gate: memory settles a choice only when the LLM could not change it.

Property tests (hypothesis) draw random memory values, tries, LLM scores and policy settings,
and compare the gated policy with the ungated one (same bounded LLM term, every action
scored): whenever the gate skips the model, both choose the same action (greedy), or the
ungated policy would have chosen it with probability at least 1 - epsilon (sampling); an
action the gate prunes never wins.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memplay.agents.policy import (
    Decision,
    LLMView,
    PolicyConfig,
    choose_batch,
    decide,
    log_softmax,
    plan_batch,
    scores_for,
)
from memplay.llm.base import CandidateScore, Prompt
from memplay.llm.fake import ScriptedLLM
from memplay.memory.step_memory import ActionValue

ACTIONS = [f"a{i}" for i in range(8)]

values_st = st.builds(
    ActionValue, q=st.floats(-1.0, 1.0), visits=st.integers(0, 6), sim=st.floats(0.5, 1.0),
    borrowed=st.sampled_from([0.0, 0.0, 2.0]))


@st.composite
def decisions(draw: Any, group: str = "s") -> tuple[Decision, dict[str, float]]:
    """A decision with random memory values and tries, and the LLM's raw log-probs for it."""
    n = draw(st.integers(1, 6))
    actions = ACTIONS[:n]
    values = {a: draw(values_st) for a in actions}
    tried = {a: t for a in actions if (t := draw(st.integers(0, 3)))}
    raw = {a: draw(st.floats(-25.0, 0.0)) for a in actions}
    return Decision(actions, f"prompt {draw(st.integers(0, 9))}", values, tried, group), raw


configs = st.builds(
    PolicyConfig, gate=st.just("on"), llm_clip=st.floats(0.2, 12.0),
    llm_weight=st.floats(0.0, 2.0), prior_weight=st.floats(0.0, 6.0),
    exploration=st.floats(0.0, 3.0), calibrate=st.booleans(), temperature=st.just(0.0),
    memory_novelty=st.booleans())
biases = st.dictionaries(st.sampled_from(ACTIONS),
                         st.tuples(st.floats(-30.0, 0.0), st.integers(1, 5)).map(
                             lambda t: [t[0] * t[1], float(t[1])]), max_size=8)


def _ungated(cfg: PolicyConfig) -> PolicyConfig:
    return cfg.model_copy(update={"gate": "off"})


@settings(max_examples=300, deadline=None)
@given(case=decisions(), cfg=configs, bias=biases)
def test_a_skipped_decision_is_the_one_the_ungated_policy_takes(
        case: tuple[Decision, dict[str, float]], cfg: PolicyConfig,
        bias: dict[str, list[float]]) -> None:
    decision, raw = case
    (plan,) = plan_batch([decision], cfg)
    scores = scores_for(decision, LLMView(raw), _ungated(cfg), copy.deepcopy(bias))
    best = max(decision.actions, key=lambda a: scores[a])  # what greedy choice takes
    if plan.pick is not None:
        assert not plan.candidates and plan.pick == best
    else:
        assert best in plan.candidates  # a pruned action never wins
        assert len(plan.candidates) + plan.pruned_by_value == len(decision.actions)


@settings(max_examples=200, deadline=None)
@given(case=decisions(), cfg=configs, bias=biases, temperature=st.floats(0.05, 2.0),
       epsilon=st.floats(0.001, 0.2))
def test_sampling_is_settled_up_to_epsilon(
        case: tuple[Decision, dict[str, float]], cfg: PolicyConfig,
        bias: dict[str, list[float]], temperature: float, epsilon: float) -> None:
    decision, raw = case
    cfg = cfg.model_copy(update={"temperature": temperature, "gate_epsilon": epsilon})
    (plan,) = plan_batch([decision], cfg)
    scores = scores_for(decision, LLMView(raw), _ungated(cfg), copy.deepcopy(bias))
    probs = {a: math.exp(v) for a, v in
             log_softmax({a: s / temperature for a, s in scores.items()}).items()}
    if plan.pick is not None:
        assert probs[plan.pick] >= 1 - epsilon - 1e-9
    n = len(decision.actions)
    assert all(probs[a] <= epsilon / n + 1e-9 for a in decision.actions
               if a not in plan.candidates and a != plan.pick)


class TableLLM(ScriptedLLM):
    """Scores from a table per prompt; records the candidates of every call."""

    def __init__(self, table: dict[str, dict[str, float]]) -> None:
        super().__init__()
        self.table = table
        self.asked: list[list[list[str]]] = []

    def score(self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]
              ) -> list[list[CandidateScore]]:
        self.asked.append([list(c) for c in candidates])
        return [[CandidateScore(c, self.table[str(p)][c], 1) for c in cands]
                for p, cands in zip(prompts, candidates)]


@settings(max_examples=150, deadline=None)
@given(cases=st.lists(st.tuples(decisions(), st.sampled_from(["s", "t"])), min_size=1,
                      max_size=6),
       cfg=configs, bias=biases)
def test_a_batch_in_one_state_chooses_alike_gated_or_not(
        cases: list[tuple[tuple[Decision, dict[str, float]], str]], cfg: PolicyConfig,
        bias: dict[str, list[float]]) -> None:
    # parallel episodes in one state count each other's picks; without calibration (whose
    # running means see fewer decisions when the gate skips some) the whole batch is equal
    batch = [Decision(d.actions, f"p{i}", d.values, d.tried, group)
             for i, ((d, _), group) in enumerate(cases)]
    table = {f"p{i}": raw for i, ((_, raw), _) in enumerate(cases)}
    cfg = cfg.model_copy(update={"calibrate": False})
    gated = decide(TableLLM(table), batch, cfg, copy.deepcopy(bias), random.Random(0))
    plain = decide(TableLLM(table), batch, _ungated(cfg), copy.deepcopy(bias), random.Random(0))
    assert [c.action for c in gated] == [c.action for c in plain]


def test_pruned_candidates_are_not_sent_and_are_counted() -> None:
    cfg = PolicyConfig(gate="on", llm_clip=4.0, temperature=0.0, prune_unneeded=True,
                       calibrate=False)
    values = {"go": ActionValue(0.5, 2, 1.0), "wait": ActionValue(0.4, 2, 1.0),
              "jump": ActionValue(-1.0, 5, 1.0), "look": ActionValue(0.0, 0, 1.0)}
    decision = Decision(["go", "wait", "jump", "look"], "p", values, {}, unneeded=frozenset(
        {"look"}))
    llm = TableLLM({"p": {"go": -3.0, "wait": -0.1, "jump": -0.1, "look": -0.1}})
    (choice,) = decide(llm, [decision], cfg, {}, random.Random(0))
    assert llm.asked == [[["go", "wait"]]]  # jump cannot win, look is not needed
    stats = choice.stats
    assert (stats.model_calls, stats.candidates, stats.scored) == (1, 4, 2)
    assert (stats.pruned_by_value, stats.pruned_by_view) == (1, 1)
    assert choice.action == "wait"


def test_listing_candidates_only_shortens_the_prompt_the_model_reads() -> None:
    values = {"go": ActionValue(0.5, 2, 1.0), "wait": ActionValue(0.4, 2, 1.0),
              "jump": ActionValue(-1.0, 5, 1.0)}
    decision = Decision(["go", "wait", "jump"], "all three", values, {},
                        relist=lambda acts: "only " + ",".join(acts))
    llm = TableLLM({"all three": {"go": -0.1, "wait": -2.0},
                    "only go,wait": {"go": -2.0, "wait": -0.1}})
    base = PolicyConfig(gate="on", llm_clip=4.0, temperature=0.0, calibrate=False)
    (kept,) = decide(llm, [decision], base, {}, random.Random(0))
    listed = base.model_copy(update={"list_actions": "candidates"})
    (short,) = decide(llm, [decision], listed, {}, random.Random(0))
    assert llm.asked == [[["go", "wait"]], [["go", "wait"]]]  # jump pruned both times
    assert (kept.action, short.action) == ("go", "wait")  # each read its own prompt


def test_an_unlisted_prompt_needs_score_mode() -> None:
    with pytest.raises(ValueError, match="list_actions='none' needs method='score'"):
        PolicyConfig(method="generate", list_actions="none")


def test_the_node_relists_the_slot_with_its_candidates() -> None:
    from memplay.agents.config import AgentConfig
    from memplay.agents.context import AgentContext
    from memplay.agents.nodes import decision_of
    from memplay.agents.state import Slot

    config = AgentConfig(variant="none", policy={"list_actions": "candidates"})
    ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=config)
    slot = Slot(0, goal="g", observation="o", admissible=["north", "south", "east"])
    prompt = decision_of(slot, ctx).prompt_for(["south"], config.policy)
    assert "Allowed actions: south\n" in prompt[-1]["content"]
    assert "north" not in prompt[-1]["content"]
    bare = decision_of(slot, ctx).prompt_for(["south"], config.policy.model_copy(
        update={"list_actions": "none"}))
    assert "Allowed actions" not in bare[-1]["content"]
    assert bare[-1]["content"].endswith("o\nYour action:")


def test_a_settled_decision_does_not_call_the_model() -> None:
    cfg = PolicyConfig(gate="on", llm_clip=2.0, temperature=0.0)
    values = {"go": ActionValue(1.0, 3, 1.0), "wait": ActionValue(-0.5, 3, 1.0)}
    llm = TableLLM({})
    (choice,) = decide(llm, [Decision(["go", "wait"], "p", values, {})], cfg, {},
                       random.Random(0))
    assert llm.asked == [] and choice.action == "go"
    assert (choice.stats.decisions, choice.stats.model_calls, choice.stats.scored) == (1, 0, 0)


def test_an_open_pick_in_the_same_state_keeps_a_later_decision_open() -> None:
    # the first decision waits for the model; its pick may land on "go" and cut the second
    # decision's novelty bonus for it, so a margin that only the bonus gives is not enough
    cfg = PolicyConfig(gate="on", llm_clip=1.0, temperature=0.0)
    tie = {"go": ActionValue(0.0, 0, 1.0), "wait": ActionValue(0.0, 0, 1.0)}
    lead = {"go": ActionValue(0.0, 0, 1.0), "wait": ActionValue(0.0, 0, 1.0)}
    first = Decision(["go", "wait"], "p0", tie, {}, "s")
    second = Decision(["go", "wait"], "p1", lead, {"wait": 3}, "s")
    plans = plan_batch([first, second], cfg)
    assert plans[0].asks and plans[1].asks
    alone = plan_batch([second], cfg)
    assert alone[0].pick == "go"  # by itself its margin (2 - 1 = 1 > 0.5) settles it


def test_audit_asks_every_time_and_counts_agreement() -> None:
    cfg = PolicyConfig(gate="audit", llm_clip=2.0, temperature=0.0)
    values = {"go": ActionValue(1.0, 3, 1.0), "wait": ActionValue(-0.5, 3, 1.0)}
    llm = TableLLM({"p": {"go": -9.0, "wait": -0.1}})
    (choice,) = decide(llm, [Decision(["go", "wait"], "p", values, {})], cfg, {},
                       random.Random(0))
    assert llm.asked == [[["go", "wait"]]] and choice.action == "go"
    assert (choice.stats.model_calls, choice.stats.audited, choice.stats.audit_agreed) == (1, 1, 1)


def test_a_failed_call_fails_only_the_decisions_that_waited_for_it() -> None:
    cfg = PolicyConfig(gate="on", llm_clip=2.0, temperature=0.0)
    settled = Decision(["go", "wait"], "p0", {"go": ActionValue(1.0, 3, 1.0),
                                              "wait": ActionValue(-1.0, 3, 1.0)}, {}, "a")
    open_ = Decision(["go", "wait"], "p1", {"go": ActionValue(0.0, 3, 1.0),
                                            "wait": ActionValue(0.0, 3, 1.0)}, {}, "b")
    plans = plan_batch([settled, open_], cfg)
    choices = choose_batch([settled, open_], plans, {}, cfg, {}, random.Random(0))
    assert choices[0] is not None and choices[0].action == "go" and choices[1] is None


def test_the_gate_needs_a_bound_in_score_mode() -> None:
    with pytest.raises(ValueError, match="llm_clip"):
        PolicyConfig(gate="on")
    assert PolicyConfig(gate="on", gate_margin=3.0).reach() == 3.0
    assert PolicyConfig(gate="on", method="generate").reach() == pytest.approx(5.0)


def test_a_settled_draw_keeps_the_random_stream_aligned() -> None:
    cfg = PolicyConfig(gate="on", llm_clip=1.0, temperature=0.5)
    values = {"go": ActionValue(1.0, 3, 1.0), "wait": ActionValue(-1.0, 3, 1.0)}
    decision = Decision(["go", "wait"], "p", values, {})
    rng_gated, rng_plain = random.Random(7), random.Random(7)
    decide(TableLLM({"p": {"go": -1.0, "wait": -1.0}}), [decision], cfg, {}, rng_gated)
    decide(TableLLM({"p": {"go": -1.0, "wait": -1.0}}), [decision],
           cfg.model_copy(update={"gate": "off"}), {}, rng_plain)
    assert rng_gated.random() == rng_plain.random()
