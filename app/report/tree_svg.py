"""Drawing an Agent-R critique tree (node-link JSON, :class:`CritiqueTree`) as inline SVG.

Layout: leaves side by side in depth-first order, each parent centred over its children,
one row per depth. Green nodes lead to a success, red ones are failed ends, grey ones were
explored without success; a node's size grows with its visits. A big tree is cut to its
``max_nodes`` most visited nodes (paths to successes first), always with their ancestors, so
what is drawn stays a tree; the caller says how many nodes were left out.

    >>> from memplay.agents.methods.critique.tree import CritiqueTree
    >>> t = CritiqueTree(env_id="Corridor", obs="at 0", admissible=["left", "right"])
    >>> n = t.add_child(0, "right", obs="at 1", reward=1.0, terminal=True, success=True)
    >>> t.backup([0, n], 1.0)
    >>> svg, drawn = tree_svg(t)
    >>> drawn, svg.count("<circle"), "right" in svg
    (2, 2, True)
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

__all__ = ["kept_nodes", "tree_svg"]

_ROW, _COLUMN, _PAD = 36, 20, 16


def kept_nodes(tree: Any, max_nodes: int) -> set[int]:
    """Up to about ``max_nodes`` nodes: paths to successes, then the most visited, each
    with its ancestors (so the result is connected from the root)."""
    graph = tree.graph
    winners = tree.leads_to_success()
    order = sorted(graph.nodes, key=lambda n: (n not in winners, -graph.nodes[n]["visits"], n))
    kept: set[int] = set()
    for node in order:
        if len(kept) >= max_nodes:
            break
        kept.update(tree.path(int(node)))
    return kept


def _layout(tree: Any, kept: set[int]) -> dict[int, tuple[float, float]]:
    """(x, y) of every kept node: leaves in DFS order, parents over their children."""
    where: dict[int, tuple[float, float]] = {}
    next_leaf = [0]

    def place(node: int) -> float:
        children = [c for c in tree.children(node) if c in kept]
        depth = tree.graph.nodes[node]["depth"]
        if children:
            xs = [place(c) for c in children]
            x = (xs[0] + xs[-1]) / 2
        else:
            x = next_leaf[0] * _COLUMN
            next_leaf[0] += 1
        where[node] = (x + _PAD, depth * _ROW + _PAD)
        return x

    # recursion depth is the tree depth, which the episode step cap bounds
    place(0)
    return where


def _colour(attrs: dict[str, Any], winner: bool) -> str:
    if attrs["terminal"]:
        return "#2ca02c" if attrs["success"] else "#d62728"
    return "#98df8a" if winner else "#c7c7c7"


def _node(node: int, attrs: dict[str, Any], xy: tuple[float, float], winner: bool,
          peak: int, path: list[str]) -> str:
    radius = 3 + 6 * math.sqrt(attrs["visits"] / peak)
    tip = (f"{' > '.join(path) or 'start'}: visits {attrs['visits']}, "
           f"value {attrs['value']:.2f}" + (", success" if attrs["success"] else ""))
    return (f'<circle cx="{xy[0]:.1f}" cy="{xy[1]:.1f}" r="{radius:.1f}" '
            f'fill="{_colour(attrs, winner)}" stroke="#555" stroke-width="0.6">'
            f"<title>{escape(tip)}</title></circle>")


def tree_svg(tree: Any, max_nodes: int = 80) -> tuple[str, int]:
    """The tree as an SVG string and the number of nodes drawn."""
    graph, kept = tree.graph, kept_nodes(tree, max_nodes)
    where, winners = _layout(tree, kept), tree.leads_to_success()
    peak = max((graph.nodes[n]["visits"] for n in kept), default=1) or 1
    label_edges = len(kept) <= 40
    edges, nodes = [], []
    for node in sorted(kept):
        attrs, (x, y) = graph.nodes[node], where[node]
        parent = tree.parent(node)
        if parent is not None:
            px, py = where[parent]
            good = node in winners
            edges.append(f'<line x1="{px:.1f}" y1="{py:.1f}" x2="{x:.1f}" y2="{y:.1f}" '
                         f'stroke="{"#2ca02c" if good else "#bbb"}" '
                         f'stroke-width="{2.2 if good else 1}"/>')
            if label_edges:
                edges.append(f'<text x="{(px + x) / 2 + 3:.1f}" y="{(py + y) / 2:.1f}" '
                             f'class="edge">{escape(str(attrs["action"]))}</text>')
        nodes.append(_node(node, attrs, (x, y), node in winners, peak, tree.actions(node)))
    width = max(x for x, _ in where.values()) + 2 * _PAD
    height = max(y for _, y in where.values()) + 2 * _PAD
    svg = (f'<svg viewBox="0 0 {width:.0f} {height:.0f}" width="{min(width, 1100):.0f}" '
           f'role="img" aria-label="critique tree" class="tree">'
           + "".join(edges) + "".join(nodes) + "</svg>")
    return svg, len(kept)
