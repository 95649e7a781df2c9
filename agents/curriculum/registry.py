"""The curriculum registry: task samplers by name (``memplay run --curriculum NAME``).

Entries are factories ``(CurriculumSetup) -> TaskSampler`` (a sampler class is one), given
as ``"module:attribute"`` strings so naming a sampler imports nothing else.

    >>> "sec" in CURRICULA, curriculum_names()[:2]
    (True, ['proposer', 'replay'])
"""

from __future__ import annotations

from typing import Any

from memplay.registry import Registry

__all__ = ["CURRICULA", "curriculum_names", "register_curriculum"]

CURRICULA: Registry[Any] = Registry("curriculum")

_PKG = "memplay.agents.curriculum"
for _name, _target in (("uniform", f"{_PKG}.base:UniformSampler"),
                       ("sec", f"{_PKG}.sec:SECSampler"),
                       ("replay", f"{_PKG}.replay:ReplaySampler"),
                       ("proposer", f"{_PKG}.proposer:ProposerSampler")):
    CURRICULA.register(_name, _target)


def register_curriculum(name: str, factory: Any, *, replace: bool = True) -> None:
    """Add a sampler factory ``(CurriculumSetup) -> TaskSampler`` (or its "module:attr").

    >>> register_curriculum("my-uniform", "memplay.agents.curriculum.base:UniformSampler")
    >>> CURRICULA.unregister("my-uniform")
    """
    CURRICULA.register(name, factory, replace=replace)


def curriculum_names() -> list[str]:
    """Registered sampler names, sorted.

    >>> "uniform" in curriculum_names()
    True
    """
    return list(CURRICULA)
