"""The agent's 'log' prompts on the embedded SmolLM2-135M: scored step after step in each
episode's session, they get the scores of a full recompute, and most prompt tokens are reused."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pytest

from memplay.agents import Agent
from memplay.llm.base import CandidateScore, Prompt
from memplay.llm.transformers_backend import TransformersLLM
from memplay.memory import HashEmbedder

pytestmark = pytest.mark.embedded
os.environ.setdefault("HF_HUB_OFFLINE", "1")


class Recording(TransformersLLM):
    """The embedded model, keeping every scoring call the agent makes."""

    calls: list[tuple[list[Prompt], list[list[str]], list[list[CandidateScore]]]]

    def score(self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]], *,
              sessions: Sequence[str | None] | None = None) -> list[list[CandidateScore]]:
        out = super().score(prompts, candidates, sessions=sessions)
        self.calls.append((list(prompts), [list(c) for c in candidates], out))
        return out


def test_log_prompts_in_sessions_score_like_a_full_recompute(tmp_path: Any) -> None:
    llm = Recording(num_threads=1)
    llm.calls = []
    agent = Agent("FrozenLake-4x4-v0", llm=llm, embedder=HashEmbedder(64), max_steps=5,
                  parallel_envs=2, seed=0, prompt={"layout": "log"})
    agent.run(epochs=1, tasks=[0, 1], run_dir=tmp_path / "run", progress=False)
    agent.close()
    stats = llm.scorer.stats()
    assert len(llm.calls) >= 3
    # later steps start from their episode's kept log: most prompt tokens are not run again
    assert stats.session_hits > 0 and stats.computed_tokens < 0.5 * stats.prompt_tokens

    plain = TransformersLLM(prefix_reuse=False, share_candidates=False, num_threads=1)
    for prompts, candidates, kept in llm.calls:
        again = plain.score(prompts, candidates)
        for row, full in zip(kept, again):
            assert [c.logprob_sum for c in row] == pytest.approx(
                [c.logprob_sum for c in full], abs=1e-3)
