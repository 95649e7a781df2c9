"""policy.reuse_scores: a score the model gave in this episode stands in for a new call."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from langgraph.runtime import Runtime
from pydantic import ValidationError

from memplay.agents import Agent
from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.metrics import decision_line
from memplay.agents.nodes import finish
from memplay.agents.policy import Decision, PolicyConfig, decide
from memplay.agents.score_memo import ScoreMemo
from memplay.agents.state import Slot, initial_state
from memplay.llm.fake import ScriptedLLM
from memplay.memory import HashEmbedder
from memplay.memory.step_memory import ActionValue

ACTIONS = ["go to fridge 1", "go to desk 1", "go to shelf 1"]
# memory ties the three places: the gate leaves them all to the model
TIED = {a: ActionValue(0.0, 0, 1.0) for a in ACTIONS}


class Counting:
    """A scripted model that records each (prompt, candidate) it scores."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scored: list[tuple[str, str]] = []
        self.llm = ScriptedLLM(scores=self._score)
        self.table = scores

    def _score(self, prompt: object, text: str) -> float:
        self.scored.append((str(prompt), text))
        return self.table[text]


def _cfg(reuse: int) -> PolicyConfig:
    return PolicyConfig(gate="on", llm_clip=4.0, temperature=0.0, calibrate=False,
                        reuse_scores=reuse)


def _step(model: Counting, memo: ScoreMemo, cfg: PolicyConfig, actions: list[str],
          session: str = "ep") -> tuple[str, int, int]:
    decision = Decision(actions, f"prompt {len(model.scored)}", TIED, {}, session=session)
    choice = decide(model.llm, [decision], cfg, {}, random.Random(0), memo)[0]
    return choice.action, choice.stats.model_calls, choice.stats.reused


def test_a_kept_score_replaces_the_call_within_n_decisions_then_ages_out() -> None:
    model = Counting({"go to fridge 1": -1.0, "go to desk 1": -3.0, "go to shelf 1": -2.0})
    memo, cfg = ScoreMemo(), _cfg(reuse=2)
    assert _step(model, memo, cfg, ACTIONS) == ("go to fridge 1", 1, 0)
    assert len(model.scored) == 3
    # the next two decisions of the episode: every candidate has a kept score, no call
    assert _step(model, memo, cfg, ACTIONS[1:]) == ("go to shelf 1", 0, 2)
    assert _step(model, memo, cfg, ACTIONS[1:]) == ("go to shelf 1", 0, 2)
    assert len(model.scored) == 3 and len(model.llm.calls) == 1
    # three decisions after the scores were given they are too old: the model is asked again
    assert _step(model, memo, cfg, ACTIONS[1:]) == ("go to shelf 1", 1, 0)
    assert len(model.scored) == 5


def test_only_the_candidates_without_a_kept_score_are_sent() -> None:
    model = Counting({"go to fridge 1": -1.0, "go to desk 1": -3.0, "go to shelf 1": -2.0,
                      "open drawer 1": -0.5})
    memo, cfg = ScoreMemo(), _cfg(reuse=5)
    _step(model, memo, cfg, ACTIONS[1:])
    action, calls, reused = _step(model, memo, cfg, [*ACTIONS[1:], "open drawer 1"])
    assert (action, calls, reused) == ("open drawer 1", 1, 2)
    assert [text for _, text in model.scored[2:]] == ["open drawer 1"]


def test_episodes_keep_their_own_scores() -> None:
    model = Counting({a: -1.0 for a in ACTIONS})
    memo, cfg = ScoreMemo(), _cfg(reuse=5)
    _step(model, memo, cfg, ACTIONS, session="a")
    assert _step(model, memo, cfg, ACTIONS, session="b")[1] == 1
    assert _step(model, memo, cfg, ACTIONS, session="a")[1] == 0
    memo.forget(["a", None])
    assert len(memo) == 1 and _step(model, memo, cfg, ACTIONS, session="a")[1] == 1


def test_off_by_default_and_without_a_session() -> None:
    model = Counting({a: -1.0 for a in ACTIONS})
    memo = ScoreMemo()
    for _ in range(2):
        assert _step(model, memo, _cfg(reuse=0), ACTIONS)[1] == 1
    cfg = _cfg(reuse=3)
    for _ in range(2):
        decision = Decision(ACTIONS, "p", TIED, {}, session=None)
        assert decide(model.llm, [decision], cfg, {}, random.Random(0), memo)[0] \
            .stats.model_calls == 1
    assert len(memo) == 0


def test_memo_keeps_at_most_max_episodes() -> None:
    memo = ScoreMemo(max_episodes=2)
    for session in ("a", "b", "c"):
        memo.store(session, {"x": -1.0})
    assert len(memo) == 2 and memo.recall("a", ["x"], within=9) == {}
    assert memo.recall("c", ["x"], within=9) == {"x": -1.0}


@pytest.mark.parametrize(("fields", "match"), [
    ({"reuse_scores": -1}, "greater than or equal to 0"),
    ({"reuse_scores": 2, "method": "generate"}, "reuse_scores needs method='score'"),
])
def test_bad_settings_are_refused(fields: dict[str, object], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        PolicyConfig(**fields)  # type: ignore[arg-type]


def test_an_agent_run_asks_less_and_reports_the_reused_scores(tmp_path: Path) -> None:
    def run(reuse: int) -> dict[str, int]:
        agent = Agent("FrozenLake-4x4-v0", variant="memrl", embedder=HashEmbedder(64),
                      llm=ScriptedLLM(scores={"right": -0.5, "down": -0.7}), max_steps=12,
                      parallel_envs=2, seed=0,
                      policy={"gate": "on", "llm_clip": 4.0, "temperature": 0.0,
                              "reuse_scores": reuse})
        result = agent.run(epochs=1, tasks=[0, 1], run_dir=tmp_path / str(reuse),
                           progress=False)
        agent.close()
        return dict(result.metrics["decision_stats"])

    plain, kept = run(0), run(4)
    assert plain["reused"] == 0 and kept["reused"] > 0
    assert kept["model_calls"] < plain["model_calls"]
    assert "kept scores reused" in (decision_line({"decision_stats": kept}) or "")


def test_the_end_of_a_batch_forgets_its_episodes_scores() -> None:
    ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(variant="none"))
    slots = [Slot(0, episode=3), Slot(1, episode=4)]
    for slot in slots:
        ctx.score_memo.store(slot.session, {"left": -1.0})
    ctx.score_memo.store("another batch", {"left": -1.0})
    finish(initial_state(slots), Runtime(context=ctx))
    assert len(ctx.score_memo) == 1
