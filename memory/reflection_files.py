"""Reflection memory inside a memory archive: the files each method writes, registered by kind.

A run keeps what its reflection methods write as files under its memory directory, each method
in its own folder (``playbooks/``, ``critiques/``, ``reflexion/``, ``insights/``; see
:mod:`memplay.agents.methods`), and the strategy memory of the ``mccfr`` variant as
``strategy/manifest.json`` + ``strategy/infostates.jsonl``. The archive carries them as one
JSONL member, ``reflection.jsonl``, one ``{"path", "text"}`` object per file. On import every
entry is checked (a known, safe path; text that parses as what the path says) before anything
is written, and nothing that exists is overwritten: JSONL rows are appended when new, other
files are written only when missing.

This layer knows no method's format: each method registers its files
(:func:`register_reflection_file`; the built-in ones in ``memplay.agents.methods.<name>.files``,
registered when that module is imported). Those modules are named as entry points of the
group ``memplay.reflection_files`` (pyproject.toml), which this module imports before it lists
or checks any file, so a direct call of ``export_archive`` carries every method's files. The
strategy memory's two files, which this layer owns, are registered here.

    >>> import tempfile, pathlib
    >>> register_reflection_file("notes", "notes/*.txt", lambda text: None)
    >>> src, dst = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp())
    >>> (src / "notes").mkdir(); _ = (src / "notes" / "a.txt").write_text("hello")
    >>> entries = reflection_entries(src)
    >>> [e["path"] for e in entries]
    ['notes/a.txt']
    >>> restore_reflection(check_entries(entries), dst)
    1
    >>> REFLECTION_FILES.unregister("notes")
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from memplay.errors import ArchiveError, MemoryStoreError
from memplay.memory.jsonio import append_jsonl, read_jsonl, write_text_atomic
from memplay.memory.strategy_memory import STRATEGY_KIND, read_infostate_rows
from memplay.registry import Registry

__all__ = ["MEMBER", "PLUGIN_GROUP", "REFLECTION_FILES", "ReflectionFile", "check_entries",
           "jsonl_rows", "load_registered_methods", "reflection_entries",
           "register_reflection_file", "restore_reflection"]

MEMBER = "reflection.jsonl"
# a file name a pattern's "*" may stand for: no folder, no leading dot
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}"


@dataclass(frozen=True)
class ReflectionFile:
    """One kind of reflection file: where it lies and how its text is checked.

    ``glob`` is relative to the memory directory, with at most a ``*`` for a file name
    (``"playbooks/*.json"``); ``check`` raises when the text is not what the path says;
    ``appended`` marks JSONL whose new rows are appended on import.

    >>> ReflectionFile("insights/*.json", json.loads).matches("insights/FrozenLake.json")
    True
    """

    glob: str
    check: Callable[[str], Any]
    appended: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        """The glob as an anchored regex whose ``*`` is one safe file name."""
        return re.compile("^" + re.escape(self.glob).replace(r"\*", _NAME) + "$")

    def matches(self, path: str) -> bool:
        """True when ``path`` (relative, POSIX) is a file of this kind."""
        return ".." not in path and bool(self.pattern.match(path))


REFLECTION_FILES: Registry[ReflectionFile] = Registry("reflection file")


def register_reflection_file(name: str, glob: str, check: Callable[[str], Any],
                             appended: bool = False) -> None:
    """Let archives carry the files at ``glob`` under a memory directory (see the module).

    >>> register_reflection_file("scratch", "scratch/*.json", json.loads)
    >>> "scratch" in REFLECTION_FILES
    True
    >>> REFLECTION_FILES.unregister("scratch")
    """
    REFLECTION_FILES.register(name, ReflectionFile(glob, check, appended))


def jsonl_rows(check: Callable[[str], Any]) -> Callable[[str], None]:
    """A check of JSONL text: ``check`` on every non-empty line.

    >>> jsonl_rows(json.loads)('{"a": 1}\\n\\n[2]\\n')
    """
    def every_line(text: str) -> None:
        for line in text.splitlines():
            if line.strip():
                check(line)
    return every_line


def _strategy_manifest(text: str) -> None:
    if json.loads(text).get("kind") != STRATEGY_KIND:
        raise ArchiveError(f"strategy/manifest.json is not a {STRATEGY_KIND} manifest")


def _strategy_rows(text: str) -> None:
    for _ in read_infostate_rows(text.splitlines(), "strategy/infostates.jsonl"):
        pass


register_reflection_file("strategy", "strategy/manifest.json", _strategy_manifest)
register_reflection_file("infostates", "strategy/infostates.jsonl", _strategy_rows)


#: Entry-point group of the modules that register reflection files on import: the built-in
#: methods list theirs in pyproject.toml, and a package of your own may add its own.
PLUGIN_GROUP = "memplay.reflection_files"


@cache
def load_registered_methods() -> list[str]:
    """Import every module of the :data:`PLUGIN_GROUP` entry points (once), so that the files
    of every installed method are known here, although this layer names none of them.

    >>> "memplay.agents.methods.playbook.files" in load_registered_methods()
    True
    """
    loaded = []
    for point in entry_points(group=PLUGIN_GROUP):
        point.load()
        loaded.append(point.value)
    return loaded


def _kinds() -> list[ReflectionFile]:
    load_registered_methods()  # before listing: an export must never leave a method out
    return [REFLECTION_FILES.get(name) for name in REFLECTION_FILES]


def reflection_entries(memory_dir: str | Path) -> list[dict[str, str]]:
    """Every registered reflection file under ``memory_dir`` as ``{"path", "text"}`` (sorted
    by path).

    >>> import tempfile
    >>> reflection_entries(tempfile.mkdtemp())
    []
    """
    root = Path(memory_dir)
    files = {path for kind in _kinds() for path in root.glob(kind.glob)}
    entries = [{"path": p.relative_to(root).as_posix(), "text": p.read_text(encoding="utf-8")}
               for p in files if p.is_file()]
    return sorted(entries, key=lambda e: e["path"])


def _kind(path: str) -> ReflectionFile:
    for kind in _kinds():
        if kind.matches(path):
            return kind
    known = ", ".join(kind.glob for kind in _kinds())
    raise ArchiveError(f"reflection file {path!r} is none of the known kinds ({known}); refusing "
                       "the archive: export it again (a method's files are known once its "
                       "package, memplay.agents.methods.<name>, is imported)")


def _check_text(kind: ReflectionFile, path: str, text: str) -> None:
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
    memplay.errors.ArchiveError: reflection file '../etc/passwd' is none of the known kinds ...
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
