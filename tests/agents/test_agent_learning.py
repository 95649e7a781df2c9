"""What memory learns from a finished episode: the step returns."""

from __future__ import annotations

from memplay.agents.learning import step_returns
from memplay.memory.config import MemoryConfig


def test_step_returns_blame_only_the_fatal_move_of_a_failure() -> None:
    cfg = MemoryConfig(novelty=0.0)
    failed = step_returns("abc", [0, 0, 0], success=False, truncated=False, cfg=cfg)
    assert failed == [0.0, 0.0, -1.0]
    timed_out = step_returns("abc", [0, 0, 0], success=False, truncated=True, cfg=cfg)
    assert timed_out == [0.0, 0.0, 0.0]


def test_step_returns_reward_first_visits_to_rare_states_not_loops() -> None:
    cfg = MemoryConfig(novelty=1.0, gamma=1.0, noop_penalty=0.0)
    # a -> b (new, never seen) -> a (loop back) -> b (loop); time-out
    loop = step_returns("abab", [0, 0, 0, 0], success=False, truncated=True, cfg=cfg)
    assert loop == [1.0, 0.0, 0.0, 0.0]
    # reaching a state seen 3 times before pays half as much as a brand-new one
    seen = step_returns("ab", [0, 3], success=False, truncated=True, cfg=cfg)
    assert seen[0] == 0.5


def test_step_returns_credit_a_success_to_its_loop_free_path() -> None:
    cfg = MemoryConfig(novelty=0.0, gamma=0.5, noop_penalty=0.0)
    assert step_returns("abac", [0] * 4, success=True, truncated=False, cfg=cfg) == \
        [0.0, 0.0, 0.5, 1.0]
    walls = MemoryConfig(novelty=0.0, gamma=0.5, noop_penalty=0.5)
    assert step_returns("aab", [0] * 3, success=True, truncated=False, cfg=walls)[0] == -0.5
