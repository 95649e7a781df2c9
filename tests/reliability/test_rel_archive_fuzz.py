"""Untrusted archives: every input is either imported or refused with ArchiveError.

Property tests (hypothesis) feed the archive reader random bytes, random tar members (unsafe
names, links, directories) and valid archives whose members were mutated *with matching
checksums* (so the parsers behind the checksum are exercised too). Nothing else may escape,
and nothing may be written outside the directory the archive lives in.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memplay.errors import ArchiveError
from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem
from memplay.memory.archive import ArchiveLimits, export_archive, import_archive

DIM = 16
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
FUZZ_SECONDS = float(os.environ.get("MEMPLAY_FUZZ_SECONDS", "8"))  # the seeded loop's budget

def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _try_import(path: Path) -> str:
    """Import into a fresh HashEmbedder store; return 'ok' or 'refused'."""
    store = FaissMemoryStore(HashEmbedder(DIM))
    try:
        report = import_archive(path, store, limits=ArchiveLimits(max_member_bytes=1 << 20))
    except ArchiveError as exc:
        assert str(exc), "an ArchiveError must explain itself"
        return "refused"
    # Whatever was accepted must be usable: every item searchable, Q finite.
    assert len(report.store) == report.added
    assert all(np.isfinite(it.q) for it in report.store.items())
    return "ok"


def _tar_bytes(members: list[tuple[str, bytes, bytes]]) -> bytes:
    """members: (name, type flag, data); link targets are the data for link types."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = data.decode("utf-8", "replace")
                tar.addfile(info)
            elif kind == tarfile.DIRTYPE:
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _valid_members() -> dict[str, bytes]:
    store = FaissMemoryStore(HashEmbedder(DIM))
    store.add([MemoryItem(id=f"m{i}", intent=f"task {i}", q=0.1 * i) for i in range(3)])
    with tempfile.TemporaryDirectory() as tmp:
        path = export_archive(store, Path(tmp) / "v.tar.gz")
        with tarfile.open(path) as tar:
            return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


VALID = _valid_members()


def _with_manifest(members: dict[str, bytes], manifest: Any = None) -> bytes:
    """Rebuild an archive from members, recomputing checksums unless manifest is given."""
    if manifest is None:
        manifest = json.loads(VALID["manifest.json"])
        manifest["files"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                             for n, d in members.items() if n != "manifest.json"}
        # Keep counts honest too, so the parsers behind the count check are reached.
        manifest["counts"] = {"items": members["items.jsonl"].count(b"\n"),
                              "states": members.get("steps.jsonl", b"").count(b"\n")}
    body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    return _tar_bytes([("manifest.json", tarfile.REGTYPE, body)] +
                      [(n, tarfile.REGTYPE, d) for n, d in members.items()
                       if n != "manifest.json"])


