"""Reflection memory inside a memory archive: playbooks, critiques, reflections, insights.

A run keeps them as files under its memory directory (``playbooks/<family>.json``,
``critiques/trees/<id>.json``, ``critiques/revisions.jsonl``,
``reflexion/reflections.jsonl``, ``insights/<family>.json``), and the strategy memory of the
``mccfr`` variant as ``strategy/manifest.json`` + ``strategy/infostates.jsonl`` (carried the
same way). The archive carries them as
one JSONL member, ``reflection.jsonl``, one ``{"path", "text"}`` object per file. On import
every entry is checked (a known, safe path; text that parses as what the path says) before
anything is written, and nothing that exists is overwritten: JSONL rows are appended when
new, other files are written only when missing.

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from memplay.errors import ArchiveError, MemoryStoreError
from memplay.memory.reflection.documents import DocumentHistory
from memplay.memory.reflection.insights import Insight
from memplay.memory.reflection.jsonio import append_jsonl, read_jsonl, write_text_atomic
from memplay.memory.reflection.reflections import Reflection
from memplay.memory.reflection.revision import RevisionTrajectory
from memplay.memory.reflection.tree import CritiqueTree
from memplay.memory.strategy_memory import STRATEGY_KIND, read_infostate_rows

__all__ = ["MEMBER", "check_entries", "reflection_entries", "restore_reflection"]

MEMBER = "reflection.jsonl"
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}"


def _jsonl_rows(check: Callable[[str], Any]) -> Callable[[str], None]:
    def every_line(text: str) -> None:
        for line in text.splitlines():
            if line.strip():
                check(line)
    return every_line


def _playbook(text: str) -> None:
    for history in json.loads(text)["documents"].values():
        DocumentHistory.model_validate(history)


def _insights(text: str) -> None:
    for row in json.loads(text)["insights"]:
        Insight.model_validate(row)


def _strategy_manifest(text: str) -> None:
    if json.loads(text).get("kind") != STRATEGY_KIND:
        raise ArchiveError(f"strategy/manifest.json is not a {STRATEGY_KIND} manifest")


def _strategy_rows(text: str) -> None:
    for _ in read_infostate_rows(text.splitlines(), "strategy/infostates.jsonl"):
        pass


@dataclass(frozen=True)
class _FileKind:
    pattern: re.Pattern[str]
    check: Callable[[str], Any]  # raises when the text is not what the path says
    appended: bool = False  # JSONL whose new rows are appended on import


_KINDS = {
    "playbook": _FileKind(re.compile(rf"^playbooks/{_NAME}\.json$"), _playbook),
    "tree": _FileKind(re.compile(rf"^critiques/trees/{_NAME}\.json$"),
                      lambda text: CritiqueTree.from_json(json.loads(text))),
    "revisions": _FileKind(re.compile(r"^critiques/revisions\.jsonl$"),
                           _jsonl_rows(RevisionTrajectory.model_validate_json), appended=True),
    "reflections": _FileKind(re.compile(r"^reflexion/reflections\.jsonl$"),
                             _jsonl_rows(lambda line: Reflection(**json.loads(line))),
                             appended=True),
    "insights": _FileKind(re.compile(rf"^insights/{_NAME}\.json$"), _insights),
    "strategy": _FileKind(re.compile(r"^strategy/manifest\.json$"), _strategy_manifest),
    "infostates": _FileKind(re.compile(r"^strategy/infostates\.jsonl$"), _strategy_rows),
}
_GLOBS = ("playbooks/*.json", "critiques/trees/*.json", "critiques/revisions.jsonl",
          "reflexion/reflections.jsonl", "insights/*.json", "strategy/manifest.json",
          "strategy/infostates.jsonl")


def reflection_entries(memory_dir: str | Path) -> list[dict[str, str]]:
    """Every reflection file under ``memory_dir`` as ``{"path", "text"}`` (sorted by path).

    >>> import tempfile
    >>> reflection_entries(tempfile.mkdtemp())
    []
    """
    root = Path(memory_dir)
    files = [path for pattern in _GLOBS for path in root.glob(pattern)]
    entries = [{"path": p.relative_to(root).as_posix(), "text": p.read_text(encoding="utf-8")}
               for p in files if p.is_file()]
    return sorted(entries, key=lambda e: e["path"])


def _kind(path: str) -> _FileKind:
    for kind in _KINDS.values():
        if kind.pattern.match(path) and ".." not in path:
            return kind
    raise ArchiveError(f"reflection file {path!r} is not a playbook, critique tree, revisions, "
                       "reflections or insights file; refusing the archive: export it again")


def _check_text(kind: _FileKind, path: str, text: str) -> None:
    """Parse ``text`` as what ``path`` says it is (raises ArchiveError when it is not)."""
    try:
        kind.check(text)
    except (ValueError, KeyError, TypeError, ValidationError, ArchiveError,
            MemoryStoreError) as exc:
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
    (a JSONL file counts once when any new row was appended)."""
    root, written = Path(memory_dir), 0
    for entry in entries:
        target = root / entry["path"]
        if _kind(entry["path"]).appended:
            known = {json.dumps(r, sort_keys=True) for r in read_jsonl(target)}
            new = [r for r in (json.loads(x) for x in entry["text"].splitlines() if x.strip())
                   if json.dumps(r, sort_keys=True) not in known]
            written += int(bool(append_jsonl(target, new))) if new else 0
        elif not target.exists():
            write_text_atomic(target, entry["text"])
            written += 1
    return written
