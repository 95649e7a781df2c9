"""``memplay inspect``: a run's metrics, top memories by Q, step memory, playbooks, critiques.

    >>> from memplay.app.cli import main
    >>> main(["inspect", "runs/demo/memrl", "--top", "5"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from memplay.app.cli import Command
from memplay.errors import ConfigError
from memplay.run_dir import RunDir

__all__ = ["InspectCommand", "memory_table", "step_table"]


def memory_table(items: list[Any], top: int) -> Any:
    """Rich table of the ``top`` memories by Q, with their use statistics."""
    from rich.table import Table

    from memplay.agents.prompts import clip

    table = Table("Q", "visits", "wins", "losses", "kind", "experience",
                  title=f"top {min(top, len(items))} of {len(items)} memories by Q")
    for item in sorted(items, key=lambda i: -i.q)[:top]:
        table.add_row(f"{item.q:+.3f}", str(item.visits), str(item.successes),
                      str(item.failures), item.kind, clip(item.experience, 70))
    return table


def step_table(rows: list[dict[str, Any]], top: int) -> Any:
    """Rich table of the best-valued (state, action) pairs in a step memory."""
    from rich.table import Table

    from memplay.agents.prompts import clip

    pairs = [(a["q"], a["visits"], r["state"], name) for r in rows
             for name, a in r["actions"].items()]
    table = Table("Q", "visits", "action", "state (last line)",
                  title=f"step memory: {len(rows)} states, top {min(top, len(pairs))} moves")
    for q, visits, state, action in sorted(pairs, key=lambda p: -p[0])[:top]:
        table.add_row(f"{q:+.3f}", str(visits), action, clip(state.splitlines()[-1], 50))
    return table


class InspectCommand(Command):
    """Show what a run learned."""

    help = ("show a run's metrics, top memories by Q, step memory, playbooks, critiques, "
            "reflections and insights")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path", help="run directory (or a memory directory)")
        parser.add_argument("--top", type=int, default=10, help="rows per table")

    def run(self, args: argparse.Namespace) -> int:
        from rich.console import Console

        root, console = Path(args.path), Console()
        if not root.is_dir():
            raise ConfigError(f"{str(root)!r} is not a directory; pass a run directory")
        shown = self._metrics(root, console) + self._memory(root, args.top, console)
        shown += self._playbooks(root, console) + self._critiques(root, args.top, console)
        shown += self._reflections(root, args.top, console) + self._insights(root, console)
        if not shown:
            raise ConfigError(f"{str(root)!r} has no metrics.json and no memory; "
                              "pass a directory written by `memplay run`")
        return 0

    def _playbooks(self, root: Path, console: Any) -> int:
        """Print the CEL rules and playbook documents (``<memory>/playbooks/<family>.md``)."""
        pages = sorted({*root.glob("playbooks/*.md"), *RunDir(root).memory.glob("playbooks/*.md")})
        for page in pages:
            console.rule(f"rules and playbook: {page.stem}")
            console.print(page.read_text(encoding="utf-8"), markup=False)
        return len(pages)

    def _critiques(self, root: Path, top: int, console: Any) -> int:
        """Count the Agent-R critique trees and revisions and print the newest lessons."""
        from memplay.agents.methods.critique.learn import lesson_text
        from memplay.agents.methods.critique.store import CritiqueStore

        folder = _reflection_folder(root, "critiques")
        if folder is None:
            return 0
        store = CritiqueStore(folder)
        console.rule(f"critiques: {len(store.tree_ids())} trees, {len(store.revisions)} "
                     "revisions")
        for revision in store.revisions[-top:]:
            console.print(f"task {revision.seed}: {lesson_text(revision)}", markup=False)
        return 1

    def _reflections(self, root: Path, top: int, console: Any) -> int:
        """Reflexion's reflections: how many the LLM wrote (the rest are templates), newest."""
        from memplay.agents.methods.reflexion.store import ReflectionStore

        folder = _reflection_folder(root, "reflexion")
        if folder is None:
            return 0
        store = ReflectionStore(folder)
        counts = store.counts()
        console.rule(f"reflexion: {len(store)} reflections ({counts['llm']} written by the LLM, "
                     f"{counts['template']} from the template)")
        for reflection in store.newest(top):
            console.print(f"task {reflection.seed} [{reflection.source}]: {reflection.text}",
                          markup=False)
        return 1

    def _insights(self, root: Path, console: Any) -> int:
        """ExpeL's insights per game family, with votes and the LLM answers accepted."""
        from memplay.agents.methods.expel.store import InsightBook

        pages = sorted({*root.glob("insights/*.json"),
                        *RunDir(root).memory.glob("insights/*.json")})
        for page in pages:
            book = InsightBook(page)
            answers, accepted = book.stats.get("answers", 0), book.stats.get("accepted", 0)
            console.rule(f"insights: {page.stem} ({len(book.insights)} insights; {accepted} of "
                         f"{answers} LLM answers had a valid operation)")
            for insight in sorted(book.insights, key=lambda x: -x.votes):
                console.print(f"[{insight.votes} votes] {insight.text}", markup=False)
        return len(pages)

    def _metrics(self, root: Path, console: Any) -> int:
        from memplay.agents.metrics import decision_line, error_lines
        from memplay.agents.progress import print_summary

        path = RunDir(root).metrics
        if not path.is_file():
            return 0
        metrics = json.loads(path.read_text(encoding="utf-8"))
        print_summary({str(metrics.get("variant", root.name)): metrics}, console)
        line = decision_line(metrics)
        if line:
            console.print(line, soft_wrap=True, markup=False)
        for line in error_lines(metrics):
            console.print(line, soft_wrap=True, markup=False, style="red")
        return 1

    def _memory(self, root: Path, top: int, console: Any) -> int:
        from memplay.memory.faiss_store import FaissMemoryStore
        from memplay.memory.locate import memory_dir_of
        from memplay.memory.step_memory import StepMemory

        try:
            mem = memory_dir_of(root)
        except ConfigError:
            return 0
        if not (mem / "store").is_dir():
            return 0  # reflections only: shown by their own sections
        store = FaissMemoryStore.load(mem / "store")
        items = list(store.items())
        console.print(memory_table(items, top))
        counts: dict[str, int] = {}
        for item in items:
            source = str(item.metadata.get("provenance", "self"))
            counts[source] = counts.get(source, 0) + 1
        lines = [f"task memories by provenance: {_counts(counts)}"]
        if (mem / "steps").is_dir():
            steps = StepMemory.load(mem / "steps", store.embedder)
            console.print(step_table(steps.to_rows(), top))
            lines.append(f"step-memory updates by provenance: {_counts(steps.sources())}")
        console.print("\n".join(lines), markup=False)
        return 1


def _reflection_folder(root: Path, name: str) -> Path | None:
    """``<run>/memory/<name>`` of a run dir, or ``<name>`` of a memory dir (None: neither).

    >>> import tempfile
    >>> _reflection_folder(Path(tempfile.mkdtemp()), "critiques") is None
    True
    """
    return next((f for f in (RunDir(root).memory / name, root / name) if f.is_dir()), None)


def _counts(counts: dict[str, int]) -> str:
    """``self 12, demo 40`` (or ``none``).

    >>> _counts({"demo": 3, "self": 1})
    'demo 3, self 1'
    """
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
