"""Reading and appending the rows of a run directory, so an interrupted run can resume.

Which files a run directory holds is :class:`~memplay.run_dir.RunDir`'s; this adds the row
I/O. ``episodes.jsonl`` and ``trajectories.jsonl`` are appended one row per episode and
flushed at once; a half-written last line (the process was killed mid-write) is ignored on
reading.

    >>> import tempfile
    >>> files = RunFiles(tempfile.mkdtemp())
    >>> files.done_episodes()
    set()
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from memplay.run_dir import RunDir
from memplay.types import EpisodeResult

__all__ = ["RunFiles"]


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


class RunFiles(RunDir):
    """A run directory's paths (:class:`~memplay.run_dir.RunDir`) and row I/O; the directory
    is created, and checked writable, on init.

    >>> import tempfile
    >>> RunFiles(tempfile.mkdtemp()).episodes.name
    'episodes.jsonl'
    """

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__(run_dir)
        self.ensure_writable()

    def append(self, path: Path, rows: Iterable[BaseModel]) -> None:
        """Append rows as JSON lines and flush them to disk before returning."""
        # A kill mid-write can leave a torn last line; start on a fresh line so the new
        # rows stay readable (the torn one is skipped by read_results).
        torn = path.exists() and path.stat().st_size > 0 and not _ends_with_newline(path)
        with path.open("a", encoding="utf-8") as fh:
            if torn:
                fh.write("\n")
            for row in rows:
                fh.write(row.model_dump_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def read_results(self) -> list[EpisodeResult]:
        """Every complete EpisodeResult row; a torn final line is skipped."""
        if not self.episodes.exists():
            return []
        rows = []
        for line in self.episodes.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(EpisodeResult.model_validate_json(line))
            except ValidationError:
                continue  # a kill mid-write leaves a partial last line; that episode reruns
        return rows

    def done_episodes(self) -> set[int]:
        """Indices of episodes already recorded (skipped when the run resumes)."""
        return {r.episode for r in self.read_results()}

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        """Write JSON atomically (temp file + rename), so readers never see half a file."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(tmp, path)
