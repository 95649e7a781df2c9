"""Training records from Agent-R critique memory, in the chat format trainers read.

- :func:`revision_record`: ``{"messages", "train_on", "source": "revision"}``; loss falls only on
  the revision turn (thought + first good action) and the good continuation after it, never
  on the bad prefix the model should not imitate.
- :func:`tree_pairs`: ``{"prompt", "chosen", "rejected", "source": "mcts"}`` from
  sibling branches whose values differ by at least ``min_gap``.

Each record is one JSON object; :func:`write_records` appends them to a JSONL file.

    >>> from memplay.memory.reflection.revision import RevisionTrajectory, Turn
    >>> r = RevisionTrajectory(goal="g", start_obs="s", bad_steps=[Turn(action="a", obs="x")],
    ...                        thought="I realise 'a' was a mistake.",
    ...                        good_steps=[Turn(action="b", obs="won")])
    >>> record = revision_record(r)
    >>> [m["role"] for m in record["messages"]], record["train_on"]
    (['user', 'assistant', 'user', 'assistant'], [3])
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from memplay.memory.reflection.critique import CritiqueStore
from memplay.memory.reflection.jsonio import append_jsonl
from memplay.memory.reflection.revision import RevisionTrajectory, Turn
from memplay.memory.reflection.tree import ROOT, CritiqueTree
from memplay.trainers.records import Message

__all__ = ["export_critiques", "revision_preference", "revision_record", "tree_pairs",
           "write_records"]


def _opening(goal: str, start_obs: str, system: str | None) -> list[Message]:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": f"Goal: {goal}\n{start_obs}".strip()})
    return messages


def _play(messages: list[Message], turns: Iterable[Turn]) -> list[Message]:
    for turn in turns:
        messages.append({"role": "assistant", "content": turn.action})
        messages.append({"role": "user", "content": turn.obs})
    return messages


def revision_record(revision: RevisionTrajectory, system: str | None = None) -> dict[str, Any]:
    """Chat record of a revision trajectory (see the module docstring).

    The revision turn is ``"<thought>\\n<good action>"``: the action stays alone on the last
    line, as in every other assistant turn, so action parsers keep working.
    """
    messages = _play(_opening(revision.goal, revision.start_obs, system), revision.bad_steps)
    first, *rest = revision.good_steps
    messages.append({"role": "assistant", "content": f"{revision.thought}\n{first.action}"})
    train_on = [len(messages) - 1]
    previous = first
    for turn in rest:  # each good action follows the observation of the one before it
        messages.append({"role": "user", "content": previous.obs})
        messages.append({"role": "assistant", "content": turn.action})
        train_on.append(len(messages) - 1)
        previous = turn
    return {"messages": messages, "train_on": train_on, "source": "revision"}


def revision_preference(revision: RevisionTrajectory, system: str | None = None) -> dict[str, Any]:
    """Preference pair at the branching state: the good action over the bad one.

    >>> from memplay.memory.reflection.revision import RevisionTrajectory, Turn
    >>> r = RevisionTrajectory(goal="g", start_obs="s", bad_steps=[Turn(action="a", obs="x")],
    ...                        thought="t", good_steps=[Turn(action="b", obs="won")])
    >>> pair = revision_preference(r); pair["chosen"], pair["rejected"]
    ('b', 'a')
    """
    prompt = _play(_opening(revision.goal, revision.start_obs, system), revision.bad_steps[:-1])
    return {
        "prompt": prompt, "chosen": revision.good_actions[0], "rejected": revision.bad_action,
        "source": "revision",
    }


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
        prompt = _play(_opening(tree.goal, str(tree.node(ROOT)["obs"]), system), turns)
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
