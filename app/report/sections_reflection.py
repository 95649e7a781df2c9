"""Report sections about self-written memory: CEL playbook versions (with the diff of each
rewrite and the rollbacks) and Agent-R critique trees (drawn from their node-link JSON).

    >>> from memplay.agents.methods.playbook.documents import DocumentHistory
    >>> h = DocumentHistory.start("rules", "- Holes end the game.")
    >>> _ = h.propose("- Holes end the game.\\n- Walls block.")
    >>> "+- Walls block." in version_diffs(h)
    True
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from html import escape
from typing import Any

from memplay.app.report.html import Section, fmt, nothing_recorded, table
from memplay.app.report.run_data import RunData
from memplay.app.report.tree_svg import tree_svg

__all__ = ["critiques_section", "playbooks_section", "version_diffs"]

MAX_TREES = 6


def _diff_html(old: str, new: str, label: str) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2))
    body = []
    for line in lines[2:]:  # the ---/+++ header says nothing the caption does not
        cls = "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        body.append(f'<span class="{cls}">{escape(line)}</span>' if cls else escape(line))
    return (f"<h3>{escape(label)}</h3><pre class=\"diff\">"
            + ("\n".join(body) or "(no change)") + "</pre>")


def version_diffs(history: Any) -> str:
    """Each rewrite of a document against the version it was written from."""
    parts = []
    for doc in history.versions[1:]:
        if doc.parent is None:
            continue
        parent = history.versions[doc.parent]
        state = " (rolled back)" if doc.rolled_back else ""
        parts.append(_diff_html(parent.text, doc.text,
                                f"{history.name} v{doc.parent} -> v{doc.version}{state}"))
    return "".join(parts)


def _versions_table(history: Any) -> str:
    rows = [[f"v{d.version}" + (" (active)" if d.version == history.active else ""),
             "-" if d.parent is None else f"v{d.parent}", d.source, str(d.episodes),
             fmt(d.success_rate, 2), "yes" if d.rolled_back else "", str(len(d.text))]
            for d in history.versions]
    return table(["version", "parent", "source", "episodes", "success rate", "rolled back",
                  "chars"], rows)


def _document(family: str, history: Any) -> str:
    why = ", ".join(f"{reason} {n}" for reason, n in sorted(history.rejections.items()))
    head = (f"<h3>{escape(family)} / {escape(history.name)}: {len(history.versions)} versions, "
            f"{history.rollbacks} rollbacks, rewrites rejected: {escape(why or 'none')}</h3>")
    return head + _versions_table(history) + version_diffs(history)


def playbooks_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """Every playbook and rules document: versions, success per version, diffs, rollbacks."""
    title = "Playbook versions"
    if not main.playbooks:
        return nothing_recorded("playbooks", title, "no playbooks (only variant "
                                "memrl+playbook writes memory/playbooks/)")
    body = "".join(_document(family, history) for family, docs in sorted(main.playbooks.items())
                   for history in docs.values())
    return Section("playbooks", title, body)


def _figure(tree_id: str, tree: Any) -> str:
    svg, drawn = tree_svg(tree)
    wins = len(tree.terminals(success=True))
    cut = f", {len(tree) - drawn} less visited not drawn" if drawn < len(tree) else ""
    caption = (f"{tree_id}: {len(tree)} nodes{cut}, {wins} successful ends, "
               f"{len(tree.terminals(success=False))} failed ends")
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def critiques_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """The newest critique trees, drawn, with counts of trees and revisions."""
    title = "Critique trees"
    if not main.trees:
        return nothing_recorded("critiques", title, "no critique trees (only variant "
                                "memrl+critique writes memory/critiques/)")
    # ids end in a running number (<env>-seed<task>-<n>): the newest trees sort last
    shown = sorted(main.trees, key=lambda t: t[0].rsplit("-", 1)[-1])[-MAX_TREES:]
    body = (f"<p>{len(main.trees)} trees, {main.revisions} revision trajectories. "
            f"Showing the newest {len(shown)}. Green: leads to a success (dark: a successful "
            "end); red: a failed end; grey: explored, no success below; size: visits. Hover "
            "a node for its moves, visits and mean return.</p>")
    body += '<div class="trees">' + "".join(_figure(i, t) for i, t in shown) + "</div>"
    return Section("critiques", title, body)
