"""Fine-tuning inside a run: every ``train_every`` epochs, train on the run's own data.

The runner calls :meth:`EpochTrainer.on_epoch_end` after each finished epoch. After every
K-th epoch (never after the last one: nothing would play with the new weights) it builds
the examples of the round's distillation recipe (``train.recipe``, see
:mod:`memplay.agents.distill`: successful steps, memory's greedy actions, preference
pairs...), trains one round with ``AgentConfig.train``, saves ``<run>/models/vN`` (with the
recipe and its play settings), reloads the backend and lets the run go on with the same
memory. Every round, trained or skipped (too few examples), is one row of
``<run>/models/rounds.jsonl`` with its recipe, example count and loss curve; each version's
``version.json`` gets the success rate of every epoch played with it.

    >>> from memplay.agents.config import AgentConfig
    >>> due_after(AgentConfig(train_every=2, epochs=5), 1), due_after(AgentConfig(epochs=5), 1)
    (True, False)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from memplay.agents.config import AgentConfig
from memplay.agents.distill.recipe import recipe_for
from memplay.agents.distill.round import model_picker, open_source
from memplay.agents.prompts import agent_prompt_fn
from memplay.agents.run_files import RunFiles
from memplay.errors import ConfigError, TrainerError
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.loop import Reloadable, train_round
from memplay.trainers.rounds import RoundRecord, append_round, read_rounds
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.version import (
    ModelVersion,
    latest_version,
    list_versions,
    read_version,
    record_epoch_success,
)

__all__ = ["EpochTrainer", "agent_prompt_fn", "check_trainable", "due_after",
           "loop_train_config"]

log = logging.getLogger("memplay.trainers")


def due_after(config: AgentConfig, epoch: int) -> bool:
    """True when a round is scheduled after 0-based ``epoch``: every ``train_every``-th
    epoch, except the run's last one.

    >>> [e for e in range(6) if due_after(AgentConfig(train_every=2, epochs=6), e)]
    [1, 3]
    """
    k = config.train_every
    return k > 0 and (epoch + 1) % k == 0 and epoch + 1 < config.epochs


def check_trainable(config: AgentConfig, llm: Any) -> None:
    """Raise ConfigError at the start of a run whose ``train_every`` cannot work.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> check_trainable(AgentConfig(train_every=2, llm="scripted"), ScriptedLLM())
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: train_every=2 needs an LLM backend that can reload ...
    """
    if config.train_every == 0:
        return
    if not isinstance(llm, Reloadable):
        raise ConfigError(
            f"train_every={config.train_every} needs an LLM backend that can reload new "
            f"weights, and llm={config.llm!r} ({type(llm).__name__}) cannot; use "
            "llm='transformers' (the embedded model or a local model folder), or set "
            "train_every=0 (--train-every 0) to learn with memory only")
    model = config.model
    if model is not None and not (Path(model) / "config.json").is_file():
        raise ConfigError(
            f"train_every={config.train_every} trains the weights of model={model!r}, which "
            "is not a local transformers folder (no config.json); convert it with "
            "save_pretrained and pass that folder, or set train_every=0")


def loop_train_config(config: AgentConfig) -> SFTConfig | DPOConfig:
    """The trainer config of a run's rounds, from ``config.train``.

    ``epochs`` is set to ``max_steps`` so ``max_steps`` alone bounds a round (a small data
    set would otherwise end the round after one short pass).

    >>> cfg = loop_train_config(AgentConfig(train={"max_steps": 3, "lora": False}))
    >>> type(cfg).__name__, cfg.max_steps, cfg.use_lora
    ('SFTConfig', 3, False)
    """
    t = config.train
    cls = DPOConfig if recipe_for(t.recipe, t.method).method == "dpo" else SFTConfig
    threads = config.llm_kwargs.get("num_threads")
    return cls(max_steps=t.max_steps, epochs=t.max_steps, learning_rate=t.learning_rate,
               use_lora=t.lora, seed=config.seed, system_prompt=config.prompt.system,
               num_threads=int(threads) if threads is not None else None)


class EpochTrainer:
    """Runs the rounds of one run; see the module docstring.

    Args:
        run_dir: The run directory (data comes from its ``trajectories.jsonl``).
        llm: The playing backend; must have ``reload(path)``.
        config: The run's AgentConfig (``train_every``, ``epochs``, ``train``, ``model``).
        on_reload: Called with the version folder after new weights are loaded (the agent
            resets its per-action score calibration there, and takes the version's play
            settings).
        data_files: Extra inputs of every round's recipe (``train.data_files`` too); files
            that do not exist yet are skipped.
        memory_dir: The run's memory (recipes read memory's values there).

    >>> trainer = EpochTrainer("runs/x", llm, AgentConfig(train_every=2))  # doctest: +SKIP
    >>> trainer.on_epoch_end(1)  # doctest: +SKIP
    RoundRecord(after_epoch=1, status='trained', version=1, recipe='successes', ...)
    """

    def __init__(self, run_dir: str | Path, llm: Any, config: AgentConfig, *,
                 on_reload: Callable[[Path], None] | None = None,
                 data_files: Sequence[str | Path] = (),
                 memory_dir: str | Path | None = None) -> None:
        check_trainable(config, llm)
        self.run_dir, self.llm, self.config = Path(run_dir), llm, config
        self.on_reload = on_reload
        self.data_files = [*config.train.data_files, *data_files]
        self.recipe = recipe_for(config.train.recipe, config.train.method)
        self.train_config = loop_train_config(config)
        self.memory_dir = Path(memory_dir) if memory_dir is not None else None
        self.step_memory: Any = None  # the live step memory, once the run opened it

    def resume(self) -> Path | None:
        """Load the run's latest model version, if any (a resumed run plays with it)."""
        latest = latest_version(self.run_dir)
        if latest is not None:
            log.info("resuming with the run's latest weights, %s", latest)
            self._reload(latest)
        return latest

    def on_epoch_end(self, epoch: int) -> RoundRecord | None:
        """Record ``epoch``'s success on the version that played it; train when a round is
        due after it and not done yet (so a resumed run never trains a round twice)."""
        self._record_success(epoch)
        if not due_after(self.config, epoch) or self._done(epoch):
            return None
        return self._round(epoch)

    def _done(self, epoch: int) -> bool:
        if any(r.after_epoch == epoch for r in read_rounds(self.run_dir)):
            return True
        return any(read_version(p).after_epoch == epoch for p in list_versions(self.run_dir))

    def _round(self, epoch: int) -> RoundRecord:
        start = time.perf_counter()
        try:
            data = self.recipe.examples(self._source())
        except TrainerError as exc:  # no successes (or pairs) yet: play on with these weights
            return self._skip(epoch, str(exc), 0, start)
        need = self.config.train.min_examples
        if len(data) < need:
            return self._skip(epoch, f"{len(data)} examples, fewer than train.min_examples="
                              f"{need}", len(data), start)
        version = self._train(epoch, data)
        record = RoundRecord(
            after_epoch=epoch, status="trained", version=version.version,
            recipe=self.recipe.name, examples=len(data), losses=list(version.losses),
            first_loss=version.losses[0] if version.losses else None,
            final_loss=version.losses[-1] if version.losses else None,
            seconds=time.perf_counter() - start)
        self._append(record)
        log.info("training round after epoch %d (%s): models/v%s, loss %s -> %s", epoch + 1,
                 self.recipe.name, version.version, record.first_loss, record.final_loss)
        self._reload(Path(version.path))
        return record

    def _source(self) -> Any:
        """What the recipe reads: this run, its live memory, the model now playing."""
        config = self.config
        if self.memory_dir is not None:
            config = config.model_copy(update={"memory_dir": str(self.memory_dir)})
        files = [f for f in self.data_files if Path(f).is_file()]
        dedupe = not isinstance(self.train_config, SFTConfig) or self.train_config.dedupe
        return open_source(self.run_dir, self.recipe, config, files=files,
                           model=model_picker(self.llm), step_memory=self.step_memory,
                           dedupe=dedupe)

    def _train(self, epoch: int, data: list[Any]) -> ModelVersion:
        # rounds compound: start from the run's latest version, else the configured model
        start = latest_version(self.run_dir) or self.config.model
        version = train_round(self.run_dir, None, self.train_config, base_model=start,
                              data=data, record={"recipe": self.recipe.name,
                                                 "play": self.recipe.play})
        trajectories = _episode_counts(self.run_dir)
        version = version.model_copy(update={"after_epoch": epoch, "episodes": trajectories})
        version.save()
        return version

    def _skip(self, epoch: int, reason: str, examples: int, start: float) -> RoundRecord:
        record = RoundRecord(after_epoch=epoch, status="skipped", examples=examples,
                             reason=reason, seconds=time.perf_counter() - start)
        self._append(record)
        log.warning("training round after epoch %d skipped: %s", epoch + 1, reason)
        return record

    def _append(self, record: RoundRecord) -> None:
        append_round(self.run_dir, record)

    def _reload(self, path: Path) -> None:
        self.llm.reload(path)
        if self.on_reload is not None:
            self.on_reload(path)

    def _record_success(self, epoch: int) -> None:
        """Store the epoch's success rate on the version that played it (none: base model)."""
        played = [p for p in list_versions(self.run_dir)
                  if (v := read_version(p)).after_epoch is not None and v.after_epoch < epoch]
        rate = _epoch_success(self.run_dir, epoch)
        if played and rate is not None:
            record_epoch_success(played[-1], epoch, rate)


def _epoch_success(run_dir: Path, epoch: int) -> float | None:
    rows = [r for r in RunFiles(run_dir).read_results() if r.epoch == epoch]
    return sum(r.success for r in rows) / len(rows) if rows else None


def _episode_counts(run_dir: Path) -> dict[str, int]:
    rows = RunFiles(run_dir).read_results()
    return {"total": len(rows), "successes": sum(r.success for r in rows)}
