"""Per-epoch scalars in TensorBoard (``<run>/tensorboard/``), so runs compare side by side.

Written through ``torch.utils.tensorboard.SummaryWriter``, which needs the ``tensorboard``
package (``pip install 'memplay[tensorboard]'``). Scalars per epoch (step = epoch number,
from 1): ``success/rate``, ``steps/mean``, ``retrieval/hit_rate``, ``memory/items``,
``memory/q_mean``, ``memory/q_min``, ``memory/q_max``, ``step_memory/states``,
``time/llm_seconds``, ``time/env_seconds``, ``time/episode_seconds``; plus the histogram
``memory/q`` of every task memory's Q.

    >>> import tempfile
    >>> log = TensorBoardLog(tempfile.mkdtemp())                       # doctest: +SKIP
    >>> log.write({"epoch": 0, "success_rate": 0.5}, q_values=[0.1])   # doctest: +SKIP
    >>> log.close()                                                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memplay.errors import ConfigError

__all__ = ["SCALARS", "TensorBoardLog", "scalars_of"]

# tag -> (section of a memory_stats row or "" for the top level, key)
SCALARS: dict[str, tuple[str, str]] = {
    "success/rate": ("", "success_rate"),
    "steps/mean": ("", "mean_steps"),
    "retrieval/hit_rate": ("", "retrieval_hit_rate"),
    "time/llm_seconds": ("", "llm_seconds"),
    "time/env_seconds": ("", "env_seconds"),
    "time/episode_seconds": ("", "seconds"),
    "memory/items": ("task_memory", "items"),
    "memory/q_mean": ("task_memory", "q_mean"),
    "memory/q_min": ("task_memory", "q_min"),
    "memory/q_max": ("task_memory", "q_max"),
    "step_memory/states": ("step_memory", "states"),
}


def scalars_of(row: dict[str, Any]) -> dict[str, float]:
    """The TensorBoard scalars of one ``memory_stats.jsonl`` row (missing values left out).

    >>> scalars_of({"success_rate": 0.5, "mean_steps": None, "task_memory": {"items": 3}})
    {'success/rate': 0.5, 'memory/items': 3.0}
    """
    out = {}
    for tag, (section, key) in SCALARS.items():
        source = row.get(section) if section else row
        value = source.get(key) if isinstance(source, dict) else None
        if value is not None:
            out[tag] = float(value)
    return out


def _summary_writer_class() -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:  # torch is installed; the tensorboard package may not be
        raise ConfigError(
            f"log=['tensorboard'] (--log tensorboard) needs the tensorboard package ({exc}); "
            "install it with pip install 'memplay[tensorboard]', or drop the option") from None
    return SummaryWriter


class TensorBoardLog:
    """A SummaryWriter on ``directory``, opened at once so a missing package fails early."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._writer = _summary_writer_class()(log_dir=str(self.directory))

    def write(self, row: dict[str, Any], q_values: Sequence[float] = ()) -> None:
        """Log one epoch's row (its ``epoch`` is 0-based; TensorBoard steps start at 1)."""
        step = int(row["epoch"]) + 1
        for tag, value in scalars_of(row).items():
            self._writer.add_scalar(tag, value, step)
        if q_values:
            import numpy as np

            self._writer.add_histogram("memory/q", np.asarray(q_values, dtype=np.float64), step)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()
