"""Corrupt memory directories: each defect gets a MemplayError that names the file (and line).

``tamper`` rewrites a file *and* its manifest checksum, as a hand edit or a buggy tool would,
so the parsers behind the checksum are what is tested.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import faiss
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memplay.errors import ArchiveError, EmbedderMismatch, MemoryStoreError, MemplayError
from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem, StepMemory

DIM = 16


def _saved(root: Path, n: int = 4) -> Path:
    with FaissMemoryStore(HashEmbedder(DIM)) as store:
        store.add([MemoryItem(id=f"m{i}", intent=f"task {i}", q=0.25 * i) for i in range(n)])
        return store.save(root / "memory")


def tamper(directory: Path, name: str, data: bytes) -> None:
    (directory / name).write_bytes(data)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (directory / "manifest.json").write_text(json.dumps(manifest))


def test_untampered_corruption_fails_the_checksum(tmp_path: Path) -> None:
    d = _saved(tmp_path)
    (d / "items.jsonl").write_text("garbage\n")
    with pytest.raises(ArchiveError, match=r"items\.jsonl"):
        FaissMemoryStore.load(d)


@pytest.mark.parametrize("bad", ["not json", '{"key": 0}', '{"key": "x", "item": {}}', "[]"])
def test_malformed_jsonl_line_names_file_and_line(tmp_path: Path, bad: str) -> None:
    d = _saved(tmp_path)
    lines = (d / "items.jsonl").read_text().splitlines()
    lines[2] = bad
    tamper(d, "items.jsonl", ("\n".join(lines) + "\n").encode())
    with pytest.raises(MemoryStoreError, match=r"items.jsonl:3"):
        FaissMemoryStore.load(d)


@pytest.mark.parametrize("q", ["NaN", "Infinity"])
def test_nan_q_names_file_and_line(tmp_path: Path, q: str) -> None:
    d = _saved(tmp_path)
    lines = (d / "items.jsonl").read_text().splitlines()
    row = json.loads(lines[1])
    lines[1] = json.dumps(row).replace(f'"q": {row["item"]["q"]}', f'"q": {q}')
    assert q in lines[1]
    tamper(d, "items.jsonl", ("\n".join(lines) + "\n").encode())
    with pytest.raises(MemoryStoreError, match=r"items.jsonl:2.*q"):
        FaissMemoryStore.load(d)


@pytest.mark.parametrize("keep", [0, 10, 45, 200])
def test_truncated_faiss_index_is_a_clear_error(tmp_path: Path, keep: int) -> None:
    d = _saved(tmp_path)
    tamper(d, "index.faiss", (d / "index.faiss").read_bytes()[:keep])
    with pytest.raises(MemoryStoreError, match=r"index\.faiss"):
        FaissMemoryStore.load(d)


def test_index_of_wrong_dimension(tmp_path: Path) -> None:
    d = _saved(tmp_path)
    other = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM * 2))
    other.add_with_ids(np.eye(4, DIM * 2, dtype=np.float32), np.arange(4, dtype=np.int64))
    tamper(d, "index.faiss", faiss.serialize_index(other).tobytes())
    with pytest.raises(MemoryStoreError, match="dim"):
        FaissMemoryStore.load(d)


def test_other_embedder_is_refused(tmp_path: Path) -> None:
    d = _saved(tmp_path)
    with pytest.raises(EmbedderMismatch, match="hash-3gram-16"):
        FaissMemoryStore.load(d, HashEmbedder(DIM * 2))


VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=6) | st.lists(
    st.integers(), max_size=2) | st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["embedder", "index", "next_key", "counts", "kind", "files"]),
       value=VALUES)
def test_manifest_fields_of_any_type(tmp_path: Path, key: str, value: object) -> None:
    d = _saved(tmp_path / str(abs(hash((key, repr(value))))))
    manifest = json.loads((d / "manifest.json").read_text())
    manifest[key] = value
    (d / "manifest.json").write_text(json.dumps(manifest))
    try:
        store = FaissMemoryStore.load(d)
    except MemplayError as exc:
        assert str(exc)
        return
    assert sorted(store.ids()) == [f"m{i}" for i in range(4)]


def test_step_memory_bad_rows_name_the_line(tmp_path: Path) -> None:
    mem = StepMemory(HashEmbedder(DIM))
    mem.update(["a", "b"], ["left", "right"], [1.0, 0.0])
    d = mem.save(tmp_path / "steps")
    mem.close()
    lines = (d / "states.jsonl").read_text().splitlines()
    lines[1] = '{"state": "b", "actions": {"right": {"q": NaN, "visits": 1}}}'
    tamper(d, "states.jsonl", ("\n".join(lines) + "\n").encode())
    with pytest.raises(MemoryStoreError, match=r"states.jsonl:2"):
        StepMemory.load(d)


def test_symlinked_file_in_a_memory_directory_is_refused(tmp_path: Path) -> None:
    d = _saved(tmp_path)
    outside = tmp_path / "outside.jsonl"
    outside.write_bytes((d / "items.jsonl").read_bytes())  # same bytes: checksum would pass
    (d / "items.jsonl").unlink()
    (d / "items.jsonl").symlink_to(outside)
    with pytest.raises(ArchiveError, match="symbolic link"):
        FaissMemoryStore.load(d)
