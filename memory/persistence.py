"""Crash-safe memory directories: atomic commit, checksummed manifest, one-writer lock.

A memory directory (for a run: ``<run>/memory/``) holds ``manifest.json`` plus data files
(``items.jsonl`` and ``index.faiss`` for a store). Saving never edits it in place:

1. every file is written into a hidden sibling temp directory and fsynced;
2. ``manifest.json`` (format version, kind, embedder, counts, sha256 of every file) goes last;
3. the old directory is renamed aside, the temp directory renamed in, the old one deleted.

A crash in step 1 or 2 leaves the last good directory untouched; a crash between the two
renames in step 3 is repaired by :func:`recover` (which a read runs first unless a writer
holds the lock). Only one
process may write a directory: :class:`DirectoryLock` holds ``fcntl.flock`` on a sibling
``<name>.lock`` file and a second writer gets :class:`~memplay.errors.StoreLockedError`.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = commit_directory(root / "mem", lambda tmp: (tmp / "a.txt").write_text("hi"),
    ...                      {"kind": "demo"})
    >>> read_manifest(root / "mem", kind="demo")["files"]["a.txt"]["bytes"]
    2
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memplay.errors import ArchiveError, EmbedderMismatch, StoreLockedError
from memplay.memory.embedders import Embedder

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "DirectoryLock",
    "EmbedderRecord",
    "FileRecord",
    "WriterLock",
    "check_embedder",
    "check_format",
    "commit_directory",
    "fsync_path",
    "read_manifest",
    "recover",
    "sha256_file",
    "validate_manifest",
]

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
_OLD_SUFFIX = ".old"
ShapeT = TypeVar("ShapeT", bound=BaseModel)


class EmbedderRecord(BaseModel):
    """The ``embedder`` entry of a manifest: name and dimension.

    >>> EmbedderRecord(name="hash-3gram-8", dim=8).dim
    8
    """

    model_config = ConfigDict(extra="allow", strict=True)
    name: str = Field(min_length=1, max_length=512)
    dim: int = Field(ge=1, le=1 << 16)


class FileRecord(BaseModel):
    """One file of a saved store or archive: its sha256 and size (checked on load).

    >>> FileRecord(sha256="0" * 64, bytes=3).bytes
    3
    """

    model_config = ConfigDict(extra="forbid", strict=True)
    sha256: str
    bytes: int = Field(ge=0)


class _ManifestBase(BaseModel):
    model_config = ConfigDict(extra="allow")
    files: dict[str, FileRecord] = Field(default_factory=dict)


def validate_manifest(manifest: object, model: type[ShapeT], where: object) -> ShapeT:
    """Check a loaded manifest against ``model``; ArchiveError naming the field otherwise.

    Manifests may come from elsewhere (a copied run directory), so their shape is checked
    before any field is used.

    >>> validate_manifest({"name": "x", "dim": 0}, EmbedderRecord, "m.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ArchiveError: m.json is malformed: dim=0: Input should be greater than ...
    """
    try:
        return model.model_validate(manifest)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or "<root>"
        raise ArchiveError(f"{where} is malformed: {field}={err.get('input')!r}: {err['msg']}; "
                           "restore it from a backup or an exported archive") from None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"")
    >>> sha256_file(p)[:8]
    'e3b0c442'
    """
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    """fsync a file or directory so its content (or its entries) reach the disk.

    >>> import tempfile
    >>> fsync_path(tempfile.gettempdir())
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _aside(directory: Path) -> Path:
    return directory.parent / f".{directory.name}{_OLD_SUFFIX}"


def recover(directory: str | Path) -> None:
    """Finish or undo a save that crashed: restore the old directory, drop stale temp dirs.

    >>> recover("/nonexistent/memplay-demo")  # nothing to do is fine
    """
    directory = Path(directory)
    old = _aside(directory)
    if old.exists() and not directory.exists():
        os.rename(old, directory)  # the crash hit between the two renames: roll back
    elif old.exists():
        shutil.rmtree(old)  # the crash hit after the swap: the new directory is complete
    if directory.parent.exists():
        for stale in directory.parent.glob(f".{directory.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _file_table(tmp: Path) -> dict[str, dict[str, Any]]:
    table = {}
    for path in sorted(tmp.rglob("*")):
        if path.is_file():
            fsync_path(path)
            name = path.relative_to(tmp).as_posix()
            table[name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return table


def commit_directory(directory: str | Path, write_files: Callable[[Path], object],
                     manifest: dict[str, Any]) -> Path:
    """Atomically replace ``directory`` with files written by ``write_files(tmp_dir)``.

    ``manifest`` gets ``format_version`` and a ``files`` table (sha256, bytes) added and is
    written as ``manifest.json``. See the module docstring for the crash guarantees.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "d"
    >>> _ = commit_directory(target, lambda tmp: (tmp / "x").write_text("1"), {"kind": "k"})
    >>> _ = commit_directory(target, lambda tmp: (tmp / "y").write_text("2"), {"kind": "k"})
    >>> sorted(p.name for p in target.iterdir())  # replaced as a whole
    ['manifest.json', 'y']
    """
    directory = Path(directory).absolute()
    directory.parent.mkdir(parents=True, exist_ok=True)
    recover(directory)
    tmp = directory.parent / f".{directory.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        write_files(tmp)
        full = {"format_version": FORMAT_VERSION, **manifest, "files": _file_table(tmp)}
        (tmp / MANIFEST_NAME).write_text(json.dumps(full, indent=2, sort_keys=True))
        fsync_path(tmp / MANIFEST_NAME)
        fsync_path(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = _aside(directory)
    if directory.exists():
        os.rename(directory, old)
    os.rename(tmp, directory)
    fsync_path(directory.parent)
    shutil.rmtree(old, ignore_errors=True)
    return directory


def check_format(manifest: dict[str, Any], where: object, *, key: str, value: str,
                 version: int) -> None:
    """ArchiveError unless ``manifest[key] == value`` and its format_version is ``version``.

    >>> check_format({"kind": "a", "format_version": 2}, "m.json", key="kind", value="a",
    ...              version=1)
    Traceback (most recent call last):
    ...
    memplay.errors.ArchiveError: m.json has format_version 2; this memplay reads version 1: ...
    """
    if manifest.get(key) != value:
        raise ArchiveError(f"{where} holds {key} {manifest.get(key)!r}, expected {value!r}")
    found = manifest.get("format_version")
    if type(found) is not int or found != version:  # True == 1 in Python
        raise ArchiveError(f"{where} has format_version {found!r}; this memplay reads version "
                           f"{version}: upgrade memplay")


def read_manifest(directory: str | Path, *, kind: str, verify: bool = True) -> dict[str, Any]:
    """Load and validate ``manifest.json`` of a directory written by :func:`commit_directory`.

    Raises ArchiveError for a missing manifest, another ``kind``, an unknown format version, or
    (with ``verify``) a file whose size or sha256 does not match.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "d"
    >>> _ = commit_directory(target, lambda tmp: (tmp / "x").write_text("1"), {"kind": "k"})
    >>> _ = (target / "x").write_text("2")
    >>> read_manifest(target, kind="k")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.ArchiveError: .../x fails its sha256 check; ...
    """
    directory = Path(directory)
    _recover_unless_writing(directory)
    path = directory / MANIFEST_NAME
    for _ in range(20):  # a writer may be between its two renames: give it a moment
        if path.is_file() or not _aside(directory).exists():
            break
        time.sleep(0.05)
    if not path.is_file():
        raise ArchiveError(f"{directory} has no {MANIFEST_NAME}; it is not a memplay {kind} "
                           "directory (save one first, or pass the right path)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{path} is not valid JSON ({exc}); restore the directory") from exc
    validate_manifest(manifest, _ManifestBase, path)
    check_format(manifest, directory, key="kind", value=kind, version=FORMAT_VERSION)
    if verify:
        _verify_files(directory, manifest.get("files", {}))
    return dict(manifest)


def _recover_unless_writing(directory: Path) -> None:
    # A reader must not "repair" a directory that a live writer is in the middle of saving,
    # nor create anything where it may only read (a missing parent, a read-only mount).
    if not directory.parent.is_dir():
        return
    try:
        lock = DirectoryLock(directory)
    except (StoreLockedError, PermissionError):
        return
    try:
        recover(directory)
    finally:
        lock.release()


def _verify_files(directory: Path, files: dict[str, dict[str, Any]]) -> None:
    for name, meta in files.items():
        path = directory / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            # Only ever read, but a copied directory must not make us hash files elsewhere.
            raise ArchiveError(f"{directory}/{MANIFEST_NAME} lists the unsafe path {name!r}; "
                               "restore the directory from a backup or an exported archive")
        if path.is_symlink():
            raise ArchiveError(f"{path} is a symbolic link; a memory directory holds plain "
                               "files only: replace the link with the file it points to")
        if not path.is_file() or path.stat().st_size != meta.get("bytes"):
            raise ArchiveError(f"{path} is missing or has the wrong size; the directory is "
                               "corrupt: restore it from a backup or an exported archive")
        if sha256_file(path) != meta.get("sha256"):
            raise ArchiveError(f"{path} fails its sha256 check; the directory is corrupt: "
                               "restore it from a backup or an exported archive")


def check_embedder(manifest: dict[str, Any], embedder: Embedder, where: object) -> None:
    """Raise EmbedderMismatch when ``embedder`` differs from the one recorded in ``manifest``.

    >>> from memplay.memory.embedders import HashEmbedder
    >>> check_embedder({"embedder": {"name": "hash-3gram-8", "dim": 8}}, HashEmbedder(8), "x")
    """
    saved = manifest.get("embedder", {})
    if saved.get("name") != embedder.name or saved.get("dim") != embedder.dim:
        raise EmbedderMismatch(
            f"{where} was written with embedder {saved.get('name')!r} (dim {saved.get('dim')}) "
            f"but {embedder.name!r} (dim {embedder.dim}) was given; load it with the same "
            "embedder, or export an archive and import it with this one to re-embed"
        )


class DirectoryLock:
    """Exclusive, non-blocking write lock on a directory (``flock`` on ``<dir>.lock``).

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "memory"
    >>> with DirectoryLock(target):
    ...     DirectoryLock(target)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    memplay.errors.StoreLockedError: ...
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory).absolute()
        self.path = self.directory.parent / f"{self.directory.name}.lock"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLockedError(
                f"{self.directory} is being written by another store or process (lock "
                f"{self.path} is held); close() the other store or wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        # Closing the descriptor releases the lock even if the owner forgets release().
        self._finalizer = weakref.finalize(self, _close_quietly, fd)

    def release(self) -> None:
        """Release the lock (idempotent).

        >>> import tempfile, pathlib
        >>> lock = DirectoryLock(pathlib.Path(tempfile.mkdtemp()) / "m")
        >>> lock.release(); lock.release()
        """
        self._finalizer()

    def __enter__(self) -> DirectoryLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


class WriterLock:
    """Mixin of the stores: the directory's one-writer lock, taken by the first save of a
    directory (:meth:`take_lock`) and held until :meth:`close`.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "memory"
    >>> store = WriterLock(); store.take_lock(target); store.close(); store.close()
    """

    _lock: DirectoryLock | None = None

    def take_lock(self, directory: str | Path) -> None:
        """Hold ``directory``'s lock (a lock on another directory is released first)."""
        path = Path(directory).absolute()
        if self._lock is not None and self._lock.directory == path:
            return
        self.close()
        self._lock = DirectoryLock(path)

    def close(self) -> None:
        """Release the directory write lock taken by ``save`` (safe to call twice)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
