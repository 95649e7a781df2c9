"""The documents' result tables are the JSON files' numbers (``bench/tables.py`` blocks): the
README's headline table, docs/RESULTS.md's tables, the guides' own results (self-play, speed,
distillation) and bench/README.md's wall times."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import tables  # noqa: E402  (bench/ is not a package)


def blocks(text: str) -> list[str]:
    return [m.group("name") for m in tables.BLOCK.finditer(text)]


def test_document_blocks_match_the_committed_json() -> None:
    assert blocks((ROOT / "README.md").read_text(encoding="utf-8")) == ["headline"]
    results = blocks((ROOT / "docs" / "RESULTS.md").read_text(encoding="utf-8"))
    assert len(results) == len(set(results))  # each table once
    own_page = {"selfplay", "kuhncurve", "tictactoe", "gate", "versus", "distill"}
    assert set(tables.TABLES) | {"times"} == set(results) | own_page  # the rest, all here
    assert "times" in blocks((ROOT / "bench" / "README.md").read_text(encoding="utf-8"))
    guides = {"self-play.md": {"selfplay", "kuhncurve", "tictactoe"},
              "speed.md": {"gate", "alfworld", "versus"}, "distillation.md": {"distill"}}
    for name, names in guides.items():
        assert names <= set(blocks((ROOT / "docs" / name).read_text(encoding="utf-8"))), name
    assert tables.main(["--check"]) == 0, "stale tables: run python bench/tables.py --write"


def test_check_fails_when_a_result_changes(tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(ROOT / "bench" / "results", results,
                    ignore=shutil.ignore_patterns("runs", "*.png"))
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- bench:speed -->\n<!-- /bench:speed -->\ny\n", encoding="utf-8")
    filled = tables.fill(readme.read_text(), results)
    assert filled.startswith("x\n<!-- bench:speed -->\n| env | parallel envs |")
    assert filled.endswith("<!-- /bench:speed -->\ny\n")
    record = json.loads((results / "bench_speed.json").read_text())
    record["results"][0]["decisions_per_s"] = 123.456
    (results / "bench_speed.json").write_text(json.dumps(record))
    refilled = tables.fill(filled, results)
    assert refilled != filled and "| 123.46 |" in refilled
    assert tables.fill(refilled, results) == refilled  # idempotent
    assert tables.check(readme) == 1  # the file on disk still has empty blocks
    readme.write_text(refilled, encoding="utf-8")
    assert tables.check(readme) == 1  # ... and tables from the real results, not these


def test_unknown_block_name_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown table 'nope'"):
        tables.fill("<!-- bench:nope -->\n<!-- /bench:nope -->", ROOT / "bench" / "results")
