"""Agent-R critique trees: MCTS on a tiny game, first-error splicing, JSON, store, export."""

from __future__ import annotations

import json
from typing import Any

import pytest

from memplay.agents.methods.critique.export import export_critiques, tree_pairs
from memplay.agents.methods.critique.judges import (
    LLMJudge,
    ThoughtWriter,
    ValueJudge,
    build_revision,
    revisions_from_tree,
)
from memplay.agents.methods.critique.mcts import MCTS, MCTSConfig
from memplay.agents.methods.critique.store import CritiqueStore
from memplay.agents.methods.critique.tree import ROOT, CritiqueTree
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM
from memplay.trainers.revisions import revision_record

MOVES = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


class TrapGrid:
    """3x3 grid: start top-left, goal bottom-right, traps in the centre and at (0, 2).

    Only moves that stay on the board are admissible; a trap or 6 steps ends the episode.
    The only shortest win goes down the left column, then right along the bottom row.
    """

    traps = frozenset({(1, 1), (0, 2)})

    def __init__(self) -> None:
        self.resets = 0

    def _info(self) -> dict[str, Any]:
        r, c = self.pos
        ok = [m for m, (dr, dc) in MOVES.items() if 0 <= r + dr < 3 and 0 <= c + dc < 3]
        return {"goal": "reach the bottom-right corner", "admissible_actions": ok}

    def _obs(self) -> str:
        return f"you are at row {self.pos[0]} col {self.pos[1]}"

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.pos, self.t = (0, 0), 0
        self.resets += 1
        return self._obs(), self._info()

    def step(self, action: str):
        dr, dc = MOVES[action]
        self.pos, self.t = (self.pos[0] + dr, self.pos[1] + dc), self.t + 1
        won, trapped = self.pos == (2, 2), self.pos in self.traps
        info = {**self._info(), "success": won}
        return self._obs(), float(won), won or trapped, self.t >= 6 and not won, info


def replay(env: TrapGrid, actions: list[str]) -> tuple[float, bool]:
    env.reset(seed=0)
    total, done = 0.0, False
    for action in actions:
        _, reward, terminated, truncated, _ = env.step(action)
        total, done = total + reward, terminated or truncated
    return total, done


@pytest.mark.parametrize("search_seed", [0, 1, 2])
def test_mcts_finds_the_winning_line_in_a_small_deterministic_game(search_seed: int) -> None:
    env = TrapGrid()
    tree = MCTS(env, MCTSConfig(iterations=150, seed=search_seed)).search(seed=0)
    assert tree.node(ROOT)["visits"] == 150 and env.resets == 151  # one reset per iteration
    wins = tree.terminals(success=True)
    assert wins, "search never reached the goal"
    most_visited = max(wins, key=lambda n: tree.node(n)["visits"])
    line = tree.actions(most_visited)
    assert replay(env, line) == (1.0, True)
    assert line == ["down", "down", "right", "right"]
    root_children = {tree.node(c)["action"]: tree.node(c) for c in tree.children(ROOT)}
    assert root_children["down"]["value"] > root_children["right"]["value"]
    assert root_children["down"]["visits"] > root_children["right"]["visits"]


def test_mcts_rejects_env_without_admissible_actions() -> None:
    class Blind(TrapGrid):
        def _info(self) -> dict[str, Any]:
            return {"goal": "g"}

    with pytest.raises(ConfigError, match="admissible_actions"):
        MCTS(Blind(), MCTSConfig(iterations=2)).search(seed=0)


def test_mcts_uses_the_given_rollout_policy() -> None:
    seen: list[str] = []

    def policy(obs: str, info: dict[str, Any]) -> str:
        seen.append(obs)
        return "right" if "right" in info["admissible_actions"] else "down"

    MCTS(TrapGrid(), MCTSConfig(iterations=5, seed=0), policy=policy).search(seed=0)
    assert seen and all(obs.startswith("you are at") for obs in seen)


def hand_built_tree() -> tuple[CritiqueTree, int]:
    """root -> right (trap-bound, value 0) / down (value 0.8) -> down -> right -> right (win)."""
    tree = CritiqueTree(env_id="Grid", seed=7, goal="reach G", obs="at (0,0)",
                        admissible=["right", "down"])
    right = tree.add_child(ROOT, "right", obs="at (0,1)", admissible=["right", "down"])
    trap = tree.add_child(right, "down", obs="fell into a trap at (1,1)", terminal=True)
    down = tree.add_child(ROOT, "down", obs="at (1,0)")
    down2 = tree.add_child(down, "down", obs="at (2,0)")
    right2 = tree.add_child(down2, "right", obs="at (2,1)")
    goal = tree.add_child(right2, "right", obs="at G", reward=1.0, terminal=True, success=True)
    for _ in range(4):
        tree.backup([ROOT, right, trap], 0.0)
    for ret in (1.0, 1.0, 1.0, 1.0, 0.0):
        tree.backup([ROOT, down, down2, right2, goal], ret)
    return tree, trap


