"""One distillation round: a recipe's examples from a run, one trainer, one model version.

``memplay train RUN --recipe NAME`` and a run's ``train_every`` rounds both come here, so a
round trained by hand and one trained inside a run see the same data and prompts, and both
write the recipe and its play settings into the version's ``version.json``::

    >>> cfg = SFTConfig(max_steps=60)
    >>> version = distil_round("runs/lake", "memory-greedy", cfg)  # doctest: +SKIP
    >>> version.recipe, version.play["policy"]["temperature"]  # doctest: +SKIP
    ('memory-greedy', 0.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from memplay.agents.config import AgentConfig
from memplay.agents.distill.recipe import DistillSource, ModelPicker, Recipe, get_recipe
from memplay.errors import ConfigError
from memplay.llm.base import LLM, Prompt
from memplay.run_dir import RunDir
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.loop import train_round
from memplay.trainers.rounds import RoundRecord, append_round
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.version import ModelVersion, latest_version

__all__ = ["distil_round", "lazy_picker", "model_picker", "open_source", "run_config"]


def run_config(run_dir: str | Path) -> AgentConfig:
    """The agent settings a run directory played with (its ``config.yaml``), else defaults.

    >>> run_config("/no/such/run").env_id
    'FrozenLake-4x4-v0'
    """
    saved = RunDir(run_dir).config
    return AgentConfig.from_source(saved if saved.is_file() else None)


def model_picker(llm: LLM) -> ModelPicker:
    """The model's own greedy choice per prompt: the admissible action it scores highest.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> model_picker(ScriptedLLM(scores={"up": -0.1}))([["?"]], [["down", "up"]])
    ['up']
    """
    def pick(prompts: Sequence[Prompt], admissible: Sequence[Sequence[str]]) -> list[str]:
        rows = llm.score(list(prompts), [list(a) for a in admissible])
        return [max(row, key=lambda c: c.logprob_mean).text for row in rows]
    return pick


def lazy_picker(build: Callable[[], LLM]) -> ModelPicker:
    """A picker that builds its LLM on first use (only SPIN-style recipes ask for one)."""
    made: list[ModelPicker] = []

    def pick(prompts: Sequence[Prompt], admissible: Sequence[Sequence[str]]) -> list[str]:
        if not made:
            made.append(model_picker(build()))
        return made[0](prompts, admissible)
    return pick


def open_source(run_dir: str | Path, recipe: Recipe, config: AgentConfig, *,
                files: Sequence[str | Path] = (), model: ModelPicker | None = None,
                step_memory: Any = None, embedder: Any = None, dedupe: bool = True
                ) -> DistillSource:
    """The source a recipe reads in ``run_dir``, its prompt set to the recipe's play prompt.

    >>> src = open_source("/no/run", get_recipe("memory-greedy"), AgentConfig())
    >>> src.prompt.state, src.prompt.memory_text
    ('view', False)
    """
    return DistillSource(Path(run_dir), config, recipe.prompt_for(config.prompt),
                         [Path(f) for f in files], model, step_memory, embedder, dedupe)


def distil_round(run_dir: str | Path, recipe: str | Recipe,
                 trainer: SFTConfig | DPOConfig | None = None, *,
                 config: AgentConfig | None = None, files: Sequence[str | Path] = (),
                 base_model: str | Path | None = None, llm: LLM | None = None,
                 step_memory: Any = None, embedder: Any = None) -> ModelVersion:
    """Build ``recipe``'s examples from ``run_dir``, train ``<run_dir>/models/vN`` on them and
    add the round to ``models/rounds.jsonl`` (``after_epoch`` None: trained by hand).

    Args:
        recipe: A registered recipe's name, or a :class:`Recipe`.
        trainer: Its method's config (default SFTConfig() or DPOConfig()).
        config: The run's agent settings (default: its ``config.yaml``).
        files: The recipe's extra inputs (demo files, a strategy table, ...).
        base_model: Start weights (default: the run's latest version, else the config's
            model, else the embedded one).
        llm: A backend holding the start weights, for recipes that ask the model for its own
            picks (default: the start model is loaded when one asks).
        step_memory, embedder: A live step memory (a run in progress) instead of the saved one.
    """
    chosen = get_recipe(recipe) if isinstance(recipe, str) else recipe
    trainer = trainer if trainer is not None else (
        DPOConfig() if chosen.method == "dpo" else SFTConfig())
    if isinstance(trainer, DPOConfig) != (chosen.method == "dpo"):
        raise ConfigError(f"recipe {chosen.name!r} feeds {chosen.method} but the trainer "
                          f"config is a {type(trainer).__name__}; use the recipe's method")
    config = config if config is not None else run_config(run_dir)
    start = base_model or latest_version(run_dir) or config.model
    picker = model_picker(llm) if llm is not None else lazy_picker(
        lambda: _load(start, config))
    source = open_source(run_dir, chosen, config, files=files, model=picker,
                         step_memory=step_memory, embedder=embedder,
                         dedupe=trainer.dedupe if isinstance(trainer, SFTConfig) else True)
    started = time.perf_counter()
    data = chosen.examples(source)
    version = train_round(run_dir, None, trainer, base_model=start, data=data,
                          record={"recipe": chosen.name, "play": chosen.play})
    append_round(run_dir, RoundRecord(
        after_epoch=None, status="trained", version=version.version, recipe=chosen.name,
        examples=len(data), losses=list(version.losses),
        first_loss=version.losses[0] if version.losses else None,
        final_loss=version.losses[-1] if version.losses else None,
        seconds=time.perf_counter() - started))
    return version


def _load(model: str | Path | None, config: AgentConfig) -> LLM:
    from memplay.agents.components import make_llm

    return make_llm(config.model_copy(update={"model": None if model is None else str(model)}))
