"""bench_alfworld.py runs its rows in parts (one run_full group each): rows asked for now
replace those of the earlier JSON, whose other rows stay only if they played the same games at
the same sizes from the same walkthroughs (no model, no ALFWorld: the rows are stood in for)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import bench_alfworld  # noqa: E402  (bench/ is not a package)

SETTING = {"quick": False, "games": [0, 13], "sizes": {"epochs": 2}, "demos": {"games": 600}}


def _write(path: Path, setting: dict[str, Any], rows: dict[str, float]) -> None:
    results = {row: {"success": v, "wall_s": 60.0} for row, v in rows.items()}
    path.write_text(json.dumps({**setting, "results": results}))


def test_rows_not_asked_for_are_kept_from_a_run_with_the_same_setting(tmp_path: Path) -> None:
    path = tmp_path / "bench_alfworld.json"
    _write(path, SETTING, {"baseline": 0.88, "demos": 0.93, "none": 0.1})
    kept = bench_alfworld.earlier_rows(path, SETTING, ["none", "memrl"])
    assert {row: r["success"] for row, r in kept.items()} == {"baseline": 0.88, "demos": 0.93}


@pytest.mark.parametrize("change", [{"games": [0, 14]}, {"sizes": {"epochs": 1}},
                                    {"demos": {"games": 599}}, {"quick": True}])
def test_rows_of_a_run_with_another_setting_are_dropped(tmp_path: Path,
                                                         change: dict[str, Any]) -> None:
    path = tmp_path / "bench_alfworld.json"
    _write(path, {**SETTING, **change}, {"baseline": 0.88})
    assert bench_alfworld.earlier_rows(path, SETTING, ["none"]) == {}


def test_main_merges_new_rows_in_table_order_and_sums_the_parts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data" / "json_2.1.1" / "valid_seen").mkdir(parents=True)
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "data"))  # only checked to be there
    monkeypatch.setattr(bench_alfworld, "eval_games", lambda per_type, split: [0, 13])
    import memplay.environments.alfworld.demos as demos_module

    monkeypatch.setattr(demos_module, "alfworld_demos", lambda *a, **k: [])
    monkeypatch.setattr(demos_module, "demo_statistics", lambda demos: {"games": 600})
    monkeypatch.setattr(bench_alfworld, "play_rows", lambda args, demos, games, size: {
        row: {"success": 0.5, "wall_s": 120.0, "per_task_type": {}} for row in args.rows})
    monkeypatch.setattr(bench_alfworld, "plot", lambda results, png: png.write_bytes(b""))
    setting = {key: value for key, value in bench_alfworld.main(
        ["--rows", "demos", "--out", str(tmp_path)]).items() if key in ("games", "demos",
                                                                         "sizes", "quick")}
    bench_alfworld.main(["--rows", "none", "baseline", "--out", str(tmp_path)])
    record = json.loads((tmp_path / "bench_alfworld.json").read_text())
    assert list(record["results"]) == ["baseline", "none", "demos"]
    assert record["wall_s"] == pytest.approx(360.0, abs=1.0)  # three rows of 120 s
    assert {k: record[k] for k in setting} == setting
    bench_alfworld.main(["--rows", "none", "--out", str(tmp_path), "--fresh"])
    record = json.loads((tmp_path / "bench_alfworld.json").read_text())
    assert list(record["results"]) == ["none"]


def test_a_split_without_data_stops_before_playing_and_says_how_to_get_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for split in ("train", "valid_seen"):  # the folders ../shared has; valid_unseen is missing
        (tmp_path / "data" / "json_2.1.1" / split).mkdir(parents=True)
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(bench_alfworld, "play_rows", lambda *a: pytest.fail("played"))
    with pytest.raises(SystemExit) as stopped:
        bench_alfworld.main(["--split", "eval_out_of_distribution", "--out", str(tmp_path)])
    assert "valid_unseen" in str(stopped.value) and "alfworld-download" in str(stopped.value)
    assert not list(tmp_path.glob("*.json"))


def test_each_evaluation_split_writes_its_own_json() -> None:
    args = bench_alfworld.parse_args(["--split", "eval_out_of_distribution"])
    assert bench_alfworld.RESULT_NAMES[args.split] == "bench_alfworld_unseen"
    assert bench_alfworld.parse_args([]).split == "eval_in_distribution"


def test_rows_without_walkthroughs_merge_across_runs_that_played_other_ones(
        tmp_path: Path) -> None:
    path = tmp_path / "bench_alfworld.json"
    _write(path, {**SETTING, "demos": None}, {"memrl": 0.5, "none": 0.0})
    kept = bench_alfworld.earlier_rows(path, SETTING, ["demos"])
    assert sorted(kept) == ["memrl", "none"]  # they never read the walkthroughs


def test_the_own_play_row_alone_plays_no_walkthrough_and_keeps_the_demo_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data" / "json_2.1.1" / "valid_seen").mkdir(parents=True)
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(bench_alfworld, "eval_games", lambda per_type, split: [0, 13])
    import memplay.environments.alfworld.demos as demos_module

    monkeypatch.setattr(demos_module, "demo_statistics", lambda demos: {"games": 600})
    monkeypatch.setattr(demos_module, "alfworld_demos", lambda *a, **k: [])
    played: list[list[Any]] = []
    monkeypatch.setattr(bench_alfworld, "play_rows", lambda args, demos, games, size: (
        played.append(demos) or {row: {"success": 0.5, "wall_s": 60.0, "per_task_type": {}}
                                 for row in args.rows}))
    monkeypatch.setattr(bench_alfworld, "plot", lambda results, png: png.write_bytes(b""))
    bench_alfworld.main(["--rows", "demos", "--out", str(tmp_path)])
    monkeypatch.setattr(demos_module, "alfworld_demos", lambda *a, **k: pytest.fail("played"))
    record = bench_alfworld.main(["--rows", "memrl", "--out", str(tmp_path)])
    assert list(record["results"]) == ["demos", "memrl"] and record["demos"] == {"games": 600}
    assert played[-1] == []


@pytest.mark.alfworld
def test_dev_games_are_train_games_no_row_learns_from() -> None:
    from memplay.environments.alfworld.demos import demo_games
    from memplay.environments.alfworld.env import task_type_of
    from memplay.errors import DataNotFound

    try:
        dev = bench_alfworld.dev_games(7)
    except DataNotFound as err:
        pytest.skip(f"needs the ALFWorld train split: {err}")
    used = {g for n in (100, 2, 60) for g in demo_games("train", per_task_type=n)}
    assert len(dev) == len(set(dev)) == 42 and not set(dev) & used
    types = [task_type_of(g) for g in dev]
    assert {types.count(t) for t in set(types)} == {7} and len(set(types)) == 6
    every = bench_alfworld.split_games("dev")
    assert bench_alfworld.eval_games(7, "dev") == sorted(every.index(g) for g in dev)


def test_the_one_memory_prompt_shows_only_the_first_task_memory() -> None:
    # --gated-prompt one-memory: memories at their longest (max_memory_chars) still leave one
    from memplay.agents.config import PromptConfig
    from memplay.agents.prompts import format_memories
    from memplay.agents.state import Memory

    long = [Memory(str(i), f"memory {i} " + "x" * 600, q=0.0, sim=0.9) for i in range(3)]
    short = PromptConfig(**bench_alfworld.GatedEvaluation("one-memory").prompt_for("demos"))
    shown = format_memories(long, short)
    assert shown.count("[memory") == 1 and "memory 0 " in shown
    assert format_memories(long, PromptConfig()).count("[memory") == 3
    assert bench_alfworld.GatedEvaluation("one-memory").prompt_for("demos-flat") == {}
