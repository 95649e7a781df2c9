"""Reflection files on disk: atomic JSON, torn JSONL lines, corrupt files give clear errors."""

from __future__ import annotations

import json

import pytest

from memplay.agents.methods.critique.store import CritiqueStore
from memplay.agents.methods.critique.tree import CritiqueTree
from memplay.agents.methods.expel.store import InsightBook
from memplay.agents.methods.playbook.store import PlaybookStore
from memplay.errors import ArchiveError, DataNotFound
from memplay.memory.jsonio import append_jsonl, read_json, read_jsonl, write_json_atomic


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path) -> None:
    path = tmp_path / "sub" / "doc.json"
    write_json_atomic(path, {"v": 1})
    write_json_atomic(path, {"v": 2, "text": "é"})
    assert read_json(path) == {"v": 2, "text": "é"}
    assert [p.name for p in path.parent.iterdir()] == ["doc.json"]


def test_torn_last_jsonl_line_is_skipped_but_middle_damage_is_reported(tmp_path) -> None:
    path = tmp_path / "rows.jsonl"
    append_jsonl(path, [{"a": 1}, {"a": 2}])
    with path.open("a") as handle:
        handle.write('{"a": 3')  # a crash mid-append
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(ArchiveError, match=r"rows\.jsonl:2"):
        read_jsonl(path)


def test_missing_and_corrupt_files_raise_typed_errors(tmp_path) -> None:
    with pytest.raises(DataNotFound, match=r"missing\.json"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "FrozenLake.json").write_text(json.dumps({"documents": {"rules": {"x": 1}}}))
    with pytest.raises(ArchiveError, match=r"FrozenLake\.json"):
        PlaybookStore(tmp_path).document("FrozenLake", "rules")
    (tmp_path / "insights.json").write_text("{broken")
    with pytest.raises(ArchiveError, match="not valid JSON"):
        InsightBook(tmp_path / "insights.json")
    (tmp_path / "revisions.jsonl").write_text('{"goal": "g"}\n{"goal": "h"}\n')
    with pytest.raises(ArchiveError, match="invalid revision"):
        CritiqueStore(tmp_path)
    with pytest.raises(ArchiveError, match="node-link"):
        CritiqueTree.from_json({"nodes": []})
    with pytest.raises(DataNotFound, match="no critique tree"):
        CritiqueStore().load_tree("nope")
