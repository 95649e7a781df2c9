"""Settings shared by every trainer: model, LoRA, optimiser, batching, device.

The weight updates run in TRL (``SFTTrainer``, ``DPOTrainer``) with a peft LoRA; these
configs keep memplay's short, validated field names and translate them into TRL's
(:meth:`TrainConfig.trl_arguments`: ``epochs`` -> ``num_train_epochs``, ``batch_size`` ->
``per_device_train_batch_size``...). Each field carries its documentation in
``metadata["help"]`` (so a CLI can print it); ``__post_init__`` checks the fields alone and
together and raises errors that say the fix::

    >>> TrainConfig(use_lora=True, lora_r=0)
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: lora_r=0 with use_lora=True: LoRA needs a rank >= 1; ...
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from memplay.errors import ConfigError, TrainerError

__all__ = ["DEVICES", "DTYPES", "SCHEDULES", "TrainConfig", "describe_fields"]

DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")
SCHEDULES = ("constant_with_warmup", "linear", "cosine")
_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass(frozen=True)
class TrainConfig:
    """Fields common to SFT and DPO; see each field's ``metadata["help"]``.

    >>> TrainConfig(learning_rate=1e-3, max_steps=4).max_steps
    4
    """

    model_path: str | None = field(default=None, metadata=_help(
        "Model folder to start from (safetensors + tokenizer); None = the embedded "
        "SmolLM2-135M-Instruct, or in train_round the run's latest model version."))
    output_dir: str | None = field(default=None, metadata=_help(
        "Where train() saves the new model version; None = do not save."))
    use_lora: bool = field(default=True, metadata=_help(
        "Train LoRA adapters (peft) and merge them into the saved weights; False = full "
        "fine-tuning of every weight (needs about 4x the model size in memory)."))
    lora_r: int = field(default=8, metadata=_help("LoRA rank (>= 1 when use_lora)."))
    lora_alpha: int = field(default=16, metadata=_help(
        "LoRA scale numerator; the update is scaled by lora_alpha / lora_r."))
    lora_dropout: float = field(default=0.0, metadata=_help("Dropout on the LoRA input, [0, 1)."))
    lora_target_modules: tuple[str, ...] = field(default=_LINEAR, metadata=_help(
        "Names of the linear layers that get adapters (Llama/SmolLM/Qwen names by default)."))
    learning_rate: float = field(default=2e-4, metadata=_help("AdamW learning rate (> 0)."))
    weight_decay: float = field(default=0.0, metadata=_help("AdamW weight decay (>= 0)."))
    epochs: int = field(default=1, metadata=_help("Passes over the data (>= 1)."))
    max_steps: int | None = field(default=None, metadata=_help(
        "Optimiser steps to take; when set it replaces epochs (as in TRL): the data is "
        "passed over as often as that takes, or stopped mid-epoch; None = run all epochs."))
    max_seconds: float | None = field(default=None, metadata=_help(
        "Stop after this much training wall time (checked after each optimiser step), even "
        "mid-epoch: a round's time budget; None = no limit."))
    batch_size: int = field(default=4, metadata=_help("Examples per forward pass (>= 1)."))
    grad_accum_steps: int = field(default=1, metadata=_help(
        "Forward passes summed into one optimiser step (>= 1); the effective batch is "
        "batch_size * grad_accum_steps."))
    warmup_steps: int = field(default=0, metadata=_help(
        "Optimiser steps of linear learning-rate warm-up from 0 (>= 0)."))
    lr_scheduler_type: str = field(default="constant_with_warmup", metadata=_help(
        "Learning rate after the warm-up: constant_with_warmup (stays), linear (falls to 0 "
        "at the last step) or cosine."))
    max_grad_norm: float = field(default=1.0, metadata=_help(
        "Clip the gradient norm to this (> 0); keeps early steps on tiny data stable."))
    max_length: int = field(default=1024, metadata=_help(
        "Tokens kept per example (>= 16); longer transcripts keep their beginning."))
    seed: int = field(default=0, metadata=_help("Seed of shuffling, dropout and LoRA init."))
    device: str = field(default="auto", metadata=_help(
        "auto (cuda if present, else cpu), cpu, cuda, cuda:N or mps."))
    dtype: str = field(default="auto", metadata=_help(
        "Weight dtype while training: auto (bfloat16 on a GPU that supports it, else "
        "float32), float32, bfloat16 or float16 (GPU only)."))
    num_threads: int | None = field(default=None, metadata=_help(
        "CPU threads torch uses during train() (restored after); None = torch's default. "
        "On a machine shared with other busy processes 1 can be 10x faster than 2."))
    gradient_checkpointing: bool = field(default=False, metadata=_help(
        "Recompute activations in the backward pass: less memory, about 30% slower."))
    system_prompt: str | None = field(default=None, metadata=_help(
        "System message put in front of every transcript built from trajectories; use the "
        "one the agent plays with so training and play see the same prompt."))

    def __post_init__(self) -> None:
        self._check_ranges()
        self._check_lora()
        self._check_hardware()

    def _check_ranges(self) -> None:
        positive = {"learning_rate": self.learning_rate, "max_grad_norm": self.max_grad_norm}
        at_least_one = {"epochs": self.epochs, "batch_size": self.batch_size,
                        "grad_accum_steps": self.grad_accum_steps}
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(f"{name}={value!r} must be > 0; the default is "
                                  f"{_default(type(self), name)!r}")
        for name, value in at_least_one.items():
            if value < 1:
                raise ConfigError(f"{name}={value!r} must be >= 1; the default is "
                                  f"{_default(type(self), name)!r}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ConfigError(f"max_seconds={self.max_seconds} must be > 0, or None for no "
                              "time limit")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"max_steps={self.max_steps} must be >= 1, or None for all epochs")
        if self.warmup_steps < 0 or self.weight_decay < 0:
            raise ConfigError(f"warmup_steps={self.warmup_steps} and weight_decay="
                              f"{self.weight_decay} must be >= 0; use 0 to turn them off")
        if self.num_threads is not None and self.num_threads < 1:
            raise ConfigError(f"num_threads={self.num_threads} must be >= 1, or None for "
                              "torch's default")
        if self.lr_scheduler_type not in SCHEDULES:
            raise ConfigError(f"lr_scheduler_type={self.lr_scheduler_type!r} is not one of "
                              f"{SCHEDULES}")
        if self.max_length < 16:
            raise ConfigError(f"max_length={self.max_length} is too short for a chat "
                              "transcript; use at least 16 (the default is 1024)")

    def _check_lora(self) -> None:
        if not self.use_lora:
            return
        if self.lora_r < 1:
            raise ConfigError(f"lora_r={self.lora_r} with use_lora=True: LoRA needs a rank "
                              ">= 1; set lora_r=8, or use_lora=False for full fine-tuning")
        if self.lora_alpha <= 0:
            raise ConfigError(f"lora_alpha={self.lora_alpha} must be > 0; 2 * lora_r is usual")
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"lora_dropout={self.lora_dropout} must be in [0, 1); use 0.0")
        if not self.lora_target_modules:
            raise ConfigError("lora_target_modules is empty; name the linear layers to adapt, "
                              f"e.g. {_LINEAR[:4]}")

    def _check_hardware(self) -> None:
        kind = self.device.split(":", 1)[0]
        index = self.device.split(":", 1)[1] if ":" in self.device else "0"
        if kind not in DEVICES or not index.isdigit() or (":" in self.device and kind != "cuda"):
            raise ConfigError(f"device={self.device!r} is not one of {DEVICES} or cuda:N")
        if self.dtype not in DTYPES:
            raise ConfigError(f"dtype={self.dtype!r} is not one of {DTYPES}")
        if kind in ("cuda", "mps"):
            _require_accelerator(kind, self.device)
        if self.dtype == "float16" and kind in ("cpu", "auto"):
            raise ConfigError(f"dtype='float16' with device={self.device!r}: half-precision "
                              "training needs a GPU; use dtype='float32' (or 'bfloat16') on CPU")

    def trl_arguments(self, output_dir: str) -> dict[str, Any]:
        """The keyword arguments of TRL's config (a ``transformers.TrainingArguments``) that
        these fields stand for. Nothing is saved in ``output_dir`` (checkpoints are off: a
        round saves its merged model as ``models/vN`` itself); every step's loss is logged.

        >>> args = TrainConfig(epochs=2, batch_size=8, max_steps=None).trl_arguments("/tmp/x")
        >>> args["num_train_epochs"], args["per_device_train_batch_size"], args["max_steps"]
        (2, 8, -1)
        """
        kind = self.device.split(":", 1)[0]
        return {
            "output_dir": output_dir, "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay, "num_train_epochs": self.epochs,
            "max_steps": self.max_steps if self.max_steps is not None else -1,
            "per_device_train_batch_size": self.batch_size,
            "gradient_accumulation_steps": self.grad_accum_steps,
            "warmup_steps": self.warmup_steps, "lr_scheduler_type": self.lr_scheduler_type,
            "max_grad_norm": self.max_grad_norm, "seed": self.seed, "data_seed": self.seed,
            "gradient_checkpointing": self.gradient_checkpointing,
            "gradient_checkpointing_kwargs": {"use_reentrant": False},
            # the weights load in the resolved dtype already (modeling.resolve_dtype), so no
            # mixed-precision autocast is layered on top
            "bf16": False, "fp16": False, "use_cpu": kind == "cpu", "logging_steps": 1,
            "save_strategy": "no",
            "report_to": [], "disable_tqdm": True, "dataloader_num_workers": 0,
            "max_length": self.max_length,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of the fields (for version.json).

        >>> TrainConfig().to_dict()["use_lora"]
        True
        """
        return dataclasses.asdict(self)


def _default(cls: type, name: str) -> Any:
    return {f.name: f.default for f in dataclasses.fields(cls)}[name]


def _require_accelerator(kind: str, device: str) -> None:
    """Raise :class:`TrainerError` when the named accelerator is absent (torch loads here)."""
    import torch

    present = torch.cuda.is_available() if kind == "cuda" else torch.backends.mps.is_available()
    if not present:
        raise TrainerError(f"device={device!r} but torch sees no {kind} device (torch "
                           f"{torch.__version__}); use device='auto' or 'cpu', or install a "
                           f"{kind}-enabled torch on a machine with that GPU")
    if kind == "cuda" and ":" in device:
        index, count = int(device.split(":")[1]), torch.cuda.device_count()
        if index >= count:
            raise TrainerError(f"device={device!r} but only {count} cuda devices exist; "
                               f"use cuda:0 .. cuda:{count - 1}")


def describe_fields(cls: type) -> dict[str, str]:
    """Map each field of a config dataclass to its help text.

    >>> describe_fields(TrainConfig)["lora_r"]
    'LoRA rank (>= 1 when use_lora).'
    """
    return {f.name: str(f.metadata.get("help", "")) for f in dataclasses.fields(cls)}
