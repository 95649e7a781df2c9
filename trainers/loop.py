"""One round of the parametric loop: collect the run's data, train, save ``models/vN``, reload.

The agent keeps its memory; only the weights change. Each round starts from the run's latest
model version (so rounds compound, as in Agent-R's iterative SFT) unless told otherwise::

    >>> from memplay.trainers import SFTConfig, train_round          # doctest: +SKIP
    >>> version = train_round("runs/lake", llm, SFTConfig(max_steps=50))  # doctest: +SKIP
    >>> version.path                                                  # doctest: +SKIP
    '/.../runs/lake/models/v1'
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from memplay.errors import TrainerError
from memplay.trainers.data import PromptFn, collect_sft
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.pairs import collect_pairs
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.version import ModelVersion, latest_version, next_version_dir

__all__ = ["Reloadable", "collect_round_data", "train_round"]

log = logging.getLogger("memplay.trainers")


@runtime_checkable
class Reloadable(Protocol):
    """An LLM backend that can swap in new weights from a folder (TransformersLLM does)."""

    def reload(self, model: str | Path | None = None) -> Any:
        """Load the weights of ``model`` in place of the current ones."""


def collect_round_data(
    run_dir: str | Path,
    config: SFTConfig | DPOConfig,
    files: Sequence[str | Path] = (),
    prompt_fn: PromptFn | None = None,
) -> list[Any]:
    """The examples one round trains on: SFT records for SFTConfig, pairs for DPOConfig.

    Raises :class:`TrainerError` (saying what to do) when the run has none.

    >>> collect_round_data("/nonexistent", SFTConfig())
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/trajectories.jsonl not found; ...
    """
    run = Path(run_dir)
    if isinstance(config, DPOConfig):
        return list(collect_pairs(run, files, config.system_prompt,
                                  config.max_pairs_per_task, prompt_fn=prompt_fn))
    return list(collect_sft(run, files, config.system_prompt, config.dedupe,
                            prompt_fn=prompt_fn))


def train_round(
    run_dir: str | Path,
    llm: Reloadable | None = None,
    config: SFTConfig | DPOConfig | None = None,
    *,
    data_files: Sequence[str | Path] = (),
    base_model: str | Path | None = None,
    prompt_fn: PromptFn | None = None,
    data: Sequence[Any] | None = None,
    record: dict[str, Any] | None = None,
) -> ModelVersion:
    """Train on a run directory's own data and save the result as ``<run_dir>/models/vN``.

    Args:
        run_dir: Run directory with ``trajectories.jsonl``.
        llm: Backend to reload with the new weights afterwards (None: nobody is reloaded).
        config: SFTConfig (successes + revisions) or DPOConfig (preference pairs).
        data_files: Extra JSONL files: revision records for SFT, pair files for DPO.
        base_model: Start weights; default ``config.model_path``, else the run's latest
            version, else the embedded model.
        prompt_fn: Build one example per step with the prompt the agent plays with (see
            :data:`memplay.trainers.data.PromptFn`); None trains on whole transcripts.
        data: Examples already collected (a distillation recipe's, or
            :func:`collect_round_data`'s); None collects them.
        record: More fields of the version record (``recipe``, ``play``).

    Returns the new version's record; the runner sets ``success_after`` later
    (:func:`memplay.trainers.version.record_success`).
    """
    if llm is not None and not isinstance(llm, Reloadable):
        raise TrainerError(f"llm={type(llm).__name__} has no reload(path) method; pass a "
                           "TransformersLLM, or llm=None and load models/vN yourself")
    run = Path(run_dir)
    config = config if config is not None else SFTConfig()
    if data is None:  # collect first: no data fails fast, before any model loads
        data = collect_round_data(run, config, data_files, prompt_fn)
    start = base_model or config.model_path or latest_version(run)
    trainer = _make_trainer(start, dataclasses.replace(config, output_dir=None))
    result = trainer.train(list(data))
    out = next_version_dir(run)
    version = trainer.save(out, version=int(out.name[1:]), run_dir=run.resolve(),
                           **(record or {}))
    log.info("round v%s: %d examples, loss %s -> %s, saved to %s", version.version,
             result.examples, result.losses[:1], result.final_loss, out)
    if llm is not None:
        llm.reload(out)
    return version


def _make_trainer(start: str | Path | None, config: SFTConfig | DPOConfig) -> Any:
    # trainers import torch and transformers; load them only when a round really runs
    if isinstance(config, DPOConfig):
        from memplay.trainers.dpo_trainer import DPOTrainer

        return DPOTrainer(start, config)
    from memplay.trainers.sft_trainer import SFTTrainer

    return SFTTrainer(start, config)
