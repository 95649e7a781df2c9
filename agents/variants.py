"""The variant registry: what each agent variant remembers, in one place.

A variant is a :class:`VariantSpec`: which task-level memory it retrieves (none, plain
similarity RAG, or MemRL's similarity-then-Q ranking), whether it keeps step-level memory
(state -> action values, the prior a small model needs), whether it plays from a strategy
memory (regret matching per information state, :mod:`memplay.agents.mccfr`), and which
reflections it writes (names in :mod:`memplay.agents.methods`'s registry). Everything
else follows from the spec: the graph's pipelines (:meth:`VariantSpec.pipelines`) and the
parts the agent builds.
Nothing else in memplay branches on a variant's name.

Names join with ``+``: ``"memrl+playbook"`` is MemRL memory plus CEL playbooks, and any
registered parts combine the same way (``"rag+reflexion"``). Register your own::

    >>> register_variant(VariantSpec("steps-only", "step memory alone", step_memory=True))
    >>> get_variant("steps-only+critique").reflections
    ('critique',)
    >>> VARIANTS.unregister("steps-only")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memplay.errors import ConfigError
from memplay.registry import Registry

__all__ = ["VARIANTS", "VariantSpec", "get_variant", "register_variant", "variant_names"]

TaskMemoryKind = Literal["none", "similarity", "memrl"]
_TASK_ORDER: tuple[TaskMemoryKind, ...] = ("none", "similarity", "memrl")


@dataclass(frozen=True)
class VariantSpec:
    """What a variant uses.

    Attributes:
        name: The ``--variant`` name.
        description: One line for ``--help`` and the README.
        task_memory: ``"none"``; ``"similarity"`` (past episodes ranked by similarity,
            plain RAG); or ``"memrl"`` (ranked by similarity and learned Q).
        step_memory: Keep step-level memory: a Q-value and visit count per (state, action),
            added to the LLM's action scores, with a novelty bonus for untried actions.
        strategy_memory: Play from a strategy memory (cumulative regrets and the average
            strategy per information state, learned from sampled games; the LLM a fading
            prior): the ``regret_act`` node decides and ``update_strategy`` learns.
        reflections: Names of reflections the agent writes and quotes in prompts.

    >>> spec = VariantSpec("x", "demo", task_memory="memrl", step_memory=True)
    >>> spec.pipelines()
    (['observe', 'retrieve', 'build_prompt', 'act', 'env_step'], ['finish', 'update_memory'])
    """

    name: str
    description: str
    task_memory: TaskMemoryKind = "none"
    step_memory: bool = False
    reflections: tuple[str, ...] = ()
    strategy_memory: bool = False

    def __post_init__(self) -> None:
        if self.task_memory not in _TASK_ORDER:
            raise ConfigError(f"task_memory={self.task_memory!r} must be one of "
                              f"{', '.join(_TASK_ORDER)}")

    @property
    def uses_memory(self) -> bool:
        """True when episodes read or write task or step memory."""
        return self.task_memory != "none" or self.step_memory

    def pipelines(self) -> tuple[list[str], list[str]]:
        """The (step, end) node names of this variant's graph.

        >>> get_variant("none").pipelines()
        (['observe', 'build_prompt', 'act', 'env_step'], ['finish'])
        >>> get_variant("mccfr").pipelines()
        (['observe', 'regret_act', 'env_step'], ['finish', 'update_strategy'])
        """
        recalls = self.uses_memory or bool(self.reflections)
        # regret_act writes the prompts it needs itself (settled states need none)
        decide = ["regret_act"] if self.strategy_memory else ["build_prompt", "act"]
        step = ["observe", *(["retrieve"] if recalls else []), *decide, "env_step"]
        # reflect runs last: critique rollouts use step memory, which then knows this batch.
        end = ["finish", *(["update_memory"] if self.uses_memory else []),
               *(["update_strategy"] if self.strategy_memory else []),
               *(["reflect"] if self.reflections else [])]
        return step, end


VARIANTS: Registry[VariantSpec] = Registry("variant")


def register_variant(spec: VariantSpec, *, replace: bool = True) -> None:
    """Add ``spec`` under ``spec.name`` (a name with '+' would shadow a combination).

    >>> register_variant(VariantSpec("a+b", "x"))
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: variant name 'a+b' may not contain '+': ...
    """
    if "+" in spec.name:
        raise ConfigError(f"variant name {spec.name!r} may not contain '+': '+' joins "
                          "registered variants")
    VARIANTS.register(spec.name, spec, replace=replace)


def get_variant(name: str) -> VariantSpec:
    """The spec of a registered variant, or of a ``+`` combination of registered ones.

    >>> get_variant("memrl+playbook").reflections, get_variant("memrl+playbook").task_memory
    (('playbook',), 'memrl')
    >>> get_variant("memrl+plabook")
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: variant='memrl+plabook': unknown variant 'plabook'; did you mean ...
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"variant={name!r} must be a non-empty string such as 'memrl'")
    parts = []
    for part in name.split("+"):
        if part not in VARIANTS:
            raise ConfigError(f"variant={name!r}: {VARIANTS.unknown(part)}")
        parts.append(VARIANTS.get(part))
    return parts[0] if len(parts) == 1 else _combine(name, parts)


def _combine(name: str, parts: list[VariantSpec]) -> VariantSpec:
    """The union of the parts: the strongest task memory, step memory if any part keeps it,
    every reflection in the order named."""
    return VariantSpec(
        name=name,
        description=" + ".join(p.description for p in parts),
        task_memory=max((p.task_memory for p in parts), key=_TASK_ORDER.index),
        step_memory=any(p.step_memory for p in parts),
        reflections=tuple(dict.fromkeys(r for p in parts for r in p.reflections)),
        strategy_memory=any(p.strategy_memory for p in parts))


def variant_names() -> list[str]:
    """Registered variant names (each can also be joined with '+').

    >>> "memrl" in variant_names()
    True
    """
    return list(VARIANTS)


for _spec in (
    VariantSpec("none", "nothing: the LLM alone"),
    VariantSpec("rag", "past episodes retrieved by similarity", task_memory="similarity"),
    VariantSpec("memrl", "MemRL: past episodes ranked by similarity and learned Q, plus "
                "step memory (state -> action values) as a prior on the LLM's scores",
                task_memory="memrl", step_memory=True),
    VariantSpec("playbook", "CEL: the LLM rewrites a rules and a playbook document",
                reflections=("playbook",)),
    VariantSpec("critique", "Agent-R: MCTS critique trees for failed tasks; their winning "
                "paths teach step memory and the lesson is quoted", reflections=("critique",)),
    VariantSpec("reflexion", "Reflexion: a verbal reflection on each failed task, shown on the "
                "next try of that task", reflections=("reflexion",)),
    VariantSpec("expel", "ExpeL: insights voted up and down by the LLM, shown to every task, "
                "plus similar past episodes", task_memory="similarity",
                reflections=("expel",)),
    VariantSpec("mccfr", "outcome-sampling Monte Carlo CFR: regrets and the average strategy "
                "per information state, learned from sampled (self-play) games, the LLM a "
                "fading prior", strategy_memory=True),
):
    register_variant(_spec)
