"""Fault injection: LLM and environment failures end one episode, never the run.

Every injected fault is counted; the run must finish every scheduled episode, mark exactly
the faulted ones as errored, count them in ``metrics.json`` and keep its memory loadable.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from memplay.agents import Agent, AgentConfig, AgentContext, run_episodes
from memplay.environments import make
from memplay.errors import LLMConnectionError, LLMError
from memplay.llm.base import CandidateScore, Prompt, SamplingParams
from memplay.llm.fake import ScriptedLLM
from memplay.memory import FaissMemoryStore, HashEmbedder

ENV = "FrozenLake-4x4-v0"
EPOCHS, TASKS = 6, 4
ENV_FAULT_RATE = 0.04  # share of reset/step calls that raise in the environment test


class FlakyLLM(ScriptedLLM):
    """A ScriptedLLM whose calls fail with a seeded probability (raising ``error``)."""

    def __init__(self, rate: float, seed: int, error: type[Exception] = LLMError,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rng, self.rate, self.error, self.faults = random.Random(seed), rate, error, 0

    def _maybe_fail(self) -> None:
        if self.rng.random() < self.rate:
            self.faults += 1
            raise self.error(f"injected fault #{self.faults}")

    def score(self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]]
              ) -> list[list[CandidateScore]]:
        self._maybe_fail()
        return super().score(prompts, candidates)

    def generate(self, prompts: Sequence[Prompt], sampling: SamplingParams | None = None
                 ) -> list[str]:
        self._maybe_fail()
        return super().generate(prompts, sampling)


class FlakyEnv:
    """Wraps a registered env; ``reset``/``step`` raise with a seeded probability."""

    made = 0

    def __init__(self, rate: float, rng: random.Random) -> None:
        FlakyEnv.made += 1
        self.inner, self.rate, self.rng, self.faults = make(ENV), rate, rng, 0

    def _maybe_fail(self, where: str) -> None:
        if self.rng.random() < self.rate:
            self.faults += 1
            raise RuntimeError(f"injected {where} fault")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[str, dict[str, Any]]:
        self._maybe_fail("reset")
        return self.inner.reset(seed=seed, options=options)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._maybe_fail("step")
        return self.inner.step(action)


def _rows(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]


def _agent(llm: Any, **overrides: Any) -> Agent:
    return Agent(ENV, variant="memrl", llm=llm, embedder=HashEmbedder(32), parallel_envs=2,
                 max_steps=10, seed=5, **overrides)


@pytest.mark.parametrize("error", [LLMError, LLMConnectionError])
def test_llm_exceptions_mid_run_error_only_their_episodes(tmp_path: Path,
                                                          error: type[Exception]) -> None:
    llm = FlakyLLM(rate=0.05, seed=11, error=error)
    result = _agent(llm).run(epochs=EPOCHS, tasks=range(TASKS), run_dir=tmp_path,
                             progress=False)
    rows = _rows(tmp_path)
    assert sorted(r["episode"] for r in rows) == list(range(EPOCHS * TASKS))
    errored = [r for r in rows if r["errored"]]
    assert llm.faults > 0 and errored, "the seed must inject at least one fault"
    assert all("LLM failed" in r["error"] and r["llm_faults"] >= 1 for r in errored)
    # One failed batched call errors every slot in it (at most parallel_envs episodes).
    assert llm.faults <= len(errored) <= 2 * llm.faults
    assert result.metrics["errored"] == len(errored)
    assert FaissMemoryStore.load(tmp_path / "memory" / "store", HashEmbedder(32))


def test_non_memplay_backend_exception_is_isolated(tmp_path: Path) -> None:
    llm = FlakyLLM(rate=0.05, seed=11, error=TimeoutError)
    _agent(llm).run(epochs=2, tasks=range(TASKS), run_dir=tmp_path, progress=False)
    assert any(r["errored"] for r in _rows(tmp_path))


def test_llm_fault_total_is_in_metrics(tmp_path: Path) -> None:
    llm = FlakyLLM(rate=0.05, seed=11)
    result = _agent(llm).run(epochs=2, tasks=range(TASKS), run_dir=tmp_path, progress=False)
    assert result.metrics["llm_faults"] == sum(r["llm_faults"] for r in _rows(tmp_path))


@pytest.mark.parametrize("text", ["", "\x00\x00", "asdf qwerty " * 200, "{'json': ", "🙂" * 50])
def test_garbage_or_empty_generations_do_not_break_the_run(tmp_path: Path, text: str) -> None:
    llm = ScriptedLLM(responses=[text])
    result = _agent(llm, policy={"method": "generate"}).run(
        epochs=2, tasks=range(TASKS), run_dir=tmp_path, progress=False)
    rows = _rows(tmp_path)
    assert len(rows) == 2 * TASKS and not any(r["errored"] for r in rows)
    assert all(r["steps"] >= 1 for r in rows)  # garbage still yields a legal action
    assert result.metrics["episodes"] == 2 * TASKS


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_scores_are_llm_faults_not_crashes(tmp_path: Path, bad: float) -> None:
    # finite until the 3rd call: the backend has answered, so the faults stay with episodes
    calls = {"n": 0}

    def scores(prompt: Prompt, text: str) -> float:
        calls["n"] += text == "left"
        return bad if text == "left" and calls["n"] > 2 else -1.0

    llm = ScriptedLLM(scores=scores)
    result = _agent(llm, policy={"exploration": 0.0}).run(
        epochs=1, tasks=range(TASKS), run_dir=tmp_path, progress=False)
    rows = _rows(tmp_path)
    assert len(rows) == TASKS and any(r["errored"] for r in rows)
    errored = [r for r in rows if r["errored"]]
    assert all("LLM failed" in r["error"] and "left" in r["error"] for r in errored)
    assert result.metrics["errored"] == len(errored) == result.metrics["llm_faults"]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_backend_that_never_scores_finitely_stops_the_run(tmp_path: Path, bad: float
                                                            ) -> None:
    llm = ScriptedLLM(scores=lambda prompt, text: bad if text == "left" else -1.0)
    with pytest.raises(LLMError, match=r"left.*first batch"):
        _agent(llm).run(epochs=1, tasks=range(TASKS), run_dir=tmp_path, progress=False)
    assert not (tmp_path / "episodes.jsonl").exists() or not _rows(tmp_path)


def test_env_faults_in_reset_and_step_are_isolated_and_env_recreated(tmp_path: Path) -> None:
    rng = random.Random(7)
    FlakyEnv.made = 0
    envs: list[FlakyEnv] = [FlakyEnv(ENV_FAULT_RATE, rng) for _ in range(2)]

    def factory() -> FlakyEnv:
        envs.append(FlakyEnv(ENV_FAULT_RATE, rng))
        return envs[-1]

    cfg = AgentConfig(env_id=ENV, variant="none", llm="scripted", epochs=EPOCHS,
                      tasks=list(range(TASKS)), parallel_envs=2, max_steps=10)
    ctx = AgentContext(envs=list(envs), llm=ScriptedLLM(), config=cfg, env_factory=factory)
    result = run_episodes(ctx, tmp_path, progress=False)
    rows = _rows(tmp_path)
    faults = sum(e.faults for e in envs)
    errored = [r for r in rows if r["errored"]]
    assert sorted(r["episode"] for r in rows) == list(range(EPOCHS * TASKS))
    assert faults > 0 and len(errored) == faults  # one fault ends exactly one episode
    assert all(r["error"].startswith(("reset failed", "step failed")) for r in errored)
    assert FlakyEnv.made == 2 + len(errored)  # every crashed env was replaced
    assert result.metrics["errored"] == faults
