"""The runner's epoch hook that records what memory looked like after each epoch.

:class:`EpochLog` writes one row per epoch to ``<run>/memory_stats.jsonl`` (rewritten
atomically, one JSON object per line: the epoch's success, steps, retrieval hit rate and
times, the Q-value histogram of task memory and the size of step memory) and, with
``AgentConfig.log=["tensorboard"]``, the same numbers as TensorBoard scalars. An epoch
already in the file is not written again, so the hook is idempotent as the runner requires
(a resumed run calls it again for the epoch before). It then calls the hook it wraps.

    >>> import tempfile
    >>> from memplay.agents.config import AgentConfig
    >>> log = EpochLog(tempfile.mkdtemp(), AgentConfig(variant="none"))
    >>> log.on_epoch_end(0); [r["epoch"] for r in read_memory_stats(log.run_dir)]
    [0]
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memplay.agents.config import AgentConfig
from memplay.agents.run_files import RunFiles
from memplay.agents.run_log.epoch_stats import (
    epoch_row,
    epoch_summary,
    read_memory_stats,
)
from memplay.agents.run_log.tensorboard import TensorBoardLog
from memplay.memory.jsonio import write_text_atomic
from memplay.run_dir import RunDir

__all__ = ["EpochLog"]


class EpochLog:
    """Per-epoch memory statistics (and TensorBoard scalars) of one run.

    Args:
        run_dir: The run directory.
        config: The run's config (``log`` picks TensorBoard, ``uses_step_memory`` says
            whether step memory is recorded).
        memory: The agent's :class:`~memplay.agents.components.MemoryBundle`, None for a
            variant without task memory: its ``store.items()`` and
            ``step_memory.to_rows()`` are read.
        then: The hook to call afterwards (e.g. the weight trainer's ``on_epoch_end``).
    """

    def __init__(self, run_dir: str | Path, config: AgentConfig, memory: Any = None,
                 then: Callable[[int], Any] | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.config, self.memory, self.then = config, memory, then
        # opened now: a missing tensorboard package stops the run before any episode
        self.tensorboard = TensorBoardLog(RunDir(self.run_dir).tensorboard) \
            if "tensorboard" in config.log else None

    def on_epoch_end(self, epoch: int) -> None:
        """Record ``epoch`` unless it is already recorded, then call the wrapped hook."""
        rows = read_memory_stats(self.run_dir)
        if all(int(r["epoch"]) != epoch for r in rows):
            row, q_values = self._row(epoch)
            if self.tensorboard is not None:  # before the row: a crash in between repeats
                self.tensorboard.write(row, q_values)  # a point rather than losing one
            lines = [json.dumps(r, ensure_ascii=False) for r in [*rows, row]]
            write_text_atomic(RunDir(self.run_dir).memory_stats, "\n".join(lines) + "\n")
        if self.then is not None:
            self.then(epoch)

    def _row(self, epoch: int) -> tuple[dict[str, Any], list[float]]:
        results = [r for r in RunFiles(self.run_dir).read_results() if r.epoch == epoch]
        # the agent opens task memory only for variants that retrieve it
        summary = epoch_summary(results, uses_task_memory=self.config.spec.task_memory != "none")
        if self.memory is None:
            return epoch_row(epoch, summary, None, None), []
        items = list(self.memory.store.items())
        steps = self.memory.step_memory.to_rows() if self.config.uses_step_memory else None
        return epoch_row(epoch, summary, items, steps), [float(i.q) for i in items]

    def close(self) -> None:
        """Close the TensorBoard event file (nothing else stays open)."""
        if self.tensorboard is not None:
            self.tensorboard.close()
