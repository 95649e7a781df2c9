"""The critique memory's export to training, in the chat format trainers read.

- revision trajectories become chat records and preference pairs
  (:func:`memplay.trainers.revisions.revision_record`, ``revision_preference``);
- :func:`tree_pairs`: ``{"prompt", "chosen", "rejected", "source": "mcts"}`` from
  sibling branches whose values differ by at least ``min_gap``.

Each record is one JSON object; :func:`write_records` appends them to a JSONL file.

    >>> from memplay.trainers.revisions import RevisionTrajectory, Turn
    >>> r = RevisionTrajectory(goal="g", start_obs="s", bad_steps=[Turn(action="a", obs="x")],
    ...                        thought="I realise 'a' was a mistake.",
    ...                        good_steps=[Turn(action="b", obs="won")])
    >>> store = CritiqueStore(); store.add_revisions([r])
    >>> import tempfile, pathlib
    >>> export_critiques(store, pathlib.Path(tempfile.mkdtemp()) / "sft.jsonl")
    (1, 0)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from memplay.agents.methods.critique.store import CritiqueStore
from memplay.agents.methods.critique.tree import ROOT, CritiqueTree
from memplay.memory.jsonio import append_jsonl
from memplay.trainers.revisions import (
    Turn,
    chat_opening,
    play_turns,
    revision_preference,
    revision_record,
)

__all__ = ["export_critiques", "tree_pairs", "write_records"]


def tree_pairs(
    tree: CritiqueTree, min_gap: float = 0.5, min_visits: int = 1, system: str | None = None
) -> list[dict[str, Any]]:
    """One pair per state whose best and worst visited children differ by ``>= min_gap``.

    >>> t = CritiqueTree(goal="g", obs="s")
    >>> a, b = t.add_child(0, "a", obs="x"), t.add_child(0, "b", obs="y")
    >>> t.backup([0, a], 0.0); t.backup([0, b], 1.0)
    >>> [(p["chosen"], p["rejected"]) for p in tree_pairs(t)]
    [('b', 'a')]
    """
    pairs = []
    for node in sorted(tree.graph.nodes):
        kids = [c for c in tree.children(node) if tree.node(c)["visits"] >= min_visits]
        if len(kids) < 2:
            continue
        best = max(kids, key=lambda c: tree.node(c)["value"])
        worst = min(kids, key=lambda c: tree.node(c)["value"])
        if tree.node(best)["value"] - tree.node(worst)["value"] < min_gap:
            continue
        turns = [Turn(action=str(tree.node(n)["action"]), obs=str(tree.node(n)["obs"]))
                 for n in tree.path(node)[1:]]
        prompt = play_turns(chat_opening(tree.goal, str(tree.node(ROOT)["obs"]), system), turns)
        pairs.append({
            "prompt": prompt, "chosen": str(tree.node(best)["action"]),
            "rejected": str(tree.node(worst)["action"]), "source": "mcts",
        })
    return pairs


def write_records(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Append records to a JSONL file; return how many were written.

    >>> import tempfile, pathlib
    >>> write_records(pathlib.Path(tempfile.mkdtemp()) / "sft.jsonl", [{"messages": []}])
    1
    """
    return append_jsonl(Path(path), records)


def export_critiques(store: CritiqueStore, sft_path: Path, pairs_path: Path | None = None,
                     system: str | None = None) -> tuple[int, int]:
    """Write a critique store's revision records (and preference pairs) as JSONL.

    Pairs come from each revision's branching state and from every stored tree; a pair
    found twice (a revision's branch is usually also a tree pair) is written once. Returns
    both counts.

    >>> import tempfile, pathlib
    >>> export_critiques(CritiqueStore(), pathlib.Path(tempfile.mkdtemp()) / "sft.jsonl")
    (0, 0)
    """
    revisions = store.revisions
    sft = write_records(sft_path, [revision_record(r, system) for r in revisions])
    if pairs_path is None:
        return sft, 0
    pairs = [revision_preference(r, system) for r in revisions]
    for tree_id in store.tree_ids():
        pairs.extend(tree_pairs(store.load_tree(tree_id), system=system))
    unique: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        unique.setdefault(json.dumps([pair["prompt"], pair["chosen"], pair["rejected"]]), pair)
    return sft, write_records(pairs_path, unique.values())
