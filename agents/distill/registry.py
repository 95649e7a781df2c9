"""The registry of distillation recipes, by name (the recipes themselves load on first use).

    >>> "memory-greedy" in RECIPES, DEFAULT_RECIPES["dpo"]
    (True, 'pairs')
"""

from __future__ import annotations

from typing import Any

from memplay.registry import Registry

__all__ = ["DEFAULT_RECIPES", "RECIPES"]

RECIPES: Registry[Any] = Registry("distillation recipe")
for _name, _entry in {
    "successes": "memplay.agents.distill.run_recipes:SUCCESSES",
    "pairs": "memplay.agents.distill.run_recipes:PAIRS",
    "revisions": "memplay.agents.distill.run_recipes:REVISIONS",
    "memory-greedy": "memplay.agents.distill.memory_recipes:MEMORY_GREEDY",
    "memory-vs-model": "memplay.agents.distill.memory_recipes:MEMORY_VS_MODEL",
    "demos": "memplay.agents.distill.demo_recipe:DEMOS",
    "average-strategy": "memplay.agents.distill.strategy_recipe:AVERAGE_STRATEGY",
}.items():
    RECIPES.register(_name, _entry)

#: The recipe a method uses when none is named (what ``memplay train --method`` did before).
DEFAULT_RECIPES = {"sft": "successes", "dpo": "pairs"}
