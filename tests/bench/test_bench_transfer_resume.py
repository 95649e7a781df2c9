"""bench_transfer.py saves each finished row at once; --resume plays only the missing rows,
and only when the saved rows played the same tasks (no model: ``run_row`` is stood in for)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import bench_transfer  # noqa: E402  (bench/ is not a package)


class Crash(Exception):
    pass


def _stand_in(played: list[str], crash_on: str | None = None) -> Any:
    def run_row(game: Any, row: str, sets: Any, quick: bool, llm: Any, embedder: Any,
                root: Path) -> dict[str, Any]:
        if row == crash_on:
            raise Crash(row)
        played.append(row)
        return {"held_out": 0.5, "wall_s": 1.0}
    return run_row


def test_an_interrupted_game_resumes_at_its_first_unfinished_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_transfer, "ceiling", lambda *a: {"value": 1.0})
    played: list[str] = []
    rows = ["none", "memrl", "demos"]
    monkeypatch.setattr(bench_transfer, "run_row", _stand_in(played, crash_on="demos"))
    with pytest.raises(Crash):
        bench_transfer.run_game("FrozenLake-4x4", rows, True, None, None, tmp_path)
    saved = json.loads((tmp_path / "FrozenLake-4x4" / "rows.json").read_text())
    assert list(saved["rows"]) == ["none", "memrl"]

    monkeypatch.setattr(bench_transfer, "run_row", _stand_in(played))
    game = bench_transfer.run_game("FrozenLake-4x4", rows, True, None, None, tmp_path,
                                   resume=True)
    assert played == ["none", "memrl", "demos"]  # none and memrl were not played again
    assert list(game["rows"]) == rows and game["wall_s"] == 3.0

    bench_transfer.run_game("FrozenLake-4x4", rows, True, None, None, tmp_path)
    assert played[3:] == rows  # without --resume every row plays again


def test_rows_saved_for_other_tasks_are_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text(json.dumps({"sets": [[0, 1], [1000]], "rows": {"none": {"held_out": 0}}}))
    assert bench_transfer.finished_rows(path, ([0, 1], [1000])) == {"none": {"held_out": 0}}
    assert bench_transfer.finished_rows(path, ([0, 2], [1000])) == {}


def test_some_rows_of_a_game_merge_into_its_earlier_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_transfer, "ceiling", lambda *a: {"value": 1.0})
    played: list[str] = []
    monkeypatch.setattr(bench_transfer, "run_row", _stand_in(played))
    first = bench_transfer.run_game("FrozenLake-4x4", ["memrl", "none"], True, None, None,
                                    tmp_path)
    first["rows"]["memrl"]["held_out"] = 0.25  # tell the earlier memrl row from a new one
    later = bench_transfer.run_game("FrozenLake-4x4", ["demos", "memrl"], True, None, None,
                                    tmp_path, earlier=first)
    assert played == ["memrl", "none", "demos", "memrl"]
    assert list(later["rows"]) == ["none", "memrl", "demos"]  # the table's order
    assert later["rows"]["memrl"]["held_out"] == 0.5 and later["wall_s"] == 3.0
    other_tasks = {**first, "held_out_seeds": [999]}
    alone = bench_transfer.run_game("FrozenLake-4x4", ["demos"], True, None, None, tmp_path,
                                    earlier=other_tasks)
    assert list(alone["rows"]) == ["demos"]  # rows of other tasks are never mixed in
