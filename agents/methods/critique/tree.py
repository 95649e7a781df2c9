"""A search tree over actions (Agent-R critique tree), kept in a networkx ``DiGraph``.

Node 0 is the reset state of one task (environment id + reset seed). Every other node is the
state reached by its parent's state plus the edge's ``action``. Node attributes:

- ``action`` (``None`` at the root), ``obs`` (observation on arrival), ``reward`` (reward of
  the step that arrived here), ``terminal``, ``success``, ``admissible`` (actions offered here),
  ``depth``;
- ``visits`` and ``value``: how often search passed here and the mean *episode* return of
  those passes; ``best``: the highest return seen through the node (``None`` before a visit).

Episode returns (not returns-to-go) are used because siblings share their prefix, so comparing
siblings is unaffected and every node's value reads on one scale. Trees serialise to
node-link JSON (never pickle).

    >>> t = CritiqueTree(env_id="Corridor", seed=3, goal="reach the end", obs="at 0",
    ...                  admissible=["left", "right"])
    >>> n = t.add_child(0, "right", obs="at 1", reward=1.0, terminal=True, success=True)
    >>> t.backup([0, n], 1.0)
    >>> CritiqueTree.from_json(t.to_json()).node(n)["value"]
    1.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from memplay.errors import ArchiveError, ConfigError
from memplay.memory.jsonio import read_json, write_json_atomic

__all__ = ["ROOT", "CritiqueTree"]

ROOT = 0
_FORMAT = 1


class CritiqueTree:
    """Search tree of one task; see the module docstring for the node attributes.

    Args:
        env_id, seed, goal: Which task this tree explores (reset seed = task).
        obs: Observation after ``reset``.
        admissible: Actions offered at the root.

    >>> CritiqueTree(env_id="x", obs="start").node(ROOT)["depth"]
    0
    """

    def __init__(
        self,
        *,
        env_id: str = "",
        seed: int | None = None,
        goal: str = "",
        obs: str = "",
        admissible: list[str] | None = None,
        graph: nx.DiGraph | None = None,
    ) -> None:
        if graph is not None:
            self.graph = graph
            return
        self.graph = nx.DiGraph(env_id=env_id, seed=seed, goal=goal, format=_FORMAT)
        self.graph.add_node(ROOT, **_attrs(None, obs, 0.0, False, False, admissible, 0))

    @property
    def env_id(self) -> str:
        """Environment id of the task."""
        return str(self.graph.graph.get("env_id", ""))

    @property
    def seed(self) -> int | None:
        """Reset seed of the task."""
        seed = self.graph.graph.get("seed")
        return None if seed is None else int(seed)

    @property
    def goal(self) -> str:
        """Goal text from the environment's ``info``."""
        return str(self.graph.graph.get("goal", ""))

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    def node(self, node: int) -> dict[str, Any]:
        """The attribute dict of ``node`` (live: edits change the tree).

        >>> CritiqueTree(obs="s").node(0)["obs"]
        's'
        """
        if node not in self.graph:
            raise ConfigError(f"node {node} is not in the tree (it has {len(self)} nodes)")
        attrs: dict[str, Any] = self.graph.nodes[node]
        return attrs

    def add_child(
        self,
        parent: int,
        action: str,
        *,
        obs: str,
        reward: float = 0.0,
        terminal: bool = False,
        success: bool = False,
        admissible: list[str] | None = None,
    ) -> int:
        """Add the state reached by ``action`` from ``parent``; return its node id.

        >>> t = CritiqueTree(obs="s")
        >>> t.add_child(0, "go", obs="t")
        1
        """
        if self.child(parent, action) is not None:
            raise ConfigError(f"node {parent} already has a child for action {action!r}")
        node = len(self)
        depth = int(self.node(parent)["depth"]) + 1
        attrs = _attrs(action, obs, reward, terminal, success, admissible, depth)
        self.graph.add_node(node, **attrs)
        self.graph.add_edge(parent, node)
        return node

    def child(self, parent: int, action: str) -> int | None:
        """The child reached by ``action`` from ``parent``, or ``None``."""
        for node in self.graph.successors(parent):
            if self.graph.nodes[node]["action"] == action:
                return int(node)
        return None

    def children(self, node: int) -> list[int]:
        """Children of ``node`` in insertion order."""
        return sorted(int(n) for n in self.graph.successors(node))

    def parent(self, node: int) -> int | None:
        """Parent of ``node`` (``None`` for the root)."""
        preds = list(self.graph.predecessors(node))
        return int(preds[0]) if preds else None

    def path(self, node: int) -> list[int]:
        """Node ids from the root down to ``node``.

        >>> t = CritiqueTree(obs="s"); n = t.add_child(0, "go", obs="t"); t.path(n)
        [0, 1]
        """
        nodes = [node]
        while (up := self.parent(nodes[-1])) is not None:
            nodes.append(up)
        return nodes[::-1]

    def actions(self, node: int) -> list[str]:
        """Actions from the reset state to ``node``."""
        return [str(self.graph.nodes[n]["action"]) for n in self.path(node)[1:]]

    def backup(self, path: list[int], episode_return: float) -> None:
        """Add one visit with ``episode_return`` to every node on ``path`` (incremental mean)."""
        for node in path:
            attrs = self.node(node)
            attrs["visits"] += 1
            attrs["value"] += (episode_return - attrs["value"]) / attrs["visits"]
            best = attrs["best"]
            attrs["best"] = episode_return if best is None else max(best, episode_return)

    def terminals(self, success: bool | None = None) -> list[int]:
        """Terminal nodes, optionally only successful (``True``) or failed (``False``) ones."""
        return [
            int(n)
            for n, a in self.graph.nodes(data=True)
            if a["terminal"] and (success is None or bool(a["success"]) == success)
        ]

    def leads_to_success(self) -> set[int]:
        """Every node with a successful terminal in its subtree (the node itself included)."""
        found: set[int] = set()
        for leaf in self.terminals(success=True):
            found.update(self.path(leaf))
        return found

    def to_json(self) -> dict[str, Any]:
        """Node-link JSON (``nodes``/``edges`` lists, graph attributes under ``graph``)."""
        return dict(nx.node_link_data(self.graph, edges="edges"))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CritiqueTree:
        """Rebuild a tree written by :meth:`to_json`."""
        if not isinstance(data, dict) or "nodes" not in data or "edges" not in data:
            raise ArchiveError("critique tree JSON needs 'nodes' and 'edges' (node-link format)")
        graph = nx.node_link_graph(data, directed=True, multigraph=False, edges="edges")
        if ROOT not in graph:
            raise ArchiveError(f"critique tree JSON has no root node {ROOT}; it is not a tree")
        return cls(graph=graph)

    def save(self, path: Path) -> None:
        """Write the tree as node-link JSON, atomically."""
        write_json_atomic(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path) -> CritiqueTree:
        """Read a tree written by :meth:`save`."""
        return cls.from_json(read_json(Path(path)))


def _attrs(
    action: str | None,
    obs: str,
    reward: float,
    terminal: bool,
    success: bool,
    admissible: list[str] | None,
    depth: int,
) -> dict[str, Any]:
    return {
        "action": action, "obs": obs, "reward": float(reward), "terminal": bool(terminal),
        "success": bool(success), "admissible": list(admissible or []), "depth": depth,
        "visits": 0, "value": 0.0, "best": None,
    }
