"""Rich progress bar (episodes/s, running success rate) and the end-of-run summary table.

    >>> bar = RunProgress(total=4, label="memrl", enabled=False)
    >>> bar.advance([True, False]); bar.success_rate
    0.5
    >>> bar.close()
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["RunProgress", "print_summary", "summary_table"]


class RunProgress:
    """A progress bar over episodes; ``enabled=False`` keeps the counts but draws nothing."""

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        self.done, self.successes = 0, 0
        self.started = time.perf_counter()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.2f} ep/s"),
            TextColumn("success {task.fields[success]:.0%}"), TimeElapsedColumn(),
            disable=not enabled,
        )
        self._task = self._progress.add_task(label, total=total, rate=0.0, success=0.0)
        self._progress.start()

    @property
    def success_rate(self) -> float:
        """Successes over episodes finished in this session."""
        return self.successes / self.done if self.done else 0.0

    def advance(self, successes: Sequence[bool]) -> None:
        """Count finished episodes and refresh the rate and success fields."""
        self.done += len(successes)
        self.successes += sum(successes)
        rate = self.done / max(time.perf_counter() - self.started, 1e-9)
        self._progress.update(self._task, advance=len(successes), rate=rate,
                              success=self.success_rate)

    def close(self) -> None:
        """Stop drawing (leaves the final bar on screen)."""
        self._progress.stop()


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def summary_table(metrics: Mapping[str, Mapping[str, Any]]) -> Table:
    """Success per epoch (one row per epoch, one column per variant), then the totals.

    >>> summary_table({"none": {"success_per_epoch": [0.0], "cumulative_success": [0.0],
    ...                          "last_epoch_success": 0.0, "episodes": 4}}).row_count
    4
    """
    table = Table(title="success rate per epoch")
    table.add_column("epoch")
    for name in metrics:
        table.add_column(name, justify="right")
    epochs = max((len(m["success_per_epoch"]) for m in metrics.values()), default=0)
    for i in range(epochs):
        table.add_row(str(i + 1), *(_fmt(m["success_per_epoch"][i])
                                    if i < len(m["success_per_epoch"]) else "-"
                                    for m in metrics.values()))
    table.add_section()
    cumulative = [[v for v in m["cumulative_success"] if v is not None] for m in metrics.values()]
    table.add_row("solved at least once", *(_fmt(c[-1] if c else None) for c in cumulative))
    table.add_row("last epoch", *(_fmt(m["last_epoch_success"]) for m in metrics.values()))
    table.add_row("episodes", *(str(m["episodes"]) for m in metrics.values()))
    return table


def print_summary(metrics: Mapping[str, Mapping[str, Any]], console: Console | None = None
                  ) -> None:
    """Print :func:`summary_table` to the console."""
    (console or Console()).print(summary_table(metrics))
