"""Curricula: task samplers that decide what the agent practises next.

A run is ``epochs x len(config.tasks)`` episodes; the sampler named by
``config.curriculum`` (``memplay run --curriculum NAME``) picks every batch's tasks and
learns from how they went. Registered samplers:

==========  ===========================================================================
name        what decides the next tasks
==========  ===========================================================================
uniform     today's fixed schedule: ``config.tasks`` in order, every epoch (default)
sec         SEC: a bandit over task categories rewarded by absolute learning progress
            (:mod:`.sec`)
replay      ExIt: a share of each batch restarts from states of failed episodes, replayed
            from the seed (:mod:`.replay`)
proposer    a proposer sets generator knobs (task-space arms), a solver plays, a judge
            rewards tasks of intermediate success: a LangGraph graph (:mod:`.proposer`)
==========  ===========================================================================

Categories are the arms of a task space (``TaskSpace-v0``: generated FrozenLake and
Sokoban settings, see :mod:`memplay.environments.task_space`) or the ``categories`` option
(name -> seeds). Add your own sampler with :func:`register_curriculum` (a subclass of
:class:`TaskSampler`). Resume rebuilds a sampler from ``<run>/curriculum.jsonl``
(:mod:`.log`).

    >>> from memplay.agents.curriculum import curriculum_names
    >>> curriculum_names()
    ['proposer', 'replay', 'sec', 'uniform']
"""

from __future__ import annotations

from memplay._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "CURRICULA": "memplay.agents.curriculum.registry:CURRICULA",
    "Curriculum": "memplay.agents.curriculum.log:Curriculum",
    "CurriculumSetup": "memplay.agents.curriculum.base:CurriculumSetup",
    "Outcome": "memplay.agents.curriculum.base:Outcome",
    "Task": "memplay.agents.curriculum.base:Task",
    "TaskSampler": "memplay.agents.curriculum.base:TaskSampler",
    "TaskSpace": "memplay.agents.curriculum.base:TaskSpace",
    "curriculum_names": "memplay.agents.curriculum.registry:curriculum_names",
    "register_curriculum": "memplay.agents.curriculum.registry:register_curriculum",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports("memplay.agents.curriculum", _LAZY, globals(), __all__)
