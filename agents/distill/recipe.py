"""Distillation recipes: named data sources that turn what memory learned into training data.

A :class:`Recipe` says which trainer it feeds (``sft``: chat records; ``dpo``: preference
pairs), how it builds its examples from a :class:`DistillSource` (a run directory, its agent
settings, its memory, extra files, and the model being trained), and how a model trained on
them should play (:data:`ACTION_PLAY`: the portable view in the prompt, no memory text,
calibration off, greedy). Recipes live in the :data:`RECIPES` registry; ``memplay train RUN
--recipe NAME`` and a run's ``train.recipe`` (``train_every``) look them up by name, and
every round records the recipe it used.

    >>> sorted(RECIPES)[:3]
    ['average-strategy', 'demos', 'memory-greedy']
    >>> get_recipe("memory-greedy").method
    'sft'
    >>> get_recipe("memory-greedy").play["policy"]
    {'calibrate': False, 'temperature': 0.0}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from memplay.agents.config import AgentConfig, PromptConfig
from memplay.agents.distill.registry import DEFAULT_RECIPES, RECIPES
from memplay.errors import ConfigError, TrainerError
from memplay.llm.base import Prompt
from memplay.run_dir import RunDir
from memplay.trainers.data import PromptFn, load_trajectories
from memplay.types import Trajectory

__all__ = ["ACTION_PLAY", "RECIPES", "STRATEGY_PLAY", "DistillSource", "ModelPicker",
           "PlaySettings", "Recipe", "get_recipe", "recipe_for", "register_recipe"]

#: ``{"prompt": {PromptConfig fields}, "policy": {PolicyConfig fields}}``: how to play a model.
PlaySettings = dict[str, dict[str, Any]]

#: ``picker(prompts, admissible)`` -> the model's own greedy action for each prompt.
ModelPicker = Callable[[Sequence[Prompt], Sequence[Sequence[str]]], list[str]]

# A model trained to pick actions reads the map-independent view (so it can act on maps it
# never saw), sees no memory text (its training prompts had none), keeps its own preferences
# (calibration would subtract exactly the learned preference) and plays its best action
# (sampling at 0.5 over small log-prob gaps would undo the rest; docs/distillation.md).
ACTION_PLAY: PlaySettings = {
    "prompt": {"state": "view", "memory_text": False, "recent_steps": 0},
    "policy": {"calibrate": False, "temperature": 0.0},
}
# A model trained on a mixed strategy plays it: it samples from its own probabilities.
STRATEGY_PLAY: PlaySettings = {
    "prompt": {"state": "view", "memory_text": False, "recent_steps": 0},
    "policy": {"calibrate": False, "temperature": 1.0, "llm_weight": 1.0},
}


@dataclass
class DistillSource:
    """What a recipe reads. ``files`` are the recipe's extra inputs (its docstring says
    which: demo files, revision files, a strategy table...); ``model`` is the model being
    trained (SPIN-style recipes compare memory with its own picks); ``step_memory`` is a live
    step memory (a run in progress), else it is loaded from ``memory_dir``.

    >>> source = DistillSource(Path("/no/run"), AgentConfig())
    >>> source.memory_dir, source.trajectories
    (PosixPath('/no/run/memory'), [])
    """

    run_dir: Path
    config: AgentConfig
    prompt: PromptConfig = field(default_factory=PromptConfig)
    files: list[Path] = field(default_factory=list)
    model: ModelPicker | None = None
    step_memory: Any = None
    embedder: Any = None
    dedupe: bool = True

    @property
    def memory_dir(self) -> Path:
        """The run's memory: ``config.memory_dir``, else ``<run_dir>/memory``."""
        if self.config.memory_dir:
            return Path(self.config.memory_dir)
        return RunDir(self.run_dir).memory

    @cached_property
    def trajectories(self) -> list[Trajectory]:
        """The run's episodes (empty when it has played none)."""
        if not RunDir(self.run_dir).trajectories.is_file():
            return []
        return load_trajectories(self.run_dir)

    @property
    def prompt_fn(self) -> PromptFn:
        """Step i of a trajectory as the agent's prompt, with this source's prompt settings."""
        from memplay.agents.prompts import agent_prompt_fn

        return agent_prompt_fn(self.prompt)

    def memory(self) -> Any:
        """The step memory recipes read (the live one, else the one saved in memory_dir)."""
        if self.step_memory is None:
            from memplay.agents.components import load_step_memory, make_embedder

            if not (self.memory_dir / "steps").is_dir():
                raise TrainerError(f"{self.memory_dir} holds no step memory; play (memplay run "
                                   "RUN) or learn demos (memplay learn) into it first")
            embedder = self.embedder or make_embedder(self.config)
            self.step_memory = load_step_memory(self.config, embedder, self.memory_dir)
        return self.step_memory


