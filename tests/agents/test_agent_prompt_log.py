"""Prompt layout 'log': the episode's observations and actions only grow, step by step, so a
backend that keeps each episode's attention states runs only the new step and the tail."""

from __future__ import annotations

import itertools

from memplay.agents.config import PromptConfig
from memplay.agents.prompts import build_messages
from memplay.agents.state import Slot, StepRecord

LOG = PromptConfig(layout="log", history_chars=400, history_stride=4)
ACTIONS = ["left", "right", "up", "down"]


def _content(steps: list[StepRecord], observation: str, cfg: PromptConfig = LOG) -> str:
    slot = Slot(0, goal="reach G", observation=observation, admissible=ACTIONS, steps=steps)
    return build_messages(slot, cfg)[1]["content"]


def _episode(n: int) -> list[tuple[list[StepRecord], str]]:
    """The (steps so far, current observation) of each of ``n`` decisions."""
    observations = [f"You moved.\nrow {i} of the board\n..G{i}" for i in range(n + 1)]
    steps = [StepRecord(observations[i], ACTIONS[i % 4]) for i in range(n)]
    return [(steps[:t], observations[t]) for t in range(n + 1)]


def _tail_start(content: str) -> int:
    return content.index("\nAllowed actions:")


def test_each_prompt_extends_the_last_one_up_to_its_tail() -> None:
    prompts = [_content(steps, obs) for steps, obs in _episode(3)]
    for step, (before, after) in enumerate(itertools.pairwise(prompts)):
        kept = before[: _tail_start(before)]
        assert after.startswith(kept)  # everything but the action list is kept
        assert "> " + ACTIONS[step % 4] in after[len(kept):]
    assert prompts[-1].count("> ") == 3 and "row 0 of the board" in prompts[-1]


def test_a_long_log_is_cut_a_stride_at_a_time_and_stays_a_prefix_between_cuts() -> None:
    prompts = [_content(steps, obs) for steps, obs in _episode(30)]
    kept = [after.startswith(before[: _tail_start(before)])
            for before, after in itertools.pairwise(prompts)]
    cuts = kept.count(False)
    assert 0 < cuts <= 30 // LOG.history_stride  # cut at most once per stride
    assert all(len(p) < LOG.history_chars + 400 for p in prompts)
    assert "(earlier steps left out)" in prompts[-1] and "row 0 of" not in prompts[-1]


def test_the_window_layout_is_unchanged() -> None:
    steps, obs = _episode(2)[-1]
    content = _content(steps, obs, PromptConfig())
    assert "Your last moves: left, right" in content and "Observation:\n" + obs in content
    assert "row 0 of the board" not in content
