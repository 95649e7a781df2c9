"""Reflection methods: memory the agent writes about itself, one folder per method.

Every reflection has the same small shape (:class:`~memplay.agents.context.Reflection`): it
*learns* from a batch's finished episodes and gives *prompt text* for a task. The variant
registry (:mod:`.registry`) names which ones a variant uses; :func:`make_reflection` builds
them. Each method's folder holds what it writes (``learn.py``), stores (``store.py``), shows in
prompts and exports (``files.py`` for memory archives; the critique's ``export.py`` for
training); the folder's docstring maps them.

==========  ==========================================================================
name        what it writes (files under the memory directory)
==========  ==========================================================================
playbook    CEL: rules + strategy documents per game family, rewritten by the LLM
            (``playbooks/``; :mod:`.playbook`)
critique    Agent-R: MCTS critique trees for failed tasks, revision trajectories; the
            winning paths teach step memory (``critiques/``; :mod:`.critique`)
reflexion   Reflexion: a verbal reflection on each failed task, shown on its next try
            (``reflexion/``; :mod:`.reflexion`)
expel       ExpeL: insights added, voted up/down and edited by the LLM, shown to every
            task (``insights/``; :mod:`.expel`)
==========  ==========================================================================

Add your own with :func:`register_reflection` (a factory ``(ReflectionSetup) -> Reflection``)
and a :class:`~memplay.agents.variants.VariantSpec` that names it. Shared by the methods:
:mod:`.transcript` (episodes as prompt text), :mod:`.validation` (rejecting unusable LLM
answers) and :mod:`.budget` (document size limits).

    >>> sorted(REFLECTIONS)
    ['critique', 'expel', 'playbook', 'reflexion']
"""

from __future__ import annotations

from memplay.agents.methods.registry import (
    REFLECTIONS,
    ReflectionFactory,
    ReflectionSetup,
    make_reflection,
    register_reflection,
)

__all__ = ["REFLECTIONS", "ReflectionFactory", "ReflectionSetup", "make_reflection",
           "register_reflection"]
