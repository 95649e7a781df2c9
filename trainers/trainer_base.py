"""What SFT and DPO trainers share: loading the model once, LoRA wrapping, saving versions.

A trainer holds a plain (non-peft) model between calls. ``train()`` wraps it in fresh LoRA
adapters when the config asks, trains, and merges them back, so after training the model
scores and saves like any transformers model::

    >>> trainer = SFTTrainer(None, SFTConfig(max_steps=4))  # doctest: +SKIP
    >>> trainer.train(records).final_loss < trainer.train(records).losses[0]  # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from memplay.trainers.base_config import TrainConfig
from memplay.trainers.modeling import (
    add_lora,
    cpu_threads,
    load_for_training,
    resolve_device,
    resolve_model_path,
    save_model,
)
from memplay.trainers.result import TrainResult
from memplay.trainers.version import ModelVersion

__all__ = ["BaseTrainer"]

class BaseTrainer:
    """Model loading and version saving common to :class:`SFTTrainer` and :class:`DPOTrainer`.

    ``model``: a model folder, or None for ``config.model_path`` (None there too: the
    embedded SmolLM2-135M-Instruct).
    """

    method: Literal["sft", "dpo"] = "sft"

    def __init__(self, model: str | Path | None, config: TrainConfig) -> None:
        self.config = config
        self.model_path = resolve_model_path(model if model is not None else config.model_path)
        self.model, self.tokenizer = load_for_training(self.model_path, config)
        self.device = resolve_device(config)
        self.data_counts: dict[str, int] = {}
        self.last_result: TrainResult | None = None

    def _trainable(self) -> Any:
        """The network to optimise: fresh LoRA adapters, or every weight."""
        import torch

        torch.manual_seed(self.config.seed)  # LoRA init and dropout repeat across runs
        if self.config.use_lora:
            return add_lora(self.model, self.config)
        return self.model.requires_grad_(True)

    @contextmanager
    def _training(self) -> Iterator[Any]:
        """Yield the network to train; afterwards ``self.model`` is a plain model again.

        On success LoRA adapters are merged into the weights; on an error they are dropped,
        so a failed ``train()`` leaves the trainer with the weights it had before.
        """
        net = self._trainable()
        try:
            with cpu_threads(self.config.num_threads):
                yield net
        except BaseException:
            self.model = net.unload() if self.config.use_lora else net
            self.model.eval()
            raise
        self.model = net.merge_and_unload() if self.config.use_lora else net
        self.model.eval()

    def _count_sources(self, records: Iterable[Any]) -> None:
        self.data_counts = dict(Counter(r.source for r in records))

    def _finalise(self, result: TrainResult) -> TrainResult:
        self.last_result = result
        if self.config.output_dir is not None:
            result.output_dir = Path(self.save(self.config.output_dir).path)
        return result

    def save(
        self, out_dir: str | Path, version: int | None = None, run_dir: str | Path | None = None
    ) -> ModelVersion:
        """Save the current weights as a new model version folder with its ``version.json``.

        The folder loads with ``AutoModelForCausalLM.from_pretrained(out_dir)``.
        """
        result = self.last_result or TrainResult(losses=[], steps=0, seconds=0.0)
        record = ModelVersion(
            path=str(Path(out_dir).resolve()), method=self.method,
            base_model=str(self.model_path), version=version,
            run_dir=str(run_dir) if run_dir is not None else None, data=self.data_counts,
            examples=result.examples, tokens=result.tokens, steps=result.steps,
            losses=result.losses, seconds=result.seconds, config=self.config.to_dict(),
        )
        save_model(self.model, self.tokenizer, out_dir, record)
        return record
