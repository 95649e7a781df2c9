"""The method registry: which factory builds each reflection method a variant names.

:class:`ReflectionSetup` is what a factory gets; :func:`make_reflection` builds one by name.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> setup = ReflectionSetup(None, AgentConfig(variant="reflexion"), ScriptedLLM())
    >>> make_reflection("reflexion", setup).tag
    'reflection'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from memplay.agents.config import AgentConfig
from memplay.agents.context import Env, Reflection, StateKey, default_state_key
from memplay.errors import ConfigError
from memplay.llm.base import LLM
from memplay.registry import Registry

__all__ = ["REFLECTIONS", "ReflectionSetup", "make_reflection", "register_reflection"]


@dataclass(frozen=True)
class ReflectionSetup:
    """What a reflection factory gets.

    Attributes:
        directory: The memory directory (each reflection uses its own subfolder); None keeps
            everything in memory.
        config: The run's AgentConfig (``reflection`` settings, ``env_id``, ``frozen``...).
        llm: The agent's backend.
        env_factory: Builds a fresh environment (critique search); None when not needed.
        state_key: How step memory names a state (must match the agent's).
    """

    directory: Path | None
    config: AgentConfig
    llm: LLM
    env_factory: Callable[[], Env] | None = None
    state_key: StateKey = default_state_key

    def folder(self, name: str) -> Path | None:
        """``<directory>/<name>``, or None when the setup keeps nothing on disk.

        >>> from memplay.llm.fake import ScriptedLLM
        >>> ReflectionSetup(Path("m"), AgentConfig(), ScriptedLLM()).folder("playbooks")
        PosixPath('m/playbooks')
        """
        return None if self.directory is None else self.directory / name


ReflectionFactory = Callable[[ReflectionSetup], Reflection]

REFLECTIONS: Registry[ReflectionFactory] = Registry("reflection")
REFLECTIONS.register("playbook", "memplay.agents.methods.playbook.learn:build_playbook")
REFLECTIONS.register("critique", "memplay.agents.methods.critique.learn:build_critique")
REFLECTIONS.register("reflexion", "memplay.agents.methods.reflexion.learn:build_reflexion")
REFLECTIONS.register("expel", "memplay.agents.methods.expel.learn:build_expel")


def register_reflection(name: str, factory: str | ReflectionFactory) -> None:
    """Add a reflection kind: ``"module:factory"`` (imported lazily) or the factory itself.

    >>> register_reflection("silent", lambda setup: None)
    >>> "silent" in REFLECTIONS
    True
    >>> REFLECTIONS.unregister("silent")
    """
    REFLECTIONS.register(name, factory)


def make_reflection(name: str, setup: ReflectionSetup) -> Reflection:
    """Build the reflection registered under ``name``.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> make_reflection("playbok", ReflectionSetup(None, AgentConfig(), ScriptedLLM()))
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: unknown reflection 'playbok'; did you mean 'playbook'? ...
    """
    reflection = REFLECTIONS.get(name)(setup)
    if not isinstance(reflection, Reflection):
        raise ConfigError(f"reflection factory {name!r} returned {reflection!r}, which has no "
                          "'tag'; return an object with tag, learn() and prompt_text()")
    return reflection
