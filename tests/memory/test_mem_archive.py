"""Archives: round trip across processes, re-embedding, merging, and refusing bad archives."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from memplay.errors import ArchiveError, ConfigError
from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem, StepMemory
from memplay.memory.archive import ArchiveLimits, export_archive, import_archive

QUERIES = ["heat the egg", "wash a mug", "open the fridge door", "turn on the lamp"]


def build_store() -> FaissMemoryStore:
    store = FaissMemoryStore(HashEmbedder(64))
    intents = ["heat an egg in the microwave", "wash the mug in the sink", "open the fridge",
               "turn on the desk lamp", "put the egg in the fridge", "slice bread with a knife"]
    store.add([MemoryItem(id=f"m{i}", intent=t, experience=f"plan {i}", q=0.1 * i - 0.2,
                          visits=i, metadata={"run": i}) for i, t in enumerate(intents)])
    return store


def search_rows(store: FaissMemoryStore) -> list[list[list[object]]]:
    return [[[h.item.id, round(h.item.q, 9), round(h.similarity, 5)] for h in hits]
            for hits in store.search(QUERIES, k=3)]


def test_export_import_in_another_process_gives_same_results(tmp_path: Path) -> None:
    store = build_store()
    steps = StepMemory(store.embedder)
    steps.update(["grid A", "grid B"], ["right", "down"], [0.5, 1.0])
    archive = export_archive(store, tmp_path / "mem.tar.gz", step_memory=steps)
    script = textwrap.dedent(f"""
        import json
        from memplay.memory import FaissMemoryStore
        from memplay.memory.archive import import_archive
        report = import_archive({str(archive)!r})
        report.store.save({str(tmp_path / "fresh" / "memory")!r})
        store = FaissMemoryStore.load({str(tmp_path / "fresh" / "memory")!r})
        hits = [[[h.item.id, round(h.item.q, 9), round(h.similarity, 5)] for h in row]
                for row in store.search({QUERIES!r}, k=3)]
        values = report.step_memory.action_values(["grid A", "grid B"])
        print(json.dumps({{"hits": hits, "steps": [{{a: [v.q, v.visits, v.sim]
                                                      for a, v in d.items()}} for d in values],
                          "added": report.added}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["hits"] == search_rows(store) and out["added"] == len(store)
    assert out["steps"] == [{a: [v.q, v.visits, v.sim] for a, v in d.items()}
                            for d in steps.action_values(["grid A", "grid B"])]


def test_import_reembeds_with_another_embedder(tmp_path: Path) -> None:
    archive = export_archive(build_store(), tmp_path / "mem.tgz")
    target = FaissMemoryStore(HashEmbedder(32))
    report = import_archive(archive, target)
    assert report.reembedded and report.added == 6 and target.embedder.dim == 32
    assert target.search(["wash the mug in the sink"], k=1)[0][0].item.id == "m1"


def test_import_merges_on_id_and_intent_collisions(tmp_path: Path) -> None:
    archive = export_archive(build_store(), tmp_path / "mem.tar.gz")
    target = FaissMemoryStore(HashEmbedder(64))
    target.add([MemoryItem(id="m2", intent="open the fridge", q=1.0, visits=2),
                MemoryItem(id="mine", intent="wash the mug in the sink", q=0.0, visits=3)])
    report = import_archive(archive, target)
    assert (report.added, report.merged, len(target)) == (4, 2, 6)
    m2 = target.get(["m2"])[0]
    assert m2.visits == 4 and m2.q == pytest.approx((1.0 * 2 + 0.0 * 2) / 4)
    mine = target.get(["mine"])[0]  # intent collision: kept under the local id
    assert mine.visits == 4 and mine.q == pytest.approx((0.0 * 3 + (-0.1) * 1) / 4)
    again = import_archive(archive, target)
    assert again.added == 0 and again.merged == 6


def _repack(src: Path, dst: Path, edit: dict[str, bytes | None], extra: list[tarfile.TarInfo]
            | None = None) -> Path:
    with tarfile.open(src, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    members.update({k: v for k, v in edit.items() if v is not None})
    with tarfile.open(dst, "w:gz") as tar:
        for name, data in members.items():
            if edit.get(name, b"") is None:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return dst


def test_tampered_archive_is_refused(tmp_path: Path) -> None:
    archive = export_archive(build_store(), tmp_path / "mem.tar.gz")
    with tarfile.open(archive, "r:gz") as tar:
        items = tar.extractfile("items.jsonl").read()  # type: ignore[union-attr]
    bad = _repack(archive, tmp_path / "bad.tar.gz", {"items.jsonl": items.replace(b"0.3", b"0.9")})
    with pytest.raises(ArchiveError, match=r"items\.jsonl' fails its sha256"):
        import_archive(bad)


def test_unknown_version_and_missing_member_are_refused(tmp_path: Path) -> None:
    archive = export_archive(build_store(), tmp_path / "mem.tar.gz")
    with tarfile.open(archive, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    manifest["format_version"] = 7
    bad = _repack(archive, tmp_path / "v7.tar.gz", {"manifest.json": json.dumps(manifest).encode()})
    with pytest.raises(ArchiveError, match="format_version 7"):
        import_archive(bad)
    gone = _repack(archive, tmp_path / "gone.tar.gz", {"vectors.npy": None})
    with pytest.raises(ArchiveError, match="do not match the manifest"):
        import_archive(gone)


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "a/../../b", "items.jsonl/../x"])
def test_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    archive = export_archive(build_store(), tmp_path / "mem.tar.gz")
    info = tarfile.TarInfo(name)
    info.size = 3
    bad = _repack(archive, tmp_path / "trav.tar.gz", {}, [info])
    with pytest.raises(ArchiveError, match="unsafe path"):
        import_archive(bad)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_links_and_unknown_members_are_refused(tmp_path: Path) -> None:
    archive = export_archive(build_store(), tmp_path / "mem.tar.gz")
    link = tarfile.TarInfo("steps.jsonl")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(ArchiveError, match="not a regular file"):
        import_archive(_repack(archive, tmp_path / "link.tar.gz", {}, [link]))
    odd = tarfile.TarInfo("notes.txt")
    odd.size = 1
    with pytest.raises(ArchiveError, match="unexpected"):
        import_archive(_repack(archive, tmp_path / "odd.tar.gz", {}, [odd]))


def test_size_limits_and_garbage_are_refused(tmp_path: Path) -> None:
    archive = export_archive(build_store(), tmp_path / "mem.tar.gz")
    with pytest.raises(ArchiveError, match="max_member_bytes"):
        import_archive(archive, limits=ArchiveLimits(max_member_bytes=100))
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball at all")
    with pytest.raises(ArchiveError, match="not a readable"):
        import_archive(junk)
    with pytest.raises(ArchiveError, match="does not exist"):
        import_archive(tmp_path / "missing.tar.gz")
    with pytest.raises(ConfigError, match="must end with"):
        export_archive(build_store(), tmp_path / "mem.zip")


def test_manifest_records_counts_and_checksums(tmp_path: Path) -> None:
    archive = export_archive(build_store(), tmp_path / "mem.tar.gz")
    with tarfile.open(archive, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    manifest = json.loads(members.pop("manifest.json"))
    assert manifest["counts"]["items"] == 6 and manifest["embedder"]["dim"] == 64
    for name, data in members.items():
        assert manifest["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()
