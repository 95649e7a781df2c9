"""Reflexion: after a failed episode the LLM writes what went wrong; the task's newest
reflections are shown on its next try.

==============  ===================================================================
what            where
==============  ===================================================================
writes          :mod:`.learn`: :class:`Reflector` (a template when the answer is unusable)
stores          :mod:`.store` (``<memory>/reflexion/reflections.jsonl``)
shows           :class:`.learn.ReflexionReflection`: the ``<reflection>`` block
exports         :mod:`.files`: the reflections in memory archives
==============  ===================================================================

    >>> from memplay.agents.methods.reflexion import ReflectionStore
    >>> ReflectionStore().for_task("FrozenLake-4x4-v0", 0)
    []
"""

from __future__ import annotations

from memplay._lazy import lazy_exports
from memplay.agents.methods.reflexion import files as files  # registers the archive file
from memplay.agents.methods.reflexion.store import Reflection, ReflectionStore

_LAZY: dict[str, str] = {
    "Reflector": "memplay.agents.methods.reflexion.learn:Reflector",
    "ReflexionReflection": "memplay.agents.methods.reflexion.learn:ReflexionReflection",
    "build_reflexion": "memplay.agents.methods.reflexion.learn:build_reflexion",
}

__all__ = ["Reflection", "ReflectionStore", "Reflector", "ReflexionReflection", "build_reflexion"]

__getattr__, __dir__ = lazy_exports("memplay.agents.methods.reflexion", _LAZY, globals(), __all__)