@pytest.fixture
def workdir() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def _run(workdir: Path, data: bytes) -> str:
    sandbox = workdir / "box"
    sandbox.mkdir(exist_ok=True)
    path = sandbox / "in.tar.gz"
    path.write_bytes(data)
    before = _snapshot(workdir)
    outcome = _try_import(path)
    assert _snapshot(workdir) == before, "import wrote files next to (or outside) the archive"
    return outcome


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_are_refused(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        assert _run(Path(tmp), data) == "refused"


NAMES = st.sampled_from(["manifest.json", "items.jsonl", "vectors.npy", "steps.jsonl",
                         "../items.jsonl", "/etc/passwd", "a/../../x", "evil.py", "./items.jsonl",
                         "dir/", "items.jsonl\x00", "C:\\x"])
KINDS = st.sampled_from([tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE,
                         tarfile.FIFOTYPE])
MEMBER = st.tuples(NAMES, KINDS, st.binary(max_size=64) | st.sampled_from(
    [b"/etc/passwd", b"../../outside", VALID["items.jsonl"]]))


@FUZZ
@given(members=st.lists(MEMBER, max_size=6))
def test_random_tar_members_never_escape(members: list[tuple[str, bytes, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            data = _tar_bytes(members)
        except ValueError:  # tarfile itself refuses to write a NUL in a name
            return
        _run(Path(tmp), data)


def _mutate(data: bytes, draw_pos: int, draw_byte: int, mode: str) -> bytes:
    if not data:
        return bytes([draw_byte])
    pos = draw_pos % len(data)
    if mode == "flip":
        return data[:pos] + bytes([data[pos] ^ (draw_byte or 1)]) + data[pos + 1:]
    if mode == "truncate":
        return data[:pos]
    return data[:pos] + bytes([draw_byte]) * 3 + data[pos:]


@FUZZ
@given(name=st.sampled_from(["items.jsonl", "vectors.npy", "steps.jsonl"]),
       pos=st.integers(0, 10_000), byte=st.integers(0, 255),
       mode=st.sampled_from(["flip", "truncate", "insert"]))
def test_mutated_members_with_good_checksums(name: str, pos: int, byte: int, mode: str) -> None:
    members = dict(VALID)
    members[name] = _mutate(members.get(name, b""), pos, byte, mode)
    with tempfile.TemporaryDirectory() as tmp:
        _run(Path(tmp), _with_manifest(members))


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
JSONISH = st.recursive(SCALARS,
                       lambda kids: st.lists(kids, max_size=3) |
                       st.dictionaries(st.text(max_size=8), kids, max_size=3), max_leaves=8)


@FUZZ
@given(key=st.sampled_from(["format", "format_version", "embedder", "files", "counts"]),
       value=JSONISH, whole=st.booleans())
def test_mutated_manifest(key: str, value: Any, whole: bool) -> None:
    manifest = value if whole else {**json.loads(VALID["manifest.json"]), key: value}
    with tempfile.TemporaryDirectory() as tmp:
        body = json.dumps(manifest).encode()
        assert _run(Path(tmp), _with_manifest(dict(VALID), body)) == "refused"


@FUZZ
@given(row=JSONISH, line=st.integers(0, 3))
def test_items_rows_of_any_json(row: Any, line: int) -> None:
    lines = VALID["items.jsonl"].decode().splitlines()
    lines.insert(line, json.dumps(row))
    members = {**VALID, "items.jsonl": ("\n".join(lines) + "\n").encode()}
    with tempfile.TemporaryDirectory() as tmp:
        assert _run(Path(tmp), _with_manifest(members)) == "refused"


@FUZZ
@given(row=JSONISH)
def test_step_rows_of_any_json(row: Any) -> None:
    good = {"state": "s", "actions": {"left": {"q": 0.5, "visits": 2}}}
    body = (json.dumps(good) + "\n" + json.dumps(row) + "\n").encode()
    with tempfile.TemporaryDirectory() as tmp:
        _run(Path(tmp), _with_manifest({**VALID, "steps.jsonl": body}))


def test_valid_archive_round_trips(workdir: Path) -> None:
    assert _run(workdir, _with_manifest(dict(VALID))) == "ok"


@pytest.mark.parametrize("q", ["NaN", "Infinity", "-Infinity"])
def test_nan_q_in_archive_names_the_line(workdir: Path, q: str) -> None:
    lines = VALID["items.jsonl"].decode().splitlines()
    lines[1] = lines[1].replace('"q": 0.1', f'"q": {q}')
    assert f'"q": {q}' in lines[1]
    path = workdir / "nan.tar.gz"
    path.write_bytes(_with_manifest({**VALID, "items.jsonl": ("\n".join(lines) + "\n").encode()}))
    with pytest.raises(ArchiveError, match="line 2"):
        import_archive(path, FaissMemoryStore(HashEmbedder(DIM)))


def test_wrong_dimension_vectors_are_refused(workdir: Path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.ones((3, DIM + 1), np.float32), allow_pickle=False)
    path = workdir / "dim.tar.gz"
    path.write_bytes(_with_manifest({**VALID, "vectors.npy": buf.getvalue()}))
    with pytest.raises(ArchiveError, match=r"vectors\.npy"):
        import_archive(path, FaissMemoryStore(HashEmbedder(DIM)))


def test_pickled_vectors_are_refused(workdir: Path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    path = workdir / "pickle.tar.gz"
    path.write_bytes(_with_manifest({**VALID, "vectors.npy": buf.getvalue()}))
    with pytest.raises(ArchiveError, match=r"vectors\.npy"):
        import_archive(path, FaissMemoryStore(HashEmbedder(DIM)))


def test_symlink_member_is_refused_and_not_followed(workdir: Path) -> None:
    secret = workdir / "secret.txt"
    secret.write_text("do not read")
    data = _tar_bytes([("manifest.json", tarfile.REGTYPE, VALID["manifest.json"]),
                       ("items.jsonl", tarfile.SYMTYPE, str(secret).encode())])
    path = workdir / "link.tar.gz"
    path.write_bytes(data)
    with pytest.raises(ArchiveError, match="not a regular file"):
        import_archive(path, FaissMemoryStore(HashEmbedder(DIM)))
    assert os.listdir(workdir) == sorted(os.listdir(workdir))  # listing still works
    assert secret.read_text() == "do not read"


def _fuzz_once(rng: random.Random, raw: bytes) -> bytes:
    """One seeded mutation of a valid archive, at the gzip, tar or member level."""
    level = rng.choice(["gzip", "tar", "member", "member"])
    if level == "gzip":
        return _mutate(raw, rng.randrange(1 << 16), rng.randrange(256),
                       rng.choice(["flip", "truncate", "insert"]))
    if level == "tar":
        tar = gzip.decompress(raw)
        return gzip.compress(_mutate(tar, rng.randrange(1 << 16), rng.randrange(256),
                                     rng.choice(["flip", "truncate", "insert"])))
    members = dict(VALID)
    name = rng.choice(["items.jsonl", "vectors.npy", "steps.jsonl"])
    for _ in range(rng.randint(1, 4)):
        members[name] = _mutate(members.get(name, b""), rng.randrange(1 << 16),
                                rng.randrange(256), rng.choice(["flip", "truncate", "insert"]))
    return _with_manifest(members)


def test_archive_reader_fuzz_for_bounded_time(workdir: Path) -> None:
    """A plain seeded fuzz loop (no shrinking) that runs for FUZZ_SECONDS (CI: ~8 s)."""
    rng, raw = random.Random(20261125), _with_manifest(dict(VALID))
    deadline = time.monotonic() + FUZZ_SECONDS
    outcomes = {"ok": 0, "refused": 0}
    while time.monotonic() < deadline:
        outcomes[_run(workdir, _fuzz_once(rng, raw))] += 1
    assert outcomes["refused"] > 100, outcomes  # the loop really exercised the refusals


@pytest.mark.parametrize("name", ["../../etc", "/opt/models/evil", "~/m", "..\\x"])
def test_archive_cannot_point_the_embedder_at_a_local_path(workdir: Path, name: str) -> None:
    manifest = json.loads(VALID["manifest.json"])
    manifest["embedder"]["name"] = name
    body = {**VALID, "manifest.json": json.dumps(manifest).encode()}
    path = workdir / "emb.tar.gz"
    path.write_bytes(_tar_bytes([(n, tarfile.REGTYPE, d) for n, d in body.items()]))
    with pytest.raises(ArchiveError, match="embedder"):
        import_archive(path)  # no store given: the archive's embedder would be used
