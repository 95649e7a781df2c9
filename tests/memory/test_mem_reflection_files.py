"""Reflection files in archives: known only by the kinds registered, checked, not overwritten."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from memplay.errors import ArchiveError
from memplay.memory.reflection_files import (
    REFLECTION_FILES,
    check_entries,
    jsonl_rows,
    reflection_entries,
    register_reflection_file,
    restore_reflection,
)


def _must_be_object(text: str) -> None:
    if not isinstance(json.loads(text), dict):
        raise ValueError("not an object")


@pytest.fixture()
def kinds() -> Iterator[None]:
    register_reflection_file("test-notes", "notes/*.json", _must_be_object)
    register_reflection_file("test-log", "notes/log.jsonl", jsonl_rows(_must_be_object),
                             appended=True)
    yield
    REFLECTION_FILES.unregister("test-notes")
    REFLECTION_FILES.unregister("test-log")


def test_registered_files_travel_without_overwriting(kinds: None, tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "notes").mkdir(parents=True)
    (src / "notes" / "a.json").write_text('{"v": 1}')
    (src / "notes" / "log.jsonl").write_text('{"r": 1}\n{"r": 2}\n')
    (src / "notes" / "other.txt").write_text("not a registered kind")
    entries = check_entries(reflection_entries(src))
    assert [e["path"] for e in entries] == ["notes/a.json", "notes/log.jsonl"]
    (dst / "notes").mkdir(parents=True)
    (dst / "notes" / "a.json").write_text('{"v": "mine"}')
    (dst / "notes" / "log.jsonl").write_text('{"r": 1}\n')
    assert restore_reflection(entries, dst) == 1  # the log gained a row; a.json was kept
    assert json.loads((dst / "notes" / "a.json").read_text()) == {"v": "mine"}
    assert (dst / "notes" / "log.jsonl").read_text().count("\n") == 2
    assert restore_reflection(entries, dst) == 0  # nothing new the second time


def test_unknown_or_unsafe_paths_are_refused_naming_the_known_kinds(kinds: None) -> None:
    for path in ("secrets/key.json", "notes/../x.json", "notes/sub/a.json"):
        with pytest.raises(ArchiveError, match=r"none of the known kinds.*notes/\*\.json"):
            check_entries([{"path": path, "text": "{}"}])


def test_text_that_fails_its_kinds_check_is_refused(kinds: None) -> None:
    with pytest.raises(ArchiveError, match=r"'notes/a\.json' in the archive is invalid"):
        check_entries([{"path": "notes/a.json", "text": "[1, 2]"}])
    with pytest.raises(ArchiveError, match=r"log\.jsonl"):
        check_entries([{"path": "notes/log.jsonl", "text": '{"r": 1}\nnot json\n'}])


def test_a_kind_unregistered_is_no_longer_carried(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.json").write_text("{}")
    assert reflection_entries(tmp_path) == []
