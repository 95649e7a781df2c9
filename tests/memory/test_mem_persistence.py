"""Memory directories: atomic saves survive crashes, corruption is caught, one writer only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from memplay.errors import ArchiveError, StoreLockedError
from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
from memplay.memory.persistence import DirectoryLock, commit_directory, read_manifest, recover


def saved_store(path: Path, n: int = 5) -> FaissMemoryStore:
    store = FaissMemoryStore(HashEmbedder(32))
    store.add([MemoryItem(id=f"m{i}", intent=f"memory number {i}") for i in range(n)])
    store.save(path)
    return store


def test_layout_and_manifest(tmp_path: Path) -> None:
    saved_store(tmp_path / "memory").close()
    names = sorted(p.name for p in (tmp_path / "memory").iterdir())
    assert names == ["index.faiss", "items.jsonl", "manifest.json"]
    manifest = json.loads((tmp_path / "memory" / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["counts"] == {"items": 5}
    assert manifest["embedder"] == {"name": "hash-3gram-32", "dim": 32}
    assert set(manifest["files"]) == {"index.faiss", "items.jsonl"}
    assert not list(tmp_path.glob(".memory*"))  # no temp or aside directory left behind


def test_crash_while_writing_keeps_last_good_state(tmp_path: Path) -> None:
    store = saved_store(tmp_path / "memory")
    store.add([MemoryItem(id="new", intent="added after the good save")])

    def crash(tmp: Path) -> None:
        (tmp / "items.jsonl").write_text("half a fi")
        raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        commit_directory(tmp_path / "memory", crash, {"kind": "memplay.memory.store"})
    loaded = FaissMemoryStore.load(tmp_path / "memory")
    assert len(loaded) == 5 and "new" not in loaded
    assert not list(tmp_path.glob(".memory.tmp-*"))


def test_killed_process_mid_save_leaves_loadable_directory(tmp_path: Path) -> None:
    saved_store(tmp_path / "memory").close()
    script = textwrap.dedent(f"""
        import os
        from memplay.memory import FaissMemoryStore, MemoryItem
        store = FaissMemoryStore.load({str(tmp_path / "memory")!r})
        store.add([MemoryItem(id="x", intent="never saved")])
        def die(tmp):
            (tmp / "items.jsonl").write_text("torn")
            os._exit(9)
        store._write_files = die
        store.save({str(tmp_path / "memory")!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == 9, proc.stderr.decode()
    assert list(tmp_path.glob(".memory.tmp-*"))  # the torn temp dir is still there...
    loaded = FaissMemoryStore.load(tmp_path / "memory")  # ...and loading ignores/cleans it
    assert len(loaded) == 5 and not list(tmp_path.glob(".memory.tmp-*"))


def test_crash_between_renames_is_rolled_back(tmp_path: Path) -> None:
    saved_store(tmp_path / "memory").close()
    os.rename(tmp_path / "memory", tmp_path / ".memory.old")  # first rename done, then crash
    recover(tmp_path / "memory")
    assert len(FaissMemoryStore.load(tmp_path / "memory")) == 5


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    saved_store(tmp_path / "memory").close()
    items = tmp_path / "memory" / "items.jsonl"
    items.write_text(items.read_text().replace("memory number 1", "memory number 7"))
    with pytest.raises(ArchiveError, match=r"items\.jsonl fails its sha256"):
        FaissMemoryStore.load(tmp_path / "memory")


def test_unknown_version_missing_manifest_and_wrong_kind(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"no manifest\.json"):
        FaissMemoryStore.load(tmp_path / "nothing")
    saved_store(tmp_path / "memory").close()
    path = tmp_path / "memory" / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ArchiveError, match="format_version 99"):
        FaissMemoryStore.load(tmp_path / "memory")
    with pytest.raises(ArchiveError, match=r"expected 'memplay\.memory\.step'"):
        read_manifest(tmp_path / "memory", kind="memplay.memory.step")


def test_lock_refuses_writer_in_another_process(tmp_path: Path) -> None:
    store = saved_store(tmp_path / "memory")
    script = textwrap.dedent(f"""
        from memplay.errors import StoreLockedError
        from memplay.memory import FaissMemoryStore
        store = FaissMemoryStore.load({str(tmp_path / "memory")!r})
        try:
            store.save({str(tmp_path / "memory")!r})
        except StoreLockedError as exc:
            print("LOCKED", exc)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.startswith("LOCKED") and "close()" in out.stdout, out.stderr
    store.close()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and "LOCKED" not in out.stdout, out.stderr


def test_lock_is_released_when_the_owner_is_garbage_collected(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path / "memory")
    with pytest.raises(StoreLockedError):
        DirectoryLock(tmp_path / "memory")
    del lock
    DirectoryLock(tmp_path / "memory").release()
