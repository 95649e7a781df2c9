"""See what memory learned: a self-contained HTML report of a run, and per-epoch statistics.

- :func:`build_report` (``memplay report RUN_DIR``): one HTML file with inline SVG charts:
  success per epoch (compared across runs), Q-values over time, retrieval hits and the
  memories never retrieved, top and bottom memories, step-memory coverage, playbook versions,
  critique trees, model versions and the provenance of memories.
- The statistics it charts over time come from ``<run>/memory_stats.jsonl``, written during
  the run by :mod:`memplay.agents.run_log` (which also writes TensorBoard scalars with
  ``AgentConfig.log=["tensorboard"]``).

    >>> from memplay.app.report import build_report
    >>> build_report("runs/fl", compare=["runs/fl-none"])  # doctest: +SKIP
    PosixPath('runs/fl/report.html')
"""

from __future__ import annotations

from memplay._lazy import lazy_exports

# name -> "module:attribute"; resolved on first access so importing the package stays light.
_LAZY: dict[str, str] = {
    "build_report": "memplay.app.report.build:build_report",
    "RunData": "memplay.app.report.run_data:RunData",
    "load_run": "memplay.app.report.run_data:load_run",
}

__all__ = sorted(_LAZY)
__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
