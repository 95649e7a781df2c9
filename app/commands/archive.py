"""``memplay export`` / ``memplay import``: a memory directory <-> one portable archive.

A memory directory is what runs write (``<run-dir>/memory``): ``store/`` (task memories),
``steps/`` (step memory) and, for the reflection variants, ``playbooks/`` and
``critiques/`` (exported too, restored on import without overwriting). Either the run
dir or its memory dir may be given.

    >>> from memplay.app.cli import main
    >>> main(["export", "runs/demo/memrl", "mem.tar.gz"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
from pathlib import Path

from memplay.app.cli import Command

__all__ = ["ExportCommand", "ImportCommand"]


class ExportCommand(Command):
    """Write a run's memory (task memories and step memory) to a .tar.gz archive."""

    help = "export a run's memory to one portable .tar.gz archive"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("source", help="run directory or memory directory")
        parser.add_argument("archive", help="output path ending in .tar.gz")

    def run(self, args: argparse.Namespace) -> int:
        from memplay.agents.components import HASH_DIM
        from memplay.memory.archive import export_archive
        from memplay.memory.embedders import HashEmbedder
        from memplay.memory.faiss_store import FaissMemoryStore
        from memplay.memory.locate import memory_dir_of
        from memplay.memory.reflection_files import reflection_entries
        from memplay.memory.step_memory import StepMemory

        mem = memory_dir_of(args.source)
        # a variant with reflections only (e.g. reflexion) keeps no store: export an empty one
        store = FaissMemoryStore.load(mem / "store") if (mem / "store").is_dir() \
            else FaissMemoryStore(HashEmbedder(HASH_DIM))
        steps = StepMemory.load(mem / "steps", store.embedder) \
            if (mem / "steps").is_dir() else None
        path = export_archive(store, args.archive, step_memory=steps, reflection_dir=mem)
        files = len(reflection_entries(mem))
        print(f"exported {len(store)} memories, {len(steps) if steps else 0} states and "
              f"{files} reflection files (playbooks, critiques, reflections, insights, "
              f"strategy) to "
              f"{path}")
        return 0


class ImportCommand(Command):
    """Merge an archive into a memory directory (created when missing)."""

    help = "import a memory archive into a memory directory (merging, re-embedding if needed)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("archive", help="a .tar.gz written by `memplay export`")
        parser.add_argument("dest", help="memory directory to create or merge into")
        parser.add_argument("--embedder", choices=["default", "hash"], default=None,
                            help="embedder of a new memory (default: the archive's)")

    def run(self, args: argparse.Namespace) -> int:
        from memplay.agents.components import HASH_DIM
        from memplay.memory.archive import import_archive
        from memplay.memory.embedders import HashEmbedder, default_embedder
        from memplay.memory.faiss_store import FaissMemoryStore
        from memplay.memory.reflection_files import restore_reflection
        from memplay.memory.step_memory import StepMemory

        dest = Path(args.dest)
        store = steps = None
        if (dest / "store").is_dir():
            store = FaissMemoryStore.load(dest / "store")
            steps = StepMemory.load(dest / "steps", store.embedder) \
                if (dest / "steps").is_dir() else None
        embedder = None
        if args.embedder == "hash":
            embedder = HashEmbedder(HASH_DIM)
        elif args.embedder == "default":
            embedder = default_embedder()
        report = import_archive(args.archive, store, embedder=embedder, step_memory=steps)
        report.store.save(dest / "store")
        if report.step_memory is not None:
            report.step_memory.save(dest / "steps")
        files = restore_reflection(report.reflection, dest)
        print(f"imported into {dest}: {report.added} added, {report.merged} merged"
              + (" (re-embedded)" if report.reembedded else "")
              + (f", {files} reflection files" if files else ""))
        report.store.close()
        return 0
