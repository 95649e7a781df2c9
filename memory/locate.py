"""Finding a run's memory directory from a path a user gives: the run directory or the memory
directory itself.

Where a run keeps its memory is the run directory's to say
(:meth:`~memplay.run_dir.RunDir.recorded_memory_dir`: the ``memory_dir`` its config.yaml
recorded, ``<run>/memory`` by default); whether a folder holds memory is this layer's (a
``store/`` of task memories, or reflection files).

    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> (run / "memory" / "store").mkdir(parents=True)
    >>> memory_dir_of(run) == run / "memory"
    True
"""

from __future__ import annotations

from pathlib import Path

from memplay.errors import ConfigError
from memplay.memory.reflection_files import reflection_entries
from memplay.run_dir import RunDir

__all__ = ["holds_memory", "memory_dir_of"]


def holds_memory(directory: Path) -> bool:
    """True when ``directory`` has task memories (``store/``) or reflection files.

    >>> import tempfile
    >>> holds_memory(Path(tempfile.mkdtemp()))
    False
    """
    return (directory / "store").is_dir() or bool(reflection_entries(directory))


def memory_dir_of(path: str | Path) -> Path:
    """The memory directory of ``path``: a run dir (the memory its ``config.yaml`` records,
    ``<run>/memory`` by default) or a memory dir.

    >>> import tempfile
    >>> memory_dir_of(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    memplay.errors.ConfigError: ... holds no memory ...
    """
    run = RunDir(path)
    candidates = [run.memory, run.root]
    recorded = run.recorded_memory_dir()
    if recorded is not None:
        candidates.insert(0, recorded)
    for candidate in candidates:
        if holds_memory(candidate):
            return candidate
    raise ConfigError(f"{str(run.root)!r} holds no memory (no store/, reflections or critiques "
                      "in it or in memory/); pass a run directory or its memory/ folder")
