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



EXPORT_SCRIPT = """
import sys
from pathlib import Path
from memplay.memory.locate import holds_memory
from memplay.memory.reflection_files import reflection_entries
root = Path(sys.argv[1])
print(holds_memory(root), sorted(e["path"] for e in reflection_entries(root)))
"""


def test_the_memory_layer_alone_knows_every_methods_files(tmp_path) -> None:
    # a fresh interpreter that imports no method: the entry points must bring them all
    import subprocess
    import sys

    PlaybookStore(tmp_path / "playbooks").seed("FrozenLake", "rules", "- Holes end the game.")
    CritiqueTree(env_id="x", obs="s").save(tmp_path / "critiques" / "trees" / "x-seed0-0000.json")
    InsightBook(tmp_path / "insights" / "FrozenLake.json").save()
    (tmp_path / "reflexion").mkdir()
    (tmp_path / "reflexion" / "reflections.jsonl").write_text(
        '{"text": "t", "goal": "g", "env_id": "e", "source": "llm"}\n')
    out = subprocess.run([sys.executable, "-c", EXPORT_SCRIPT, str(tmp_path)], check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == ("True ['critiques/trees/x-seed0-0000.json', "
                   "'insights/FrozenLake.json', 'playbooks/FrozenLake.json', "
                   "'reflexion/reflections.jsonl']")  # the playbook's .md is for people


def test_every_built_in_method_is_an_entry_point() -> None:
    from memplay.agents.methods.files import METHODS
    from memplay.memory.reflection_files import load_registered_methods

    assert sorted(load_registered_methods()) == sorted(
        f"memplay.agents.methods.{name}.files" for name in METHODS)


def test_a_methods_file_that_fails_its_check_is_refused() -> None:
    from memplay.memory.reflection_files import check_entries

    with pytest.raises(ArchiveError, match=r"insights/FrozenLake\.json"):
        check_entries([{"path": "insights/FrozenLake.json", "text": '{"insights": [{"x": 1}]}'}])
