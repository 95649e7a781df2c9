"""Training rounds of a run: one row per round in ``<run>/models/rounds.jsonl``.

A round is trained (a new ``models/vN``) or skipped (too few examples, and why); the
agent's training loop (:mod:`memplay.agents.training`) appends one :class:`RoundRecord` per
round, and ``memplay run`` / ``memplay inspect`` print them with :func:`describe_rounds`.

    >>> RoundRecord(after_epoch=5, status="skipped", reason="no successes").status
    'skipped'
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from memplay.run_dir import RunDir

__all__ = ["RoundRecord", "append_round", "describe_rounds", "read_rounds"]


class RoundRecord(BaseModel):
    """One training round of a run (a row of ``models/rounds.jsonl``).

    >>> RoundRecord(after_epoch=5, status="skipped", reason="no successes").version is None
    True
    """

    model_config = ConfigDict(extra="forbid")

    after_epoch: int | None = Field(
        ge=0, description="0-based epoch after which the round ran; None for a round trained "
        "by hand (memplay train).")
    status: Literal["trained", "skipped"]
    version: int | None = Field(default=None, description="N of models/vN when trained.")
    recipe: str | None = Field(default=None, description="Distillation recipe of the data.")
    examples: int = Field(default=0, ge=0, description="Examples collected for the round.")
    reason: str | None = Field(default=None, description="Why the round was skipped.")
    first_loss: float | None = None
    final_loss: float | None = None
    losses: list[float] = Field(default_factory=list, description="Loss per optimiser step.")
    seconds: float = Field(default=0.0, ge=0.0, description="Wall time of collect + train.")
    created_at: str = Field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


def read_rounds(run_dir: str | Path) -> list[RoundRecord]:
    """Every round recorded in ``<run_dir>/models/rounds.jsonl`` (empty when none).

    >>> read_rounds("/nonexistent")
    []
    """
    path = RunDir(run_dir).rounds
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    # a torn last line (killed mid-write) is dropped; the round is then redone on resume
    rows = []
    for line in lines:
        try:
            rows.append(RoundRecord.model_validate_json(line))
        except ValueError:
            continue
    return rows


def describe_rounds(run_dir: str | Path) -> list[str]:
    """One human line per round of a run.

    >>> describe_rounds("/nonexistent")
    []
    """
    lines = []
    for r in read_rounds(run_dir):
        when = "by hand" if r.after_epoch is None else f"after epoch {r.after_epoch + 1}"
        if r.status == "skipped":
            lines.append(f"{when}: skipped ({r.reason})")
            continue
        loss = f"loss {r.first_loss:.3f} -> {r.final_loss:.3f}" if r.first_loss is not None \
            and r.final_loss is not None else "no loss recorded"
        recipe = f" ({r.recipe})" if r.recipe else ""
        lines.append(f"{when}: models/v{r.version}, {r.examples} examples{recipe}, {loss}, "
                     f"{r.seconds:.0f} s")
    return lines


def append_round(run_dir: str | Path, record: RoundRecord) -> None:
    """Append one round to ``<run_dir>/models/rounds.jsonl``.

    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> append_round(run, RoundRecord(after_epoch=0, status="skipped", reason="none"))
    >>> [r.reason for r in read_rounds(run)]
    ['none']
    """
    path = RunDir(run_dir).rounds
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(record.model_dump_json() + "\n")
