"""StepMemory: exact-state dominance, neighbour averaging, save/load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memplay.errors import ConfigError, StoreLockedError
from memplay.memory import (
    HashEmbedder,
    StepMemory,
    StepMemoryConfig,
)


def grid(row: int, col: int) -> str:
    cells = [["F"] * 4 for _ in range(4)]
    cells[row][col] = "P"
    return "\n".join("".join(r) for r in cells)


def test_running_mean_and_constant_alpha() -> None:
    mem = StepMemory(HashEmbedder(64))
    mem.update([grid(0, 0)] * 3, ["right"] * 3, [1.0, 0.0, 0.5])
    assert mem.action_values([grid(0, 0)], [["right"]])[0]["right"].q == pytest.approx(0.5)
    mem.update([grid(0, 0)], ["right"], [1.5], alpha=0.5)
    value = mem.action_values([grid(0, 0)], [["right"]])[0]["right"]
    assert value.q == pytest.approx(1.0) and value.visits == 4 and value.sim == 1.0


def test_exact_state_dominates_similar_neighbours() -> None:
    mem = StepMemory(HashEmbedder(64), StepMemoryConfig(threshold=0.0))
    mem.update([grid(0, 1)], ["down"], [1.0])
    mem.update([grid(0, 0)], ["right"], [-1.0])
    values = mem.action_values([grid(0, 0)], [["down", "right"]])[0]
    assert values["right"].q == -1.0
    assert values["down"].visits == 0 and values["down"].q == 0.0  # neighbour is ignored


def test_unseen_state_uses_neighbours_above_threshold_only() -> None:
    emb = HashEmbedder(256)
    near, far = "you stand in a red room with a door", "bright sunny beach sand"
    query = "you stand in a red room with a doors"
    sim_near, sim_far = (emb.embed([query]) @ emb.embed([near, far]).T)[0]
    mem = StepMemory(emb, StepMemoryConfig(threshold=(sim_near + sim_far) / 2))
    mem.update([near, far], ["open door", "swim"], [1.0, 1.0])
    values = mem.action_values([query])[0]
    assert set(values) == {"open door"}
    assert values["open door"].sim == pytest.approx(sim_near, abs=1e-5)
    assert values["open door"].visits == 1


def test_neighbour_average_is_similarity_weighted() -> None:
    mem = StepMemory(HashEmbedder(256), StepMemoryConfig(threshold=-1.0, k_neighbors=2))
    mem.update(["state alpha one", "state beta two"], ["go", "go"], [1.0, 0.0])
    q = mem.action_values(["state alpha on"])[0]["go"].q
    assert 0.5 < q < 1.0  # closer to the first state's return


def test_unknown_actions_get_defaults_and_lengths_checked() -> None:
    mem = StepMemory(HashEmbedder(32), StepMemoryConfig(q_init=0.25))
    values = mem.action_values(["never seen"], [["a", "b"]])[0]
    assert values["a"].q == 0.25 and values["a"].visits == 0 and values["a"].sim == 0.0
    with pytest.raises(ConfigError, match="2 states"):
        mem.action_values(["x", "y"], [["a"]])
    with pytest.raises(ConfigError, match="1 actions"):
        mem.update(["x", "y"], ["a"], [1.0, 2.0])
    with pytest.raises(ConfigError, match=r"alpha=1\.5"):
        mem.update(["x"], ["a"], [1.0], alpha=1.5)


def test_embeddings_of_repeated_states_are_cached() -> None:
    mem = StepMemory(HashEmbedder(64))
    for _ in range(5):
        mem.update([grid(0, 0), grid(0, 1)], ["right", "down"], [0.0, 1.0])
        mem.action_values([grid(1, 1), grid(0, 0)])
    assert mem.embedder.misses == 3  # type: ignore[attr-defined]


def test_save_load_round_trip_and_reembed(tmp_path: Path) -> None:
    mem = StepMemory(HashEmbedder(64), StepMemoryConfig(threshold=0.3))
    mem.update([grid(0, 0), grid(1, 0), grid(0, 0)], ["right", "down", "down"], [1.0, 0.5, 0.0])
    mem.save(tmp_path / "steps")
    with pytest.raises(StoreLockedError):
        StepMemory(HashEmbedder(64)).save(tmp_path / "steps")
    queries = [grid(0, 0), grid(1, 1)]
    want = mem.action_values(queries)
    mem.close()
    loaded = StepMemory.load(tmp_path / "steps")
    assert loaded.config.threshold == 0.3 and loaded.action_values(queries) == want
    other = StepMemory.load(tmp_path / "steps", embedder=HashEmbedder(32))
    assert other.action_values([grid(0, 0)])[0] == want[0]  # exact match survives re-embedding


def test_a_directory_saved_by_an_older_version_still_loads(tmp_path: Path) -> None:
    # Before 0.2 the config held "c", the exploration constant of the retired prior().
    mem = StepMemory(HashEmbedder(16))
    mem.update(["s"], ["a"], [1.0])
    path = mem.save(tmp_path / "steps")
    mem.close()
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["config"]["c"] = 0.5
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert StepMemory.load(path).action_values(["s"])[0]["a"].q == 1.0
