"""StepMemory: exact-state dominance, neighbour averaging, save/load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memplay.errors import ConfigError, StoreLockedError
from memplay.memory import (
    ActionValue,
    HashEmbedder,
    IndexConfig,
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


def test_state_rule_lets_an_exact_state_answer_alone() -> None:
    # memplay < 0.2: a stored state ignores its neighbours, untried actions get q_init
    mem = StepMemory(HashEmbedder(64), StepMemoryConfig(threshold=0.0, lookup="state"))
    mem.update([grid(0, 1)], ["down"], [1.0])
    mem.update([grid(0, 0)], ["right"], [-1.0])
    values = mem.action_values([grid(0, 0)], [["down", "right"]])[0]
    assert values["right"].q == -1.0
    assert values["down"].visits == 0 and values["down"].q == 0.0  # neighbour is ignored


def test_action_rule_borrows_an_untried_action_and_says_so() -> None:
    # NEC: an action never taken here borrows from near contexts that took it
    mem = StepMemory(HashEmbedder(64), StepMemoryConfig(threshold=0.0))
    mem.update([grid(0, 1)], ["down"], [1.0])
    mem.update([grid(0, 1)], ["down"], [1.0])
    mem.update([grid(0, 0)], ["right"], [-1.0])
    values = mem.action_values([grid(0, 0)], [["down", "right", "up"]])[0]
    assert values["right"] == ActionValue(-1.0, 1, 1.0, 0.0)  # exact: its own value
    down = values["down"]
    assert down.q == 1.0 and down.visits == 0 and 0.0 < down.sim < 1.0
    assert down.borrowed == 2.0  # the neighbour's visits, kept apart from real ones
    assert values["up"] == ActionValue(0.0, 0, 1.0, 0.0)  # nobody took it: nothing to borrow


def test_action_rule_borrows_only_within_the_same_kind() -> None:
    emb = HashEmbedder(256)
    mem = StepMemory(emb, StepMemoryConfig(threshold=-1.0))
    mem.update(["window .H. goal down"], ["left"], [-1.0])
    values = mem.estimate([{"a": ("right", "window .H. goal down!"),
                            "b": ("left", "window .H. goal down!")}])[0]
    assert values["a"].q == 0.0 and values["a"].borrowed == 0.0
    assert values["b"].q == -1.0 and values["b"].borrowed == 1.0


def test_inverse_kernel_trusts_the_nearest_neighbour_most() -> None:
    texts = ["state alpha one", "state beta two"]
    found = {}
    for kernel in ("inverse", "similarity"):
        mem = StepMemory(HashEmbedder(256), StepMemoryConfig(threshold=-1.0, k_neighbors=2,
                                                             kernel=kernel))
        mem.update(texts, ["go", "go"], [1.0, 0.0])
        found[kernel] = mem.action_values(["state alpha on"])[0]["go"].q
    assert 0.5 < found["similarity"] < found["inverse"] < 1.0


def test_max_states_drops_the_least_recently_updated() -> None:
    mem = StepMemory(HashEmbedder(64), StepMemoryConfig(max_states=2, threshold=1.0))
    mem.update(["a"], ["x"], [1.0])
    mem.update(["b"], ["x"], [1.0])
    mem.update(["a"], ["x"], [1.0])  # "a" is fresh again
    mem.update(["c"], ["x"], [1.0])
    assert len(mem) == 2 and [r["state"] for r in mem.to_rows()] == ["a", "c"]
    assert mem.action_values(["b"], [["x"]])[0]["x"].visits == 0


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf", "auto"])
def test_every_index_kind_saves_loads_and_answers_alike(kind: str, tmp_path: Path) -> None:
    config = StepMemoryConfig(index=IndexConfig(kind=kind, approx_threshold=8, ivf_nprobe=64))
    mem = StepMemory(HashEmbedder(64), config)
    states = [grid(r, c) for r in range(4) for c in range(4)]
    mem.update(states, ["right"] * 16, [float(i) for i in range(16)])
    before = mem.action_values(states, [["right"]] * 16)
    mem.save(tmp_path / "steps")
    mem.close()
    again = StepMemory.load(tmp_path / "steps")
    assert again.config.index.kind == kind
    assert again.action_values(states, [["right"]] * 16) == before
    assert [v["right"].q for v in before] == [float(i) for i in range(16)]


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
