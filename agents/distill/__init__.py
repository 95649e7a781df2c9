"""Memory distilled into the weights: recipes, rounds, play settings and learner scores.

Memory is the expert and the weights are the apprentice (expert iteration, SPIN, Agent-R):
what memory learned (its greedy action in the states it knows, demos, critique revisions, a
self-play average strategy) becomes SFT or DPO data through a named *recipe*
(:mod:`~memplay.agents.distill.recipe`), one round trains a model version on it
(:func:`~memplay.agents.distill.round.distil_round`, also what ``train_every`` runs), the
version records how it should be played (:mod:`~memplay.agents.distill.play`), and
:mod:`~memplay.agents.distill.evaluate` scores each version with memory off and on, next to
the base model, on held-out tasks. docs/distillation.md has the measured numbers.

    >>> from memplay.agents.distill import RECIPES
    >>> "memory-greedy" in RECIPES
    True
"""

from __future__ import annotations

from memplay._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "ACTION_PLAY": "memplay.agents.distill.recipe:ACTION_PLAY",
    "STRATEGY_PLAY": "memplay.agents.distill.recipe:STRATEGY_PLAY",
    "RECIPES": "memplay.agents.distill.recipe:RECIPES",
    "DistillSource": "memplay.agents.distill.recipe:DistillSource",
    "Recipe": "memplay.agents.distill.recipe:Recipe",
    "get_recipe": "memplay.agents.distill.recipe:get_recipe",
    "register_recipe": "memplay.agents.distill.recipe:register_recipe",
    "distil_round": "memplay.agents.distill.round:distil_round",
    "config_for_model": "memplay.agents.distill.play:config_for_model",
    "play_overrides": "memplay.agents.distill.play:play_overrides",
    "score_learners": "memplay.agents.distill.evaluate:score_learners",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports("memplay.agents.distill", _LAZY, globals(), __all__)
