"""bench_transfer's "exact keys" share: for memory keyed by the whole state text
(``memrl-state``) a step's visits also count the neighbours its values were borrowed from, so
the share there asks whether memory holds the very state (no model, no environment)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import bench_transfer  # noqa: E402  (bench/ is not a package)

from memplay.memory import HashEmbedder  # noqa: E402
from memplay.memory.step_memory import StepMemory, StepMemoryConfig  # noqa: E402


def _row_folder(root: Path, played: list[str]) -> Path:
    """A row's folder: step memory that tried one move from "board A", and a held-out run
    whose every decision carries visits, as a borrowed value's decision does."""
    memory = StepMemory(HashEmbedder(32), StepMemoryConfig(lookup="state"))
    memory.update(["board A"], ["right"], [1.0])
    memory.save(root / "memory" / "steps")
    memory.close()
    (root / "held_out").mkdir(parents=True)
    steps = [{"action": "right", "info": {"state": s, "visits": 3}} for s in played]
    (root / "held_out" / "trajectories.jsonl").write_text(json.dumps({"steps": steps}) + "\n")
    return root


def test_state_keys_count_only_states_memory_holds(tmp_path: Path) -> None:
    root = _row_folder(tmp_path, ["board A", "board A.", "board C", "board A"])
    state_row = bench_transfer.RECIPES["memrl-state"][1]
    assert bench_transfer.held_out_known_share(root, state_row) == 0.5  # 2 of 4 on "board A"


def test_view_keys_still_count_visits(tmp_path: Path) -> None:
    root = _row_folder(tmp_path, ["board A", "board C"])
    assert bench_transfer.held_out_known_share(root, bench_transfer.RECIPES["memrl"][1]) == 1.0


def test_no_memory_folder_gives_none(tmp_path: Path) -> None:
    (tmp_path / "held_out").mkdir()
    (tmp_path / "held_out" / "trajectories.jsonl").write_text('{"steps": []}\n')
    state_row = bench_transfer.RECIPES["memrl-state"][1]
    assert bench_transfer.held_out_known_share(tmp_path, state_row) is None
