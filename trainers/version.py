"""Model versions: the folders a training round writes and their ``version.json`` records.

A version folder is a plain transformers model folder (weights + tokenizer) plus
``version.json``: where the data came from, the config, counts, the creation time and, once
the runner has played with it, the success rate it reached. Rounds of a run live in
``<run_dir>/models/v1``, ``v2``, ...

    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> next_version_dir(run).name
    'v1'
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memplay.errors import DataNotFound, TrainerError
from memplay.run_dir import RunDir

__all__ = [
    "VERSION_FILE",
    "ModelVersion",
    "latest_version",
    "list_versions",
    "next_version_dir",
    "read_version",
    "record_epoch_success",
    "record_success",
]

VERSION_FILE = "version.json"
_VERSION_DIR = re.compile(r"^v(\d+)$")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ModelVersion(BaseModel):
    """The record of one trained model version (stored as ``version.json`` in its folder).

    >>> v = ModelVersion(path="/runs/a/models/v1", method="sft", base_model="base")
    >>> v.success_after is None
    True
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Folder of the model weights (loads with from_pretrained).")
    method: Literal["sft", "dpo"] = Field(description="Which trainer produced it.")
    base_model: str = Field(description="Model folder training started from.")
    version: int | None = Field(default=None, description="N of models/vN in a run directory.")
    run_dir: str | None = Field(default=None, description="Run whose data trained it.")
    data: dict[str, int] = Field(default_factory=dict, description="Examples per data source.")
    examples: int = Field(default=0, ge=0, description="Examples trained on after tokenising.")
    tokens: int = Field(default=0, ge=0, description="Tokens that carried loss, per epoch.")
    steps: int = Field(default=0, ge=0, description="Optimiser steps taken.")
    losses: list[float] = Field(default_factory=list, description="Loss per optimiser step.")
    seconds: float = Field(default=0.0, ge=0.0, description="Wall time of training.")
    config: dict[str, Any] = Field(default_factory=dict, description="Trainer config fields.")
    created_at: str = Field(default_factory=_now, description="UTC time, ISO 8601.")
    success_after: float | None = Field(
        default=None, description="Success rate the agent reached with it (runner fills in)."
    )
    after_epoch: int | None = Field(
        default=None, ge=0,
        description="In a run with train_every: the (0-based) epoch after which it was trained.",
    )
    episodes: dict[str, int] = Field(
        default_factory=dict,
        description="Episodes of the run when it was trained: total and successes.",
    )
    recipe: str | None = Field(
        default=None, description="The distillation recipe whose examples trained it "
        "(memplay.agents.distill), None for data given by hand.")
    play: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="How the agent plays with this model: prompt and "
        "policy settings (e.g. {'prompt': {'state': 'view'}, 'policy': {'calibrate': false, "
        "'temperature': 0}}) applied unless AgentConfig.play_as_trained is off.")
    success_per_epoch: dict[int, float] = Field(
        default_factory=dict,
        description="Epoch -> success rate of the epochs played with it (runner fills in); "
        "success_after is their mean.",
    )

    def save(self) -> Path:
        """(Re)write ``version.json`` in :attr:`path`, atomically; returns the file path."""
        target = Path(self.path) / VERSION_FILE
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, target)
        return target


def read_version(path: str | Path) -> ModelVersion:
    """Load the record of a model version folder.

    >>> read_version("/nonexistent")
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/version.json not found; ...
    """
    file = Path(path) / VERSION_FILE
    if not file.is_file():
        raise DataNotFound(f"{file} not found; is {path} a folder written by a memplay trainer?")
    try:
        return ModelVersion.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise TrainerError(f"{file} is not a valid version record ({exc}); retrain it") from None


def record_success(path: str | Path, success: float) -> ModelVersion:
    """Store the success rate the agent reached with this version; returns the updated record.

    >>> record_success("/nonexistent", 0.5)
    Traceback (most recent call last):
    ...
    memplay.errors.DataNotFound: /nonexistent/version.json not found; ...
    """
    if not 0.0 <= success <= 1.0:
        raise TrainerError(f"success={success} is a rate and must be in [0, 1]")
    version = read_version(path).model_copy(update={"success_after": success})
    version.save()
    return version


def record_epoch_success(path: str | Path, epoch: int, success: float) -> ModelVersion:
    """Store the success rate of one epoch played with this version; ``success_after``
    becomes the mean over every epoch recorded so far. Recording an epoch again replaces it.

    >>> import tempfile
    >>> v = ModelVersion(path=tempfile.mkdtemp(), method="sft", base_model="b"); _ = v.save()
    >>> _ = record_epoch_success(v.path, 6, 0.5)
    >>> record_epoch_success(v.path, 7, 1.0).success_after
    0.75
    """
    if not 0.0 <= success <= 1.0:
        raise TrainerError(f"success={success} is a rate and must be in [0, 1]")
    version = read_version(path)
    per_epoch = {**version.success_per_epoch, epoch: success}
    mean = sum(per_epoch.values()) / len(per_epoch)
    version = version.model_copy(update={"success_per_epoch": per_epoch, "success_after": mean})
    version.save()
    return version


def list_versions(run_dir: str | Path) -> list[Path]:
    """Version folders ``<run_dir>/models/vN`` in increasing N (empty when none).

    >>> list_versions("/nonexistent")
    []
    """
    models = RunDir(run_dir).models
    if not models.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in models.iterdir() if (m := _VERSION_DIR.match(p.name))]
    return [p for _, p in sorted(found) if (p / VERSION_FILE).is_file()]


def latest_version(run_dir: str | Path) -> Path | None:
    """The newest complete version folder of a run, or None.

    >>> latest_version("/nonexistent") is None
    True
    """
    versions = list_versions(run_dir)
    return versions[-1] if versions else None


def next_version_dir(run_dir: str | Path) -> Path:
    """The folder the next round writes: ``models/v(N+1)`` after the highest existing vN."""
    models = RunDir(run_dir).models
    taken = [int(m.group(1)) for p in models.glob("v*") if (m := _VERSION_DIR.match(p.name))]
    return models / f"v{max(taken, default=0) + 1}"
