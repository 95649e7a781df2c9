"""Building the report: load the runs, render every section in order, write one HTML file.

:data:`SECTIONS` is the registry (anchor id -> builder) and fixes the order on the page;
every builder renders something for any run, with a note where the run lacks the data.

    >>> list(SECTIONS)[:3]
    ['summary', 'success', 'q-values']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from memplay.app.report.html import Section, page
from memplay.app.report.run_data import RunData, load_run
from memplay.app.report.sections_learning import (
    models_section,
    q_values_section,
    success_section,
    summary_section,
)
from memplay.app.report.sections_memory import (
    provenance_section,
    retrieval_section,
    step_memory_section,
    top_memories_section,
)
from memplay.app.report.sections_reflection import critiques_section, playbooks_section
from memplay.memory.jsonio import write_text_atomic
from memplay.run_dir import RunDir

__all__ = ["SECTIONS", "build_report", "render_report"]

SectionBuilder = Callable[[RunData, Sequence[RunData]], Section]

SECTIONS: dict[str, SectionBuilder] = {
    "summary": summary_section,
    "success": success_section,
    "q-values": q_values_section,
    "retrieval": retrieval_section,
    "memories": top_memories_section,
    "step-memory": step_memory_section,
    "provenance": provenance_section,
    "playbooks": playbooks_section,
    "critiques": critiques_section,
    "models": models_section,
}


def _labels(paths: Sequence[Path]) -> list[str]:
    """Run labels: folder names, made unique with their parent folder when they clash."""
    names = [p.name for p in paths]
    return [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in paths]


def render_report(main: RunData, others: Sequence[RunData] = ()) -> str:
    """The HTML text of a report on ``main``, compared with ``others``."""
    runs = [main, *others]
    sections = [build(main, runs) for build in SECTIONS.values()]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = (f"{main.env_id}, variant {main.variant}, {len(main.episodes)} episodes"
                + (f"; compared with {', '.join(r.label for r in others)}" if others else "")
                + f". Generated {stamp} by memplay report.")
    return page(f"memplay report: {main.label}", subtitle, sections)


def build_report(run_dir: str | Path, compare: Sequence[str | Path] = (),
                 out: str | Path | None = None) -> Path:
    """Write the report of ``run_dir`` (default ``<run_dir>/report.html``); return its path.

    Every run in ``compare`` appears in the run table and the success and retrieval charts.
    """
    paths = [Path(run_dir), *[Path(c) for c in compare]]
    labels = _labels(paths)
    main = load_run(paths[0], labels[0])
    others = [load_run(p, label) for p, label in zip(paths[1:], labels[1:])]
    target = Path(out) if out is not None else RunDir(paths[0]).report
    write_text_atomic(target, render_report(main, others))
    target.chmod(0o644)  # the atomic writer's temp file is private; a report is to share
    return target
