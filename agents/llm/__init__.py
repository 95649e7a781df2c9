"""LLM backends behind one small protocol, and action selection on top of it.

Light imports only: backends load torch, httpx or vllm when built through :func:`make_llm`.

    >>> from memplay.agents.llm import make_llm, select_actions
    >>> llm = make_llm("scripted", scores={"right": -0.1})
    >>> select_actions(llm, ["Move?"], [["left", "right"]])[0].action
    'right'
"""

from memplay.agents.llm.actions import ActionChoice, SelectionStats, select_actions
from memplay.agents.llm.base import LLM, CandidateScore, Prompt, SamplingParams
from memplay.agents.llm.registry import BACKENDS, make_llm, register_backend

__all__ = [
    "BACKENDS",
    "LLM",
    "ActionChoice",
    "CandidateScore",
    "Prompt",
    "SamplingParams",
    "SelectionStats",
    "make_llm",
    "register_backend",
    "select_actions",
]
