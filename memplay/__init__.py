"""memplay: LLM agents that improve at run time through learned episodic memory.

The heavy parts (torch, transformers, FAISS) load lazily, so ``import memplay`` is fast and
``memplay --help`` answers at once. Public names are re-exported here::

    >>> import memplay
    >>> memplay.__version__
    '0.1.0'
"""

from __future__ import annotations

import importlib
from typing import Any

from memplay._version import __version__
from memplay.errors import (
    ConfigError,
    EnvironmentNotFound,
    LLMError,
    MemoryStoreError,
    MemplayError,
)

# name -> "module:attribute"; resolved on first access (PEP 562) to keep import light.
_LAZY: dict[str, str] = {
    "Agent": "memplay.agents.agent:Agent",
    "build_agent_graph": "memplay.agents.graph:build_agent_graph",
    "make": "memplay.environments.registry:make",
    "register": "memplay.environments.registry:register",
    "check_env": "memplay.environments.checker:check_env",
    "SamplingParams": "memplay.agents.llm.base:SamplingParams",
    "Step": "memplay.types:Step",
    "Trajectory": "memplay.types:Trajectory",
    "EpisodeResult": "memplay.types:EpisodeResult",
}

__all__ = [
    "__version__",
    "ConfigError",
    "EnvironmentNotFound",
    "LLMError",
    "MemoryStoreError",
    "MemplayError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'memplay' has no attribute {name!r}")
    module_name, attr = target.split(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
