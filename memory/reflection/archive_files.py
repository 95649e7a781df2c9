"""Reflection memory inside a memory archive: playbooks, critique trees and revisions.

A run keeps them as files under its memory directory (``playbooks/<family>.json``,
``critiques/trees/<id>.json``, ``critiques/revisions.jsonl``). The archive carries them
as one JSONL member, ``reflection.jsonl``, one ``{"path", "text"}`` object per file. On
import every entry is checked (a known, safe path; text that parses as what the path says)
before anything is written, and nothing that exists is overwritten: revisions are
appended when new, other files are written only when missing.

    >>> import tempfile, pathlib
    >>> from memplay.memory.reflection.tree import CritiqueTree
    >>> src, dst = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp())
    >>> CritiqueTree(env_id="x", obs="s").save(src / "critiques" / "trees" / "x-seed0-0000.json")
    >>> entries = reflection_entries(src)
    >>> [e["path"] for e in entries]
    ['critiques/trees/x-seed0-0000.json']
    >>> restore_reflection(check_entries(entries), dst)
    1
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from memplay.errors import ArchiveError
from memplay.memory.reflection.documents import DocumentHistory
from memplay.memory.reflection.jsonio import append_jsonl, read_jsonl, write_text_atomic
from memplay.memory.reflection.revision import RevisionTrajectory
from memplay.memory.reflection.tree import CritiqueTree

__all__ = ["MEMBER", "check_entries", "reflection_entries", "restore_reflection"]

MEMBER = "reflection.jsonl"
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}"
_PATTERNS = {
    "playbook": re.compile(rf"^playbooks/{_NAME}\.json$"),
    "tree": re.compile(rf"^critiques/trees/{_NAME}\.json$"),
    "revisions": re.compile(r"^critiques/revisions\.jsonl$"),
}
_REVISIONS = "critiques/revisions.jsonl"


def reflection_entries(memory_dir: str | Path) -> list[dict[str, str]]:
    """Every reflection file under ``memory_dir`` as ``{"path", "text"}`` (sorted by path).

    >>> import tempfile
    >>> reflection_entries(tempfile.mkdtemp())
    []
    """
    root = Path(memory_dir)
    files = [*root.glob("playbooks/*.json"), *root.glob("critiques/trees/*.json"),
             *root.glob(_REVISIONS)]
    entries = [{"path": p.relative_to(root).as_posix(), "text": p.read_text(encoding="utf-8")}
               for p in files if p.is_file()]
    return sorted(entries, key=lambda e: e["path"])


def _kind(path: str) -> str:
    for kind, pattern in _PATTERNS.items():
        if pattern.match(path) and ".." not in path:
            return kind
    raise ArchiveError(f"reflection file {path!r} is not a playbook, critique tree or "
                       "revisions file; refusing the archive: export it again")


def _check_text(kind: str, path: str, text: str) -> None:
    """Parse ``text`` as what ``path`` says it is (raises ArchiveError when it is not)."""
    try:
        if kind == "revisions":
            for line in text.splitlines():
                if line.strip():
                    RevisionTrajectory.model_validate_json(line)
        elif kind == "tree":
            CritiqueTree.from_json(json.loads(text))
        else:
            documents = json.loads(text)["documents"]
            for history in documents.values():
                DocumentHistory.model_validate(history)
    except (ValueError, KeyError, TypeError, ValidationError, ArchiveError) as exc:
        raise ArchiveError(f"reflection file {path!r} in the archive is invalid ({exc}); "
                           "export it again") from None


def check_entries(entries: list[Any]) -> list[dict[str, str]]:
    """Validate entries read from an archive; return them as ``{"path", "text"}`` dicts.

    >>> check_entries([{"path": "../etc/passwd", "text": ""}])
    Traceback (most recent call last):
    ...
    memplay.errors.ArchiveError: reflection file '../etc/passwd' is not a playbook, ...
    """
    checked = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) \
                or not isinstance(entry.get("text"), str):
            raise ArchiveError(f"{MEMBER} holds {str(entry)[:80]!r}, not a {{path, text}} "
                               "object; export the archive again")
        _check_text(_kind(entry["path"]), entry["path"], entry["text"])
        checked.append({"path": entry["path"], "text": entry["text"]})
    return checked


def restore_reflection(entries: list[dict[str, str]], memory_dir: str | Path) -> int:
    """Write checked entries under ``memory_dir`` without overwriting; return files written
    (revisions count once when any new one was appended)."""
    root, written = Path(memory_dir), 0
    for entry in entries:
        target = root / entry["path"]
        if entry["path"] == _REVISIONS:
            known = {json.dumps(r, sort_keys=True) for r in read_jsonl(target)}
            new = [r for r in (json.loads(x) for x in entry["text"].splitlines() if x.strip())
                   if json.dumps(r, sort_keys=True) not in known]
            written += int(bool(append_jsonl(target, new))) if new else 0
        elif not target.exists():
            write_text_atomic(target, entry["text"])
            written += 1
    return written
