"""Crash-safe JSON files for reflection memory (playbooks, insights, critique trees).

A reader must never see half a file, so writes go to a temporary file in the same folder,
are fsynced, then renamed over the target with ``os.replace`` (atomic on POSIX and Windows).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "doc.json"
    >>> write_json_atomic(path, {"a": 1})
    >>> read_json(path)
    {'a': 1}
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from memplay._atomic import write_text_atomic
from memplay.errors import ArchiveError, DataNotFound

__all__ = ["append_jsonl", "read_json", "read_jsonl", "write_json_atomic", "write_text_atomic"]




def write_json_atomic(path: Path, obj: Any) -> None:
    """Serialise ``obj`` as indented UTF-8 JSON and write it atomically (see module doc).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
    >>> write_json_atomic(p, [1, 2]); read_json(p)
    [1, 2]
    """
    write_text_atomic(Path(path), json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file, with errors that name the file and say what to do.

    >>> import tempfile, pathlib
    >>> try:
    ...     read_json(pathlib.Path(tempfile.mkdtemp()) / "missing.json")
    ... except DataNotFound as exc:
    ...     print("does not exist" in str(exc))
    True
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFound(f"{path} does not exist; check the directory or create it first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArchiveError(f"{path} is not valid JSON ({exc}); restore it or delete it") from exc


def append_jsonl(path: Path, rows: Iterable[Any]) -> int:
    """Append one JSON line per row (flushed and fsynced); return how many were written.

    Appending is not atomic, but a torn last line is skipped by :func:`read_jsonl`, so a
    crash loses at most the row being written.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> append_jsonl(p, [{"a": 1}, {"a": 2}])
    2
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
    with path.open("a", encoding="utf-8") as handle:
        handle.writelines(lines)
        handle.flush()
        os.fsync(handle.fileno())
    return len(lines)


def read_jsonl(path: Path) -> list[Any]:
    """Read a JSONL file; a missing file is empty and a torn final line is ignored.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "rows.jsonl"
    >>> _ = append_jsonl(p, [{"a": 1}]); read_jsonl(p)
    [{'a': 1}]
    """
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    rows: list[Any] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if number == len(lines):  # torn write from a crash: drop only the last line
                break
            raise ArchiveError(
                f"{path}:{number} is not valid JSON ({exc}); fix or remove that line"
            ) from exc
    return rows