def test_first_error_splicing_on_a_hand_built_tree() -> None:
    tree, trap = hand_built_tree()
    revision = build_revision(tree, trap)
    assert revision is not None
    assert revision.bad_actions == ["right"]  # the first bad step, not the trap step after it
    assert revision.good_actions == ["down", "down", "right", "right"]
    assert revision.branch_obs == "at (0,0)"
    assert revision.thought_source == "template" and "'right'" in revision.thought
    assert revision.bad_value == 0.0 and revision.good_value == pytest.approx(0.8)
    record = revision_record(revision)
    contents = [(m["role"], m["content"]) for m in record["messages"]]
    assert contents[:3] == [
        ("user", "Goal: reach G\nat (0,0)"), ("assistant", "right"), ("user", "at (0,1)"),
    ]
    assert contents[3] == ("assistant", f"{revision.thought}\ndown")
    assert contents[4:] == [
        ("user", "at (1,0)"), ("assistant", "down"), ("user", "at (2,0)"),
        ("assistant", "right"), ("user", "at (2,1)"), ("assistant", "right"),
    ]
    assert record["train_on"] == [3, 5, 7, 9] and record["source"] == "revision"


def test_no_splice_without_a_winning_sibling() -> None:
    tree = CritiqueTree(obs="s", admissible=["a", "b"])
    a = tree.add_child(ROOT, "a", obs="x", terminal=True)
    b = tree.add_child(ROOT, "b", obs="y", terminal=True)
    tree.backup([ROOT, a], 0.0)
    tree.backup([ROOT, b], 0.0)
    assert build_revision(tree, a) is None
    assert revisions_from_tree(tree) == []


def test_llm_judge_and_llm_thought_with_fallbacks() -> None:
    tree, trap = hand_built_tree()
    judge = LLMJudge(ScriptedLLM(responses=["1"]))
    writer = ThoughtWriter(ScriptedLLM(responses=["going right walks into the trap corridor."]))
    revision = build_revision(tree, trap, judge, writer)
    assert revision is not None and judge.fallbacks == 0
    assert revision.thought == "I realise going right walks into the trap corridor."
    assert revision.thought_source == "llm"
    useless_judge = LLMJudge(ScriptedLLM(responses=["I do not know"]))
    useless_writer = ThoughtWriter(ScriptedLLM(responses=[""]))
    again = build_revision(tree, trap, useless_judge, useless_writer)
    assert again is not None and again.bad_actions == ["right"]  # value judge took over
    assert useless_judge.fallbacks == 1 and useless_writer.fallbacks == 1
    assert again.thought_source == "template"


def test_value_judge_thresholds_matter() -> None:
    tree, trap = hand_built_tree()
    assert ValueJudge(bad_below=0.5, good_above=0.9)(tree, tree.path(trap)) is None


def test_node_link_json_round_trip(tmp_path) -> None:
    tree = MCTS(TrapGrid(), MCTSConfig(iterations=40, seed=3)).search(seed=0)
    path = tmp_path / "tree.json"
    tree.save(path)
    data = json.loads(path.read_text())
    assert {"nodes", "edges", "graph"} <= set(data)
    again = CritiqueTree.load(path)
    assert len(again) == len(tree) and again.seed == 0
    assert sorted(again.graph.edges) == sorted(tree.graph.edges)
    for node in tree.graph.nodes:
        assert again.node(node) == tree.node(node)


def test_store_persists_trees_and_revisions_and_exports(tmp_path) -> None:
    tree, _ = hand_built_tree()
    store = CritiqueStore(tmp_path)
    tree_id = store.save_tree(tree)
    revisions = revisions_from_tree(tree)
    store.add_revisions(revisions)
    assert len(revisions) == 1 and revisions[0].tree_id == tree_id == store.tree_ids()[0]
    again = CritiqueStore(tmp_path)
    assert [r.bad_actions for r in again.revisions] == [["right"]]
    assert len(again.load_tree(again.tree_ids()[0])) == len(tree)
    sft_n, pair_n = export_critiques(again, tmp_path / "sft.jsonl", tmp_path / "pairs.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert sft_n == 1 and pair_n == len(rows) == len(tree_pairs(tree))
    assert all(r["chosen"] != r["rejected"] for r in rows)
    assert {"messages", "train_on", "source"} <= set(
        json.loads((tmp_path / "sft.jsonl").read_text().splitlines()[0])
    )


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_mcts_tree_yields_revisions_that_end_in_success(gamma: float) -> None:
    env = TrapGrid()
    tree = MCTS(env, MCTSConfig(iterations=150, seed=1, gamma=gamma)).search(seed=0)
    revisions = revisions_from_tree(tree, limit=5)
    assert revisions
    for revision in revisions:
        prefix = revision.bad_actions[:-1]
        assert replay(env, prefix + revision.good_actions) == (1.0, True)
        assert replay(env, revision.bad_actions)[0] == 0.0


def test_mcts_and_revisions_on_the_real_frozenlake_env() -> None:
    from memplay.environments import make

    env = make("FrozenLake-4x4-v0")
    tree = MCTS(env, MCTSConfig(iterations=300, seed=0, gamma=0.95)).search(seed=0)
    assert tree.terminals(success=True) and tree.goal
    revisions = revisions_from_tree(tree, limit=2)
    assert revisions
    for revision in revisions:
        env.reset(seed=0)
        for action in revision.bad_actions[:-1] + revision.good_actions:
            *_, info = env.step(action)
        assert info["success"] is True
