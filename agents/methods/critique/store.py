"""Critique memory (Agent-R): stored search trees, their revision trajectories, and their use.

A :class:`CritiqueStore` keeps, in one directory (open formats only):

- ``trees/<tree_id>.json``: each search tree as node-link JSON;
- ``revisions.jsonl``: one revision trajectory per line.

The search that fills it and picks the lesson a prompt shows is :mod:`.learn`;
:mod:`.export` turns its contents into training data.

    >>> from memplay.trainers.revisions import RevisionTrajectory, Turn
    >>> store = CritiqueStore()
    >>> store.add_revisions([RevisionTrajectory(
    ...     env_id="Grid", goal="reach G", start_obs="at start", thought="'left' was bad.",
    ...     bad_steps=[Turn(action="left", obs="fell")],
    ...     good_steps=[Turn(action="down", obs="G")])])
    >>> [r.bad_action for r in CritiqueStore().revisions] + [store.revisions[0].bad_action]
    ['left']
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from memplay.agents.methods.critique.tree import CritiqueTree
from memplay.errors import ArchiveError, DataNotFound
from memplay.memory.item import MemoryItem
from memplay.memory.jsonio import append_jsonl, read_jsonl
from memplay.trainers.revisions import RevisionTrajectory

__all__ = ["CritiqueStore", "critique_item", "critique_text", "relevance"]

_WORD = re.compile(r"[a-z0-9]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def relevance(revision: RevisionTrajectory, goal: str, observation: str | None = None) -> float:
    """How well a stored lesson fits a task: word overlap of goals, plus the state match.

    An identical branching state counts most (the lesson is about exactly this situation);
    otherwise observation word overlap adds a little. No embedder is needed, so critiques
    work in runs without the embedding model.

    >>> from memplay.trainers.revisions import RevisionTrajectory, Turn
    >>> r = RevisionTrajectory(goal="reach G", start_obs="s", thought="t",
    ...                        bad_steps=[Turn(action="a", obs="x")],
    ...                        good_steps=[Turn(action="b", obs="y")])
    >>> relevance(r, "reach G", "s") > relevance(r, "reach G", "elsewhere")
    True
    """
    score = _jaccard(_words(goal), _words(revision.goal))
    if observation is not None:
        if observation.strip() == revision.branch_obs.strip():
            score += 2.0
        else:
            score += 0.5 * _jaccard(_words(observation), _words(revision.branch_obs))
    return score


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def critique_text(revision: RevisionTrajectory) -> str:
    """The lesson of a revision trajectory in two sentences.

    >>> from memplay.trainers.revisions import RevisionTrajectory, Turn
    >>> r = RevisionTrajectory(goal="g", start_obs="at S", thought="I realise 'a' was bad.",
    ...                        bad_steps=[Turn(action="a", obs="x")],
    ...                        good_steps=[Turn(action="b", obs="y")])
    >>> print(critique_text(r).splitlines()[0])
    From the state "at S" the action 'a' led to failure and 'b' led to success.
    """
    return (
        f"From the state \"{revision.branch_obs}\" the action '{revision.bad_action}' led to "
        f"failure and '{revision.good_actions[0]}' led to success.\n{revision.thought}"
    )


def critique_item(revision: RevisionTrajectory) -> MemoryItem:
    """A revision trajectory as a memory item of kind ``"critique"`` for Q-value retrieval.

    The intent is the goal plus the branching state, so a similar task in a similar state
    retrieves it; the experience is :func:`critique_text`.

    >>> from memplay.trainers.revisions import RevisionTrajectory, Turn
    >>> r = RevisionTrajectory(goal="g", start_obs="s", thought="t",
    ...                        bad_steps=[Turn(action="a", obs="x")],
    ...                        good_steps=[Turn(action="b", obs="y")])
    >>> critique_item(r).kind
    'critique'
    """
    return MemoryItem(
        intent=f"{revision.goal}\n{revision.branch_obs}".strip(),
        experience=critique_text(revision), kind="critique", env_id=revision.env_id,
        metadata={"tree_id": revision.tree_id, "bad_action": revision.bad_action,
                  "good_action": revision.good_actions[0]},
    )


class CritiqueStore:
    """Critique trees and revision trajectories in a directory (or in memory when ``None``).

    The module docstring has a runnable example.
    """

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._trees: dict[str, CritiqueTree] = {}
        self._revisions: list[RevisionTrajectory] = []
        if self.directory is not None:
            path = self.directory / "revisions.jsonl"
            try:
                self._revisions = [RevisionTrajectory.model_validate(r) for r in read_jsonl(path)]
            except ValidationError as exc:
                raise ArchiveError(f"{path} holds an invalid revision ({exc}); fix or remove "
                                   "that line") from exc

    @property
    def revisions(self) -> list[RevisionTrajectory]:
        """Every stored revision trajectory, oldest first."""
        return list(self._revisions)

    def tree_ids(self) -> list[str]:
        """Ids of stored trees, sorted.

        >>> CritiqueStore().tree_ids()
        []
        """
        ids = set(self._trees)
        if self.directory is not None and (self.directory / "trees").is_dir():
            ids.update(p.stem for p in (self.directory / "trees").glob("*.json"))
        return sorted(ids)

    def save_tree(self, tree: CritiqueTree) -> str:
        """Store ``tree`` under a new id (also written into the tree) and return the id."""
        base = _UNSAFE.sub("_", f"{tree.env_id or 'env'}-seed{tree.seed}")
        taken, number = set(self.tree_ids()), len(self.tree_ids())
        while f"{base}-{number:04d}" in taken:  # files may have been deleted by hand
            number += 1
        tree_id = f"{base}-{number:04d}"
        tree.graph.graph["tree_id"] = tree_id
        self._trees[tree_id] = tree
        if self.directory is not None:
            tree.save(self.directory / "trees" / f"{tree_id}.json")
        return tree_id

    def load_tree(self, tree_id: str) -> CritiqueTree:
        """Return a stored tree by id."""
        if tree_id in self._trees:
            return self._trees[tree_id]
        path = None if self.directory is None else self.directory / "trees" / f"{tree_id}.json"
        if path is None or not path.is_file():
            raise DataNotFound(f"no critique tree {tree_id!r}; known ids: {self.tree_ids()[:5]}")
        self._trees[tree_id] = CritiqueTree.load(path)
        return self._trees[tree_id]

    def add_revisions(self, revisions: list[RevisionTrajectory]) -> None:
        """Store revision trajectories (appended to ``revisions.jsonl``)."""
        self._revisions.extend(revisions)
        if self.directory is not None and revisions:
            append_jsonl(self.directory / "revisions.jsonl", [r.model_dump() for r in revisions])
