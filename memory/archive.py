"""Export a memory to one portable ``.tar.gz`` archive and import it anywhere, validated.

The archive holds flat, open-format members and nothing else:

* ``manifest.json``: format name and version, embedder name and dim, counts, sha256 and size
  of every other member;
* ``items.jsonl`` (one :class:`MemoryItem` per line) and ``vectors.npy`` (their intent vectors,
  float32, same order; read with ``allow_pickle=False``);
* ``steps.jsonl`` (optional): the rows of a :class:`StepMemory`;
* ``reflection.jsonl`` (optional): the reflection files of the memory directory, of the kinds
  registered in :mod:`memplay.memory.reflection_files` (the methods' playbooks, critique trees
  and revisions, reflections, insights, made known through their entry points; the strategy
  memory always).

Import reads members into memory (nothing is extracted to disk) and refuses, with
:class:`~memplay.errors.ArchiveError`, anything unexpected: links, directories, unknown or
unsafe names (``..``, absolute paths), oversized members, bad checksums, unknown versions.
Items whose id or (kind, intent) already exists are merged; when the target store has another
embedder, intents (and step states) are re-embedded.

    >>> import tempfile, pathlib
    >>> from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
    >>> store = FaissMemoryStore(HashEmbedder(32))
    >>> _ = store.add([MemoryItem(id="a", intent="open the door", q=0.5)])
    >>> path = export_archive(store, pathlib.Path(tempfile.mkdtemp()) / "mem.tar.gz")
    >>> report = import_archive(path)
    >>> report.store.get(["a"])[0].q, report.added
    (0.5, 1)
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import tarfile
import tempfile
import tokenize
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from memplay.errors import ArchiveError, ConfigError, MemplayError
from memplay.memory.archive_merge import merge_into_store
from memplay.memory.embedders import Embedder, embedder_by_name
from memplay.memory.faiss_store import FaissMemoryStore
from memplay.memory.item import MemoryItem, utc_now
from memplay.memory.persistence import EmbedderRecord, FileRecord, check_format, fsync_path
from memplay.memory.reflection_files import MEMBER as REFLECTION
from memplay.memory.reflection_files import check_entries, reflection_entries
from memplay.memory.step_memory import StepMemory, StepRow
from memplay.memory.store import MemoryStore

__all__ = ["ARCHIVE_FORMAT", "ARCHIVE_VERSION", "ArchiveLimits", "ImportReport",
           "export_archive", "import_archive", "read_archive", "read_reflection"]

ARCHIVE_FORMAT = "memplay-memory-archive"
ARCHIVE_VERSION = 1
MANIFEST = "manifest.json"
MEMBERS = frozenset({MANIFEST, "items.jsonl", "vectors.npy", "steps.jsonl", "reflection.jsonl"})
_SUFFIXES = (".tar.gz", ".tgz")


@dataclass(frozen=True)
class ArchiveLimits:
    """Size limits an import enforces before reading anything into memory.

    >>> ArchiveLimits().max_member_bytes // 2**30
    4
    """

    max_member_bytes: int = 4 << 30
    max_total_bytes: int = 8 << 30
    max_members: int = 8


@dataclass
class ImportReport:
    """What :func:`import_archive` did: the target store(s) and the counts.

    >>> from memplay.memory import FaissMemoryStore, HashEmbedder
    >>> ImportReport(FaissMemoryStore(HashEmbedder(8)), None, 0, 0, False, {}).added
    0
    """

    store: MemoryStore
    step_memory: StepMemory | None
    added: int
    merged: int
    reembedded: bool
    manifest: dict[str, Any]
    reflection: list[dict[str, str]] = field(default_factory=list)


class _ManifestShape(BaseModel):
    # An archive comes from elsewhere: every field the reader uses is type-checked first,
    # so a hand-edited manifest yields ArchiveError instead of a KeyError/TypeError later.
    model_config = ConfigDict(extra="allow", strict=True)
    embedder: EmbedderRecord
    files: dict[str, FileRecord]
    counts: dict[str, int]


# ---------------------------------------------------------------------- export
def _items_bytes(items: list[MemoryItem]) -> bytes:
    return "".join(json.dumps(it.model_dump(mode="json"), ensure_ascii=False) + "\n"
                   for it in items).encode("utf-8")


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    return buf.getvalue()


def export_archive(store: MemoryStore, path: str | Path,
                   step_memory: StepMemory | None = None,
                   reflection_dir: str | Path | None = None) -> Path:
    """Write ``store`` (and optionally ``step_memory``) to a ``.tar.gz`` at ``path``, atomically.

    ``reflection_dir`` (a memory directory) adds its playbooks, critique trees and
    revisions. Returns the archive path. See the module docstring for the members.

    >>> import tempfile, pathlib, tarfile
    >>> from memplay.memory import FaissMemoryStore, HashEmbedder
    >>> path = export_archive(FaissMemoryStore(HashEmbedder(8)),
    ...                       pathlib.Path(tempfile.mkdtemp()) / "empty.tar.gz")
    >>> tarfile.open(path).getnames()
    ['manifest.json', 'items.jsonl', 'vectors.npy']
    """
    path = Path(path)
    if not path.name.endswith(_SUFFIXES):
        raise ConfigError(f"archive path {path} must end with .tar.gz or .tgz; "
                          f"e.g. {path.with_suffix('')}.tar.gz")
    items = list(store.items())
    members = {"items.jsonl": _items_bytes(items),
               "vectors.npy": _npy_bytes(store.vectors([it.id for it in items]))}
    if step_memory is not None:
        members["steps.jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n"
                                         for r in step_memory.to_rows()).encode("utf-8")
    entries = reflection_entries(reflection_dir) if reflection_dir is not None else []
    if entries:
        members[REFLECTION] = "".join(json.dumps(e, ensure_ascii=False) + "\n"
                                      for e in entries).encode("utf-8")
    manifest = {
        "format": ARCHIVE_FORMAT, "format_version": ARCHIVE_VERSION,
        "created_at": utc_now().isoformat(),
        "embedder": {"name": store.embedder.name, "dim": store.embedder.dim},
        "counts": {"items": len(items), "states": len(step_memory) if step_memory else 0,
                   "reflection_files": len(entries)},
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in members.items()},
    }
    members = {MANIFEST: json.dumps(manifest, indent=2).encode("utf-8"), **members}
    _write_tar_atomically(path, members)
    return path


def _write_tar_atomically(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tar.addfile(info, io.BytesIO(data))
        fsync_path(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------- import
def _check_member(member: tarfile.TarInfo, limits: ArchiveLimits) -> None:
    name = member.name
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or "\x00" in name:
        raise ArchiveError(f"archive member {name!r} has an unsafe path (absolute or '..'); "
                           "refusing the archive: re-export it with export_archive()")
    if not member.isfile():
        raise ArchiveError(f"archive member {name!r} is not a regular file (link, directory "
                           "or device); refusing the archive: re-export it with export_archive()")
    if name not in MEMBERS:
        raise ArchiveError(f"archive member {name!r} is unexpected (allowed: "
                           f"{sorted(MEMBERS)}); refusing the archive")
    if member.size > limits.max_member_bytes:
        raise ArchiveError(f"archive member {name!r} is {member.size} bytes, over the limit of "
                           f"{limits.max_member_bytes}; raise ArchiveLimits.max_member_bytes")


def _read_members(path: Path, limits: ArchiveLimits) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                _check_member(member, limits)
                total += member.size
                if len(members) >= limits.max_members or total > limits.max_total_bytes:
                    raise ArchiveError(f"{path} has too many members or bytes (limits "
                                       f"{limits}); refusing it")
                if member.name in members:
                    raise ArchiveError(f"{path} contains {member.name!r} twice; refusing it")
                handle = tar.extractfile(member)
                members[member.name] = handle.read() if handle is not None else b""
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveError(f"{path} is not a readable .tar.gz archive ({exc}); "
                           "check the file or export it again") from None
    return members


def _load_manifest(path: Path, members: dict[str, bytes]) -> dict[str, Any]:
    try:
        manifest = json.loads(members[MANIFEST])
    except (KeyError, ValueError):
        raise ArchiveError(f"{path} has no valid {MANIFEST}; it is not a memplay archive") from None
    if not isinstance(manifest, dict):
        raise ArchiveError(f"{path}: {MANIFEST} holds a {type(manifest).__name__}, not an "
                           "object; it is not a memplay archive")
    check_format(manifest, path, key="format", value=ARCHIVE_FORMAT, version=ARCHIVE_VERSION)
    try:
        _ManifestShape.model_validate(manifest)
    except ValidationError as exc:
        raise ArchiveError(f"{path}: {MANIFEST} is malformed ({exc.errors()[0]['loc']}: "
                           f"{exc.errors()[0]['msg']}); export the archive again") from None
    return manifest


def _check_manifest(path: Path, members: dict[str, bytes]) -> dict[str, Any]:
    manifest = _load_manifest(path, members)
    files = manifest["files"]
    if set(files) != set(members) - {MANIFEST} or "items.jsonl" not in files:
        raise ArchiveError(f"{path}: members {sorted(members)} do not match the manifest's "
                           f"files {sorted(files)}; the archive is incomplete or tampered with")
    for name, meta in files.items():
        data = members[name]
        if len(data) != meta["bytes"] or hashlib.sha256(data).hexdigest() != meta["sha256"]:
            raise ArchiveError(f"{path}: member {name!r} fails its sha256/size check; the "
                               "archive is corrupt or was modified: export it again")
    return manifest


def _lines(path: Path, members: dict[str, bytes], name: str) -> list[str]:
    try:
        return members.get(name, b"").decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"{path}: {name} is not UTF-8 text ({exc}); export it again") from None


def read_archive(path: str | Path, limits: ArchiveLimits | None = None
                 ) -> tuple[dict[str, Any], list[MemoryItem], np.ndarray, list[dict[str, Any]]]:
    """Validate an archive and return ``(manifest, items, vectors, step_rows)``.

    >>> import tempfile, pathlib
    >>> from memplay.memory import FaissMemoryStore, HashEmbedder
    >>> store = FaissMemoryStore(HashEmbedder(8))
    >>> _ = store.add([MemoryItem(intent="x")])
    >>> path = export_archive(store, pathlib.Path(tempfile.mkdtemp()) / "m.tar.gz")
    >>> manifest, items, vectors, steps = read_archive(path)
    >>> manifest["counts"]["items"], vectors.shape, steps
    (1, (1, 8), [])
    """
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(f"archive {path} does not exist; check the path")
    members = _read_members(path, limits or ArchiveLimits())
    manifest = _check_manifest(path, members)
    items = [_parse_item(path, n, line)
             for n, line in enumerate(_lines(path, members, "items.jsonl"), 1)]
    vectors = _parse_vectors(path, members.get("vectors.npy"), len(items), manifest)
    steps = [_parse_step(path, n, line)
             for n, line in enumerate(_lines(path, members, "steps.jsonl"), 1)]
    counts = {"items": len(items), "states": len(steps)}
    if any(manifest["counts"].get(k, 0) != v for k, v in counts.items()):
        raise ArchiveError(f"{path}: manifest counts {manifest['counts']} do not match the "
                           f"members ({counts}); the archive is tampered with: export it again")
    return manifest, items, vectors, steps


def read_reflection(path: str | Path, limits: ArchiveLimits | None = None
                    ) -> list[dict[str, str]]:
    """The checked reflection files (playbooks, critique trees, revisions) of an archive.

    >>> import tempfile, pathlib
    >>> from memplay.memory import FaissMemoryStore, HashEmbedder
    >>> path = export_archive(FaissMemoryStore(HashEmbedder(8)),
    ...                       pathlib.Path(tempfile.mkdtemp()) / "m.tar.gz")
    >>> read_reflection(path)
    []
    """
    path = Path(path)
    members = _read_members(path, limits or ArchiveLimits())
    _check_manifest(path, members)
    entries = []
    for n, line in enumerate(_lines(path, members, REFLECTION), 1):
        try:
            entries.append(json.loads(line))
        except ValueError:
            raise ArchiveError(f"{path}: {REFLECTION} line {n} is not JSON; export it again"
                               ) from None
    return check_entries(entries)


def _parse_item(path: Path, line_no: int, line: str) -> MemoryItem:
    try:
        item = MemoryItem.model_validate_json(line)
    except ValueError as exc:
        raise ArchiveError(f"{path}: items.jsonl line {line_no} is not a valid memory item "
                           f"({exc})") from None
    if not math.isfinite(item.q):
        # A NaN/inf Q would poison every z-score and Q update it touches.
        raise ArchiveError(f"{path}: items.jsonl line {line_no} has q={item.q}; Q-values must "
                           "be finite numbers: fix or drop that line")
    return item


def _parse_step(path: Path, line_no: int, line: str) -> dict[str, Any]:
    try:
        return StepRow.model_validate_json(line).model_dump()
    except ValueError as exc:
        raise ArchiveError(f"{path}: steps.jsonl line {line_no} is not a valid step row "
                           f"({exc})") from None


def _parse_vectors(path: Path, data: bytes | None, n: int, manifest: dict[str, Any]
                   ) -> np.ndarray:
    dim = manifest["embedder"]["dim"]
    if data is None:
        raise ArchiveError(f"{path} has no vectors.npy; export it again")
    try:
        vectors = _load_npy(data)
    except (ValueError, EOFError, OSError, TypeError, SyntaxError, tokenize.TokenError) as exc:
        # numpy parses the header with ast/tokenize, hence the unusual exception types.
        raise ArchiveError(f"{path}: vectors.npy is not a plain float array ({exc})") from None
    if not isinstance(vectors, np.ndarray) or vectors.shape != (n, dim) or \
            vectors.dtype != np.float32 or not np.isfinite(vectors).all():
        raise ArchiveError(f"{path}: vectors.npy has shape {getattr(vectors, 'shape', None)} "
                           f"{getattr(vectors, 'dtype', None)}, expected ({n}, {dim}) finite "
                           "float32; export it again")
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    # Exported vectors are unit length (or zero): anything else would skew every cosine.
    if not np.all((np.abs(norms - 1.0) < 1e-3) | (norms == 0.0)):
        raise ArchiveError(f"{path}: vectors.npy rows are not unit length (norms "
                           f"{norms.min():.3g}..{norms.max():.3g}); export it again")
    return vectors


def _load_npy(data: bytes) -> np.ndarray:
    """np.load, but the header's shape is checked against the bytes present *before* numpy
    allocates the array: a forged header must not make us allocate terabytes."""
    buf = io.BytesIO(data)
    version = np.lib.format.read_magic(buf)
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise ValueError(f"unsupported .npy version {version}")
    shape, _, dtype = readers[version](buf)
    needed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if dtype.hasobject or needed > len(data) - buf.tell():
        raise ValueError(f"header declares {shape} {dtype} but holds {len(data)} bytes")
    return np.load(io.BytesIO(data), allow_pickle=False)


def _archive_embedder(path: Path, manifest: dict[str, Any]) -> Embedder:
    """Rebuild the archive's embedder by name, but never from a local path it names: the
    archive is untrusted, and a path would make us load whatever model lies there."""
    name = manifest["embedder"]["name"]
    if name.startswith(("/", ".", "~")) or ".." in name or "\\" in name:
        raise ArchiveError(f"{path} names its embedder by the local path {name!r}; pass "
                           "embedder= (or a store) to import_archive to choose one yourself")
    try:
        return embedder_by_name(name)
    except (MemplayError, OSError, ValueError) as exc:
        raise ArchiveError(f"{path} needs embedder {name!r}, which cannot be loaded here "
                           f"({exc}); pass embedder= or a store to import into") from None


def import_archive(path: str | Path, store: MemoryStore | None = None, *,
                   embedder: Embedder | None = None, step_memory: StepMemory | None = None,
                   limits: ArchiveLimits | None = None) -> ImportReport:
    """Validate ``path`` and merge it into ``store`` (a new FaissMemoryStore if None).

    A new store uses ``embedder``, or the archive's embedder rebuilt by name. When the
    target's embedder differs from the archive's, intents are re-embedded. Step rows go into
    ``step_memory`` (a new one on the store's embedder if None and the archive has any).
    Imported memories and step values get provenance "import".

    >>> import tempfile, pathlib
    >>> from memplay.memory import FaissMemoryStore, HashEmbedder
    >>> source = FaissMemoryStore(HashEmbedder(16))
    >>> _ = source.add([MemoryItem(id="a", intent="open the door")])
    >>> path = export_archive(source, pathlib.Path(tempfile.mkdtemp()) / "m.tar.gz")
    >>> report = import_archive(path, FaissMemoryStore(HashEmbedder(32)))
    >>> report.reembedded, report.added, report.store.ids()
    (True, 1, ['a'])
    """
    manifest, items, vectors, steps = read_archive(path, limits)
    # Experience from another run is "import" here, whatever it was there.
    items = [it.model_copy(update={"metadata": {**it.metadata, "provenance": "import"}})
             for it in items]
    steps = [{**row, "sources": {"import": sum(v["visits"] for v in row["actions"].values())}}
             for row in steps]
    if store is None:
        store = FaissMemoryStore(embedder or _archive_embedder(Path(path), manifest))
    same = (store.embedder.name, store.embedder.dim) == (
        manifest["embedder"]["name"], manifest["embedder"]["dim"])
    added, merged = merge_into_store(store, items, vectors if same else None)
    if steps and step_memory is None:
        step_memory = StepMemory(store.embedder)
    if steps and step_memory is not None:
        step_memory.merge_rows(steps)
    return ImportReport(store, step_memory, added, merged, not same, manifest,
                        read_reflection(path, limits))
