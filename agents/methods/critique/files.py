"""The critique method's files in memory archives: ``critiques/trees/<id>.json`` (search
trees) and ``critiques/revisions.jsonl`` (revision trajectories, appended on import).

Importing this module registers them with :mod:`memplay.memory.reflection_files`.

    >>> import tempfile, pathlib
    >>> from memplay.agents.methods.critique.tree import CritiqueTree
    >>> from memplay.memory.reflection_files import reflection_entries
    >>> src = pathlib.Path(tempfile.mkdtemp())
    >>> CritiqueTree(env_id="x", obs="s").save(src / "critiques" / "trees" / "x-seed0-0000.json")
    >>> [e["path"] for e in reflection_entries(src)]
    ['critiques/trees/x-seed0-0000.json']
"""

from __future__ import annotations

import json

from memplay.agents.methods.critique.tree import CritiqueTree
from memplay.memory.reflection_files import jsonl_rows, register_reflection_file
from memplay.trainers.revisions import RevisionTrajectory

__all__ = ["check_tree_file"]


def check_tree_file(text: str) -> None:
    """Raise when ``text`` is not a stored critique tree (node-link JSON).

    >>> check_tree_file(json.dumps(CritiqueTree(obs="s").to_json()))
    """
    CritiqueTree.from_json(json.loads(text))


register_reflection_file("tree", "critiques/trees/*.json", check_tree_file)
register_reflection_file("revisions", "critiques/revisions.jsonl",
                         jsonl_rows(RevisionTrajectory.model_validate_json), appended=True)
