"""A playbook rewrite with the real embedded SmolLM2-135M: readable result or old doc kept."""

from __future__ import annotations

import os
import re

import pytest

from memplay.agents.methods.budget import SizeBudget
from memplay.agents.methods.playbook.learn import PlaybookConfig, PlaybookWriter
from memplay.agents.methods.playbook.store import PlaybookStore
from memplay.llm.base import SamplingParams
from memplay.types import Step, Trajectory

RULES = "- Actions: left, down, right, up move one square.\n- Falling into H ends the episode."
PLAYBOOK = "- Go down the left column first, then right along the bottom row."

def frozenlake_failure() -> Trajectory:
    board = "SFFF\nFHFH\nFFFH\nHFFG"
    moves = ["left", "down", "right", "up"]
    steps = [
        Step(observation=f"{board}\nYou are at row 0 col 0.", action="right",
             admissible_actions=moves),
        Step(observation="You are at row 0 col 1.", action="down", admissible_actions=moves),
    ]
    return Trajectory(
        env_id="FrozenLake-4x4-v0", goal="reach G without falling into a hole H", steps=steps,
        success=False,
    )


def _readable(text: str) -> bool:
    words = re.findall(r"[A-Za-z']+", text)
    printable = sum(ch.isprintable() or ch == "\n" for ch in text) / max(len(text), 1)
    return len(words) >= 4 and printable > 0.98 and len(set(words)) / len(words) >= 0.3


@pytest.mark.embedded
def test_real_model_rewrite_leaves_readable_document_or_keeps_old(tmp_path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from memplay.llm.transformers_backend import TransformersLLM

    config = PlaybookConfig(
        budget=SizeBudget(max_units=400), sampling=SamplingParams(max_new_tokens=40)
    )
    book = PlaybookWriter(PlaybookStore(tmp_path), config)
    book.store.seed("FrozenLake", "rules", RULES)
    book.store.seed("FrozenLake", "playbook", PLAYBOOK)
    # Only the playbook has been played with, so only it is due: one generation keeps the
    # test to seconds on a 2-core CI machine.
    book.store.history("FrozenLake", "playbook").record(success=False)
    outcomes = {o.name: o for o in book.rewrite(frozenlake_failure(), TransformersLLM())}
    assert outcomes["rules"].reason == "waiting"
    outcome, history = outcomes["playbook"], book.store.history("FrozenLake", "playbook")
    if outcome.accepted:
        assert _readable(history.current.text) and len(history.current.text) <= 400
        assert history.current.version == 1 and history.current.parent == 0
    else:
        assert history.rejections == {outcome.reason: 1}
        assert history.current.text == PLAYBOOK and len(history.versions) == 1
    assert history.current.text in (tmp_path / "FrozenLake.md").read_text()
