"""LLM backends behind one small protocol (``generate`` and ``score``), by registry name.

Light imports only: backends load torch, httpx or vllm when built through :func:`make_llm`.
How the agent turns scores into an action is :mod:`memplay.agents.policy`.

    >>> from memplay.llm import make_llm
    >>> llm = make_llm("scripted", scores={"right": -0.1})
    >>> [c.text for c in llm.score(["Move?"], [["left", "right"]])[0]]
    ['left', 'right']
"""

from memplay.llm.base import LLM, CandidateScore, Prompt, SamplingParams
from memplay.llm.registry import BACKENDS, make_llm, register_backend

__all__ = [
    "BACKENDS",
    "LLM",
    "CandidateScore",
    "Prompt",
    "SamplingParams",
    "make_llm",
    "register_backend",
]
