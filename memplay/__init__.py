"""memplay: LLM agents that improve at run time through learned episodic memory.

The heavy parts (torch, transformers, FAISS) load lazily, so ``import memplay`` is fast and
``memplay --help`` answers at once. Public names are re-exported here::

    >>> import memplay
    >>> memplay.__version__
    '0.1.0'
"""

from __future__ import annotations

from memplay._lazy import lazy_exports
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
    "SamplingParams": "memplay.llm.base:SamplingParams",
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

__getattr__, __dir__ = lazy_exports("memplay", _LAZY, globals(), __all__)
