"""Loading one run directory for the report: every file a run writes, read with the readers
the rest of memplay uses (``memplay inspect`` reads the same ones).

Nothing is embedded and no model loads: the memory store and step memory are opened with a
stand-in for the embedder they recorded, which refuses to embed. A part a run lacks (no
memory, no playbooks, no trained models) loads as empty and the report says so.

    >>> import tempfile
    >>> load_run(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: ... has no episodes.jsonl and no memory; ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memplay.agents.config import AgentConfig
from memplay.agents.metrics import compute_metrics
from memplay.agents.run_files import RunFiles
from memplay.agents.run_log.epoch_stats import read_memory_stats
from memplay.errors import ConfigError, DataNotFound, MemoryStoreError
from memplay.memory.item import MemoryItem
from memplay.run_dir import RunDir
from memplay.types import EpisodeResult, Trajectory

__all__ = ["RecordedEmbedder", "RunData", "load_run"]


class RecordedEmbedder:
    """Stands in for the embedder a saved memory recorded (same name and dim) so the memory
    loads without its model; the report only reads, so embedding is an error.

    >>> RecordedEmbedder("hash-3gram-32", 32).embed(["x"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.MemoryStoreError: the report reads memory and never embeds ...
    """

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def embed(self, texts: list[str]) -> np.ndarray:
        """Refuse: nothing in a report needs a new embedding."""
        raise MemoryStoreError(f"the report reads memory and never embeds (asked to embed "
                               f"{len(texts)} texts with {self.name!r})")


@dataclass
class RunData:
    """Everything the report shows about one run (empty parts when the run lacks them)."""

    root: Path
    label: str
    config: AgentConfig | None
    episodes: list[EpisodeResult]
    metrics: dict[str, Any]
    stats: list[dict[str, Any]] = field(default_factory=list)
    items: list[MemoryItem] | None = None
    step_rows: list[dict[str, Any]] | None = None
    trajectories: list[Trajectory] = field(default_factory=list)
    playbooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    trees: list[tuple[str, Any]] = field(default_factory=list)
    revisions: int = 0
    rounds: list[Any] = field(default_factory=list)
    versions: list[Any] = field(default_factory=list)
    memory_dir: Path | None = None

    @property
    def env_id(self) -> str:
        """The run's environment (from its config, else its episodes)."""
        if self.config is not None:
            return self.config.env_id
        return self.episodes[0].env_id if self.episodes else "?"

    @property
    def variant(self) -> str:
        """The run's memory variant ('?' when the config is missing)."""
        return self.config.variant if self.config is not None else "?"


def _config(root: Path) -> AgentConfig | None:
    path = RunDir(root).config
    if not path.is_file():
        return None
    try:
        return AgentConfig.from_source(path)
    except ConfigError:
        return None  # written by another memplay version: the report shows what it can


def _metrics(episodes: list[EpisodeResult], config: AgentConfig | None) -> dict[str, Any]:
    """Metrics from the episode rows (also for a run cut off before metrics.json)."""
    tasks = [str(t) for t in config.tasks] if config is not None \
        else sorted({r.task for r in episodes})
    played = max((r.epoch + 1 for r in episodes), default=0)
    return compute_metrics(episodes, tasks, max(config.epochs if config else 0, played))


def _memory_dir(root: Path) -> Path | None:
    from memplay.memory.locate import memory_dir_of

    try:
        return memory_dir_of(root)
    except ConfigError:
        return None


def _recorded(directory: Path, kind: str) -> RecordedEmbedder:
    from memplay.memory.persistence import read_manifest

    embedder = read_manifest(directory, kind=kind, verify=False)["embedder"]
    return RecordedEmbedder(str(embedder["name"]), int(embedder["dim"]))


def _load_memory(data: RunData, mem: Path) -> None:
    from memplay.memory.faiss_store import STORE_KIND, FaissMemoryStore
    from memplay.memory.step_memory import STEP_KIND, StepMemory

    if not (mem / "store").is_dir():  # a strategy memory alone (mccfr) keeps no store
        return
    store = FaissMemoryStore.load(mem / "store", _recorded(mem / "store", STORE_KIND))
    data.items = list(store.items())
    if (mem / "steps").is_dir():
        steps = StepMemory.load(mem / "steps", _recorded(mem / "steps", STEP_KIND))
        data.step_rows = steps.to_rows()


def _load_reflection(data: RunData, mem: Path) -> None:
    from memplay.agents.methods.critique.store import CritiqueStore
    from memplay.agents.methods.playbook.store import DOCUMENT_NAMES, PlaybookStore

    if (mem / "playbooks").is_dir():
        manager = PlaybookStore(mem / "playbooks")
        data.playbooks = {family: {name: manager.history(family, name)
                                   for name in DOCUMENT_NAMES}
                          for family in manager.families()}
    if (mem / "critiques").is_dir():
        store = CritiqueStore(mem / "critiques")
        data.trees = [(tree_id, store.load_tree(tree_id)) for tree_id in store.tree_ids()]
        data.revisions = len(store.revisions)


def _load_models(data: RunData) -> None:
    from memplay.trainers.rounds import read_rounds
    from memplay.trainers.version import list_versions, read_version

    data.rounds = read_rounds(data.root)
    data.versions = [read_version(path) for path in list_versions(data.root)]


def _load_trajectories(root: Path) -> list[Trajectory]:
    from memplay.trainers.data import load_trajectories

    try:
        return load_trajectories(root)
    except DataNotFound:
        return []


def load_run(path: str | Path, label: str | None = None) -> RunData:
    """Read a run directory (label: its folder name unless given). ConfigError when ``path``
    is not a run directory."""
    root = Path(path)
    if not root.is_dir():
        raise ConfigError(f"{str(root)!r} is not a directory; pass a run directory written "
                          "by `memplay run` (its --run-dir)")
    mem = _memory_dir(root)
    if not RunDir(root).episodes.is_file() and mem is None:
        raise ConfigError(f"{str(root)!r} has no episodes.jsonl and no memory; pass a run "
                          "directory written by `memplay run` (its --run-dir)")
    config = _config(root)
    episodes = RunFiles(root).read_results()
    data = RunData(root, label or root.name, config, episodes, _metrics(episodes, config),
                   stats=read_memory_stats(root), memory_dir=mem)
    if mem is not None:
        _load_memory(data, mem)
        _load_reflection(data, mem)
    data.trajectories = _load_trajectories(root)
    _load_models(data)
    return data