@dataclass(frozen=True)
class Recipe:
    """A named data source for one trainer; ``build(source)`` returns its examples.

    >>> Recipe("x", "ppo", "?", list)
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: recipe 'x': method='ppo' must be 'sft' or 'dpo'
    """

    name: str
    method: Literal["sft", "dpo"]
    summary: str
    build: Callable[[DistillSource], list[Any]]
    play: PlaySettings = field(default_factory=lambda: ACTION_PLAY)

    def __post_init__(self) -> None:
        if self.method not in ("sft", "dpo"):
            raise ConfigError(f"recipe {self.name!r}: method={self.method!r} must be 'sft' or "
                              "'dpo'")

    def prompt_for(self, base: PromptConfig) -> PromptConfig:
        """The prompt settings examples are built with: ``base`` plus this recipe's play.

        >>> get_recipe("memory-greedy").prompt_for(PromptConfig()).state
        'view'
        """
        return PromptConfig.model_validate({**base.model_dump(), **self.play.get("prompt", {})})

    def examples(self, source: DistillSource) -> list[Any]:
        """The recipe's examples; TrainerError (saying what to do) when there are none."""
        made = self.build(source)
        if not made:
            runs = source.trajectories
            raise TrainerError(
                f"recipe {self.name!r} found no examples in {source.run_dir} ({len(runs)} "
                f"episodes, {sum(t.success for t in runs)} successes); it takes "
                f"{self.summary}")
        return made


def register_recipe(recipe: Recipe | str, name: str | None = None) -> None:
    """Add a recipe (an object, or ``"module:attribute"`` with ``name``) to the registry.

    >>> register_recipe(Recipe("none-at-all", "sft", "nothing", lambda source: []))
    >>> get_recipe("none-at-all").summary
    'nothing'
    """
    if isinstance(recipe, Recipe):
        RECIPES.register(name or recipe.name, recipe)
    elif name is None:
        raise ConfigError("register_recipe('module:attribute') needs name=")
    else:
        RECIPES.register(name, recipe)


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name`` (ConfigError with close names when unknown).

    >>> get_recipe("memory-gredy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: unknown distillation recipe 'memory-gredy'; did you mean ...
    """
    recipe: Recipe = RECIPES.get(name)
    return recipe


def recipe_for(recipe: str | None, method: str | None) -> Recipe:
    """The recipe a round uses: the named one (its method must match ``method`` when both
    are given), else the method's default (successes for sft, pairs for dpo).

    >>> recipe_for(None, "dpo").name, recipe_for("memory-vs-model", None).method
    ('pairs', 'dpo')
    >>> recipe_for("memory-greedy", "dpo")
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: recipe 'memory-greedy' feeds sft, not method 'dpo'; drop ...
    """
    if recipe is None:
        return get_recipe(DEFAULT_RECIPES.get(method or "sft", "successes"))
    chosen = get_recipe(recipe)
    if method is not None and chosen.method != method:
        raise ConfigError(f"recipe {recipe!r} feeds {chosen.method}, not method {method!r}; "
                          "drop the method (the recipe decides it) or pick a recipe of that "
                          "method")
    return chosen
