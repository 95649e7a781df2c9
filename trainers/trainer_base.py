"""What SFT and DPO trainers share: loading the model once, running a TRL trainer with a
fresh peft LoRA, merging it back, and saving model versions.

A trainer holds a plain (non-peft) model between calls. ``train()`` hands it to TRL's
trainer with fresh LoRA adapters when the config asks (TRL wraps it with peft), trains, and
merges the adapters back, so after training the model scores and saves like any
transformers model. TRL does the batching, the optimiser and the loss; memplay keeps the
data (chat records, preference pairs) and the versions (``models/vN`` with version.json)::

    >>> trainer = SFTTrainer(None, SFTConfig(max_steps=4))  # doctest: +SKIP
    >>> trainer.train(records).final_loss < trainer.train(records).losses[0]  # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

from memplay.errors import TrainerError
from memplay.trainers.base_config import TrainConfig
from memplay.trainers.modeling import (
    cpu_threads,
    load_for_training,
    lora_config,
    quiet_datasets,
    resolve_model_path,
    save_model,
)
from memplay.trainers.result import TrainResult
from memplay.trainers.trl_import import trl
from memplay.trainers.version import ModelVersion

__all__ = ["BaseTrainer", "logged_series", "time_budget"]


def logged_series(history: list[dict[str, Any]], names: dict[str, str]) -> dict[str, list[float]]:
    """Per-step series out of TRL's ``log_history`` (one row per logged step), renamed.

    >>> logged_series([{"loss": 2.0, "rewards/margins": 0.1}, {"train_runtime": 3.0}],
    ...               {"loss": "loss", "rewards/margins": "margin"})
    {'loss': [2.0], 'margin': [0.1]}
    """
    series: dict[str, list[float]] = {}
    for row in history:
        if "loss" not in row:  # the closing summary row has train_loss, not loss
            continue
        for key, name in names.items():
            if key in row:
                series.setdefault(name, []).append(float(row[key]))
    return series


def time_budget(seconds: float) -> Any:
    """A TRL/transformers callback that ends training once ``seconds`` have passed since
    training began (after the step that crossed the line).

    >>> time_budget(0.0).__class__.__name__
    'TimeBudget'
    """
    from transformers import TrainerCallback

    class TimeBudget(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.started = time.perf_counter()

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if time.perf_counter() - self.started >= seconds:
                control.should_training_stop = True
            return control

    return TimeBudget()


def _quiet(trainer: Any) -> None:
    """Drop the callback that prints every step's log dict (the losses are kept anyway)."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


class BaseTrainer:
    """Model loading, the TRL run and version saving common to SFT and DPO.

    ``model``: a model folder, or None for ``config.model_path`` (None there too: the
    embedded SmolLM2-135M-Instruct).
    """

    method: Literal["sft", "dpo"] = "sft"
    trl_trainer = "SFTTrainer"  # the class of the trl module this trainer runs
    logged: ClassVar[dict[str, str]] = {"loss": "loss"}  # TRL log key -> memplay metric name

    def __init__(self, model: str | Path | None, config: TrainConfig) -> None:
        trl()  # fail before loading a model when TRL is missing
        self.config = config
        self.model_path = resolve_model_path(model if model is not None else config.model_path)
        self.model, self.tokenizer = load_for_training(self.model_path, config)
        self.data_counts: dict[str, int] = {}
        self.last_result: TrainResult | None = None

    def _fit(self, dataset: Any, examples: int) -> TrainResult:
        """Train on a ``datasets.Dataset`` in TRL's format; returns the per-step record."""
        started = time.perf_counter()
        with self._trl_run(dataset) as trainer:
            if len(trainer.train_dataset) == 0:
                raise TrainerError(f"none of the {examples} examples keeps an answer token "
                                   f"within max_length={self.config.max_length}; raise "
                                   "max_length or shorten the prompts")
            trainer.train()
            history = list(trainer.state.log_history)
            tokens = self._trained_tokens(trainer.train_dataset)
        series = logged_series(history, self.logged)
        losses = series.pop("loss", [])
        return self._finalise(TrainResult(
            losses=losses, steps=len(losses), seconds=time.perf_counter() - started,
            examples=examples, tokens=tokens, metrics=series))

    @contextmanager
    def _trl_run(self, dataset: Any) -> Iterator[Any]:
        """TRL's trainer on the held model; afterwards ``self.model`` is a plain model again.

        On success LoRA adapters are merged into the weights; on an error they are dropped,
        so a failed ``train()`` leaves the trainer with the weights it had before.
        """
        import torch

        torch.manual_seed(self.config.seed)  # LoRA init repeats across runs
        peft = lora_config(self.model, self.config) if self.config.use_lora else None
        with tempfile.TemporaryDirectory(prefix="memplay-trl-") as scratch, \
                cpu_threads(self.config.num_threads), quiet_datasets():
            cls = getattr(trl(), self.trl_trainer)
            trainer = cls(model=self.model, args=self.config.to_trl(scratch),  # type: ignore[attr-defined]
                          train_dataset=dataset, processing_class=self.tokenizer,
                          peft_config=peft)
            _quiet(trainer)
            if self.config.max_seconds is not None:
                trainer.add_callback(time_budget(self.config.max_seconds))
            try:
                yield trainer
            except BaseException:
                self.model = trainer.model.unload() if peft is not None else trainer.model
                self.model.eval()
                raise
            self.model = trainer.model.merge_and_unload() if peft is not None else trainer.model
            self.model.eval()

    def _trained_tokens(self, dataset: Any) -> int:
        """Tokens that carry loss in one pass over TRL's processed data (0 when unknown)."""
        return 0

    def _count_sources(self, records: Iterable[Any]) -> None:
        self.data_counts = dict(Counter(r.source for r in records))

    def _finalise(self, result: TrainResult) -> TrainResult:
        self.last_result = result
        if self.config.output_dir is not None:
            result.output_dir = Path(self.save(self.config.output_dir).path)
        return result

    def save(
        self, out_dir: str | Path, version: int | None = None, run_dir: str | Path | None = None,
        **record: Any,
    ) -> ModelVersion:
        """Save the current weights as a new model version folder with its ``version.json``
        (``record``: more :class:`ModelVersion` fields, such as ``recipe`` and ``play``).

        The folder loads with ``AutoModelForCausalLM.from_pretrained(out_dir)``.
        """
        result = self.last_result or TrainResult(losses=[], steps=0, seconds=0.0)
        saved = ModelVersion(
            path=str(Path(out_dir).resolve()), method=self.method,
            base_model=str(self.model_path), version=version,
            run_dir=str(run_dir) if run_dir is not None else None, data=self.data_counts,
            examples=result.examples, tokens=result.tokens, steps=result.steps,
            losses=result.losses, seconds=result.seconds, config=self.config.to_dict(),
            **record,
        )
        save_model(self.model, self.tokenizer, out_dir, saved)
        return saved
