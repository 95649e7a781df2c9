"""Loading a model to train, its LoRA settings, and saving a plain model folder.

Models load straight from a folder with transformers (the embedded SmolLM2-135M-Instruct by
default). LoRA adapters (peft, added by TRL's trainers) are merged into the weights before
saving, so the saved folder loads with a plain ``AutoModelForCausalLM.from_pretrained`` (and
in vLLM) without peft.

    >>> from memplay.trainers.sft_config import SFTConfig
    >>> model, tokenizer = load_for_training(None, SFTConfig())  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from memplay.errors import DataNotFound, TrainerError
from memplay.trainers.base_config import TrainConfig
from memplay.trainers.version import VERSION_FILE, ModelVersion

__all__ = [
    "check_chat_template",
    "cpu_threads",
    "load_for_training",
    "load_tokenizer",
    "lora_config",
    "quiet_datasets",
    "resolve_device",
    "resolve_dtype",
    "resolve_model_path",
    "save_model",
]


def resolve_model_path(model: str | Path | None) -> Path:
    """The model folder to load: the given one (checked) or the embedded default.

    >>> resolve_model_path("/nonexistent")
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: model folder '/nonexistent' has no config.json; ...
    """
    if model is None:
        from memplay.llm.embedded import embedded_model_path

        return embedded_model_path()
    path = Path(model)
    if not (path / "config.json").is_file():
        raise DataNotFound(
            f"model folder {str(path)!r} has no config.json; pass a transformers model folder "
            "(save_pretrained output, a models/vN of a run) or None for the embedded model"
        )
    return path


def resolve_device(config: TrainConfig) -> Any:
    """The torch device the config asks for (``auto``: cuda when present, else cpu).

    >>> from memplay.trainers.sft_config import SFTConfig
    >>> str(resolve_device(SFTConfig(device="cpu")))
    'cpu'
    """
    import torch

    if config.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(config.device)


def resolve_dtype(config: TrainConfig, device: Any) -> Any:
    """The weight dtype: ``auto`` is bfloat16 on a GPU that supports it, float32 otherwise.

    >>> import torch
    >>> from memplay.trainers.sft_config import SFTConfig
    >>> resolve_dtype(SFTConfig(), torch.device("cpu"))
    torch.float32
    """
    import torch

    if config.dtype != "auto":
        return getattr(torch, config.dtype)  # validated name: float32 / bfloat16 / float16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_tokenizer(path: Path) -> Any:
    """Load a fast tokenizer with a chat template and a pad token (eos when it has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    check_chat_template(tokenizer)
    if tokenizer.pad_token_id is None:
        # padding is masked out of attention and loss, so any id works; eos is always there
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_for_training(model: str | Path | None, config: TrainConfig) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` on the config's device and dtype, in train mode."""
    from transformers import AutoModelForCausalLM

    path = resolve_model_path(model)
    tokenizer = load_tokenizer(path)
    device = resolve_device(config)
    net = AutoModelForCausalLM.from_pretrained(str(path), dtype=resolve_dtype(config, device))
    net.to(device)
    if config.gradient_checkpointing:
        # non-reentrant checkpointing lets gradients reach LoRA weights behind frozen inputs
        net.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        net.config.use_cache = False  # the cache is useless when recomputing activations
    return net, tokenizer


def lora_config(model: Any, config: TrainConfig) -> Any:
    """peft's ``LoraConfig`` for ``model`` (see the ``lora_*`` fields); TRL wraps the model.

    Raises TrainerError naming the model's linear layers when a target is not one of them.
    """
    from peft import LoraConfig

    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in config.lora_target_modules if t not in names]
    if missing:
        raise TrainerError(
            f"lora_target_modules {missing} are not layers of {type(model).__name__}; "
            f"pick from its linear layers, e.g. {sorted(n for n in names if 'proj' in n)[:8]}"
        )
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        task_type="CAUSAL_LM",
    )


def check_chat_template(tokenizer: Any) -> None:
    """Raise :class:`TrainerError` unless the tokenizer has a chat template.

    >>> class NoTemplate:
    ...     chat_template, name_or_path = None, "gpt2"
    >>> check_chat_template(NoTemplate())
    Traceback (most recent call last):
    ...
    memplay.errors.TrainerError: tokenizer of 'gpt2' has no chat template; ...
    """
    if not tokenizer.chat_template:
        raise TrainerError(
            f"tokenizer of {tokenizer.name_or_path!r} has no chat template; train an "
            "instruct/chat model (the default embedded SmolLM2-135M-Instruct has one) or set "
            "tokenizer.chat_template to a Jinja template before training"
        )


def save_model(
    model: Any, tokenizer: Any, out_dir: str | Path, record: ModelVersion | None = None
) -> Path:
    """Save a plain (non-peft) model, its tokenizer and ``record`` as version.json, atomically.

    Written into a temporary sibling and renamed, so a crash never leaves a half-written
    version that a runner would load. An existing folder is never overwritten.
    """
    out = Path(out_dir)
    if out.exists():
        raise TrainerError(f"{out} already exists; save each version to a new folder "
                           "(train_round picks models/v<N+1>) or delete the old one")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        if record is not None:
            (tmp / VERSION_FILE).write_text(record.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


@contextmanager
def cpu_threads(count: int | None) -> Iterator[None]:
    """Run a block with ``torch.set_num_threads(count)``, restoring the old value after.

    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with cpu_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    previous = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def quiet_datasets() -> Iterator[None]:
    """Run a block without the ``datasets`` progress bars TRL's data preparation prints.

    >>> import datasets
    >>> with quiet_datasets():
    ...     datasets.is_progress_bar_enabled()
    False
    """
    import datasets

    was_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_on:
            datasets.enable_progress_bars()
