"""Per-episode KV reuse on the embedded SmolLM2-135M gives the scores of running every prompt
in full: episodes with a growing history, candidates sharing leading tokens, batched, with
and without an LRU bound small enough to evict."""

from __future__ import annotations

import os

import pytest

from memplay.llm.base import Prompt
from memplay.llm.transformers_backend import TransformersLLM

pytestmark = pytest.mark.embedded
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RULES = ("You are in a house. Reach the goal with as few actions as possible. Actions: go to "
         "a place, open or close it, take an object from a place, put it in or on a place.")
ACTIONS = ["go to desk 1", "go to desk 2", "go to drawer 3", "go to drawer 10", "open drawer 3",
           "close drawer 3", "take pencil 1 from desk 1", "take pen 2 from desk 1", "look",
           "inventory", "put pencil 1 in/on drawer 3"]
GOALS = ["put a pencil in a drawer.", "look at a pen under the lamp.", "put a pen on a shelf."]


def _prompt(episode: int, step: int) -> Prompt:
    """Stable first (rules, goal, the actions, fixed here), then the history so far
    (append-only), then what is new at this step."""
    history = "".join(f"Step {k}: {ACTIONS[(episode + 3 * k) % len(ACTIONS)]} -> nothing "
                      "happens.\n" for k in range(step))
    user = (f"Goal: {GOALS[episode]}\nAllowed actions: {', '.join(ACTIONS)}\n{history}"
            f"Observation: you see desk {step + 1} and drawer {episode + 2}.\nYour action:")
    return [{"role": "system", "content": RULES}, {"role": "user", "content": user}]


@pytest.fixture(scope="module")
def reference() -> list[list[list[float]]]:
    """Every prompt in full, no shared prefix, no trie: nothing reused at all."""
    plain = TransformersLLM(prefix_reuse=False, share_candidates=False, num_threads=1)
    return [[[c.logprob_sum for c in row]
              for row in plain.score([_prompt(e, s) for e in range(3)], [ACTIONS] * 3)]
            for s in range(3)]


@pytest.mark.parametrize("max_sessions", [64, 2])
def test_session_scores_equal_full_recompute(
    reference: list[list[list[float]]], max_sessions: int
) -> None:
    llm = TransformersLLM(max_sessions=max_sessions, num_threads=1)
    keys = [f"ep{e}" for e in range(3)]
    for step in range(3):
        before = llm.cache_stats()
        scores = llm.score([_prompt(e, step) for e in range(3)], [ACTIONS] * 3, sessions=keys)
        for got, want in zip(scores, reference[step]):
            assert [c.logprob_sum for c in got] == pytest.approx(want, abs=2e-3)
        done = llm.cache_stats().minus(before)
        if step and max_sessions > len(keys):  # only the new step's tokens were run
            assert done.session_hits == 3 and done.hit_rate > 0.7
    stats = llm.cache_stats()
    unshared = stats.candidate_tokens - stats.prompts * len(ACTIONS)  # all but first tokens
    assert stats.candidate_computed < 0.8 * unshared  # "go to", "take", "close" run once
    if max_sessions == 2:
        assert stats.evictions > 0 and stats.live_sessions == 2
    llm.release(keys)
    assert llm.cache_stats().live_sessions == 0
