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
    "AgentCritic": "memplay.agents.methods.critique.learn:AgentCritic",
    "PolicyConfig": "memplay.agents.policy:PolicyConfig",
    "Slot": "memplay.agents.state:Slot",
    "VariantSpec": "memplay.agents.variants:VariantSpec",
    "get_variant": "memplay.agents.variants:get_variant",
    "register_reflection": "memplay.agents.methods.registry:register_reflection",
    "register_variant": "memplay.agents.variants:register_variant",
    "AgentState": "memplay.agents.state:AgentState",
    "RunResult": "memplay.agents.runner:RunResult",
    "agent_state_graph": "memplay.agents.graph:agent_state_graph",
    "build_agent_graph": "memplay.agents.graph:build_agent_graph",
    "initial_state": "memplay.agents.state:initial_state",
    "run_episodes": "memplay.agents.runner:run_episodes",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports("memplay.agents", _LAZY, globals(), __all__)
