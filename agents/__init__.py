"""Agents: LangGraph graphs of small nodes, the episode runner and the ``Agent`` facade.

Names load lazily so ``import memplay.agents`` stays cheap::

    >>> from memplay.agents import AgentConfig
    >>> AgentConfig(variant="rag").variant
    'rag'
"""

from __future__ import annotations

from memplay._lazy import lazy_exports

# name -> "module:attribute"; resolved on first access (PEP 562).
_LAZY: dict[str, str] = {
    "Agent": "memplay.agents.agent:Agent",
    "AgentConfig": "memplay.agents.config:AgentConfig",
    "AgentContext": "memplay.agents.context:AgentContext",
    "AgentCritic": "memplay.agents.critique:AgentCritic",
    "AgentState": "memplay.agents.state:AgentState",
    "RunResult": "memplay.agents.runner:RunResult",
    "agent_state_graph": "memplay.agents.graph:agent_state_graph",
    "build_agent_graph": "memplay.agents.graph:build_agent_graph",
    "initial_state": "memplay.agents.state:initial_state",
    "new_slot": "memplay.agents.state:new_slot",
    "run_episodes": "memplay.agents.runner:run_episodes",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports("memplay.agents", _LAZY, globals(), __all__)
