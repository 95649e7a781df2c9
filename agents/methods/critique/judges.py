"""Agent-R judges: find the first bad step of a failed path and splice a revision.

Given a failed path in a :class:`~memplay.agents.methods.critique.tree.CritiqueTree`:

1. find the first bad step, by value (:class:`ValueJudge`: the first node whose value is low
   while a sibling's is high and leads to a success) or by asking the LLM (:class:`LLMJudge`,
   falls back to values when its answer is unusable);
2. splice: the bad prefix up to and including that step, a short revision thought, then the
   good sibling's continuation down to a success.

The spliced transcript has the observation after the bad step and then, in one assistant
turn, the revision thought and the good sibling's first action. The game state cannot really
be rewound, so (as in Agent-R) that turn teaches the model to notice a mistake and switch to
the better branch rather than to reproduce an exact state sequence.

    >>> from memplay.agents.methods.critique.tree import CritiqueTree
    >>> t = CritiqueTree(goal="reach G", obs="start", admissible=["hole", "safe"])
    >>> bad = t.add_child(0, "hole", obs="fell", terminal=True)
    >>> good = t.add_child(0, "safe", obs="won", reward=1.0, terminal=True, success=True)
    >>> t.backup([0, bad], 0.0); t.backup([0, good], 1.0)
    >>> revision = build_revision(t, bad)
    >>> revision.bad_actions, revision.good_actions
    (['hole'], ['safe'])
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from memplay.agents.methods.budget import SizeBudget
from memplay.agents.methods.critique.tree import CritiqueTree
from memplay.agents.methods.transcript import clip
from memplay.agents.methods.validation import check_generation
from memplay.errors import ConfigError, LLMError
from memplay.llm.base import LLM, SamplingParams
from memplay.trainers.revisions import RevisionTrajectory, Turn

__all__ = [
    "FirstErrorFinder",
    "LLMJudge",
    "ThoughtWriter",
    "ValueJudge",
    "build_revision",
    "good_continuation",
    "good_sibling",
    "revisions_from_tree",
    "splice",
    "templated_thought",
]

FirstErrorFinder = Callable[[CritiqueTree, list[int]], "int | None"]


@dataclass(frozen=True)
class ValueJudge:
    """First node on the path with ``value < bad_below`` and a sibling that wins.

    A sibling "wins" when its value is ``>= good_above`` and a successful terminal lies in its
    subtree (so there is a continuation to splice). Values are mean episode returns; with
    ``relative=True`` (default) both thresholds are fractions of the best return the search
    found (the root's ``best``), so they work for any reward scale or discount.

    ``compare="sibling"`` is for sparse rewards (large maps), where random rollouts win so
    rarely that even a winning branch's mean return stays far below the best return: a node
    is bad when no search pass through it ever won, a sibling's did, and the node's value
    is at most ``bad_below`` times that sibling's (``good_above`` is unused).

    Returns the index of that node in ``path`` (the root is index 0), or ``None``.

    >>> ValueJudge(bad_below=0.5, good_above=0.5).bad_below
    0.5
    """

    bad_below: float = 0.5
    good_above: float = 0.5
    relative: bool = True
    compare: Literal["root", "sibling"] = "root"

    def __post_init__(self) -> None:
        if self.compare not in ("root", "sibling"):
            raise ConfigError(f"compare={self.compare!r} must be 'root' or 'sibling'")

    def __call__(self, tree: CritiqueTree, path: list[int]) -> int | None:
        if self.compare == "sibling":
            return self._by_sibling(tree, path)
        best = tree.node(path[0])["best"]
        scale = best if self.relative and best is not None and best > 0 else 1.0
        winners = tree.leads_to_success()
        for index, node in enumerate(path[1:], start=1):
            if tree.node(node)["value"] >= self.bad_below * scale:
                continue
            if good_sibling(tree, node, winners, min_value=self.good_above * scale) is not None:
                return index
        return None

    def _by_sibling(self, tree: CritiqueTree, path: list[int]) -> int | None:
        winners = tree.leads_to_success()
        for index, node in enumerate(path[1:], start=1):
            if node in winners:
                continue
            sibling = good_sibling(tree, node, winners)
            if sibling is None:
                continue
            value, other = tree.node(node)["value"], tree.node(sibling)["value"]
            if other > value and value <= self.bad_below * other:
                return index
        return None


def good_sibling(
    tree: CritiqueTree, node: int, winners: set[int] | None = None, min_value: float = -1e300
) -> int | None:
    """The highest-valued sibling of ``node`` that leads to a success, or ``None``.

    >>> good_sibling(CritiqueTree(obs="s"), 0) is None
    True
    """
    parent = tree.parent(node)
    if parent is None:
        return None
    winners = tree.leads_to_success() if winners is None else winners
    options = [
        s for s in tree.children(parent)
        if s != node and s in winners and tree.node(s)["value"] >= min_value
    ]
    return max(options, key=lambda s: tree.node(s)["value"], default=None)


def good_continuation(tree: CritiqueTree, start: int) -> list[int]:
    """Nodes from ``start`` down to its shortest successful ending (ties: higher value).

    Shortest, because random rollouts wander (bumping into walls, going back and forth) and a
    training example should show the direct way; searches with undiscounted rewards do not
    prefer it on their own.

    >>> good_continuation(CritiqueTree(obs="s"), 0)
    []
    """
    wins = [leaf for leaf in tree.terminals(success=True) if start in tree.path(leaf)]
    if not wins:
        return []
    best = min(wins, key=lambda n: (tree.node(n)["depth"], -tree.node(n)["value"]))
    path = tree.path(best)
    return path[path.index(start) :]


_FIRST_INT = re.compile(r"\d+")


@dataclass
class LLMJudge:
    """Ask the LLM which step was the first mistake; fall back to ``fallback`` when useless.

    The answer must contain a step number (1-based, among the path's steps) whose node has a
    winning sibling; anything else counts in ``fallbacks`` and the value judge decides.

    >>> from memplay.llm.fake import ScriptedLLM
    >>> LLMJudge(ScriptedLLM(responses=["Step 1"])).fallbacks
    0
    """

    llm: LLM
    fallback: FirstErrorFinder = field(default_factory=ValueJudge)
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=8))
    fallbacks: int = 0

    def __call__(self, tree: CritiqueTree, path: list[int]) -> int | None:
        index = self._ask(tree, path)
        if index is not None and good_sibling(tree, path[index]) is not None:
            return index
        self.fallbacks += 1
        return self.fallback(tree, path)

    def _ask(self, tree: CritiqueTree, path: list[int]) -> int | None:
        lines = [f"Goal: {tree.goal}", f"Start: {clip(str(tree.node(path[0])['obs']), 300)}"]
        for number, node in enumerate(path[1:], start=1):
            attrs = tree.node(node)
            lines.append(f"Step {number}: {attrs['action']} -> {clip(str(attrs['obs']), 160)}")
        lines.append("The episode failed. Which step number was the first mistake? Answer: Step")
        try:
            answer = self.llm.generate(["\n".join(lines)], self.sampling)[0]
        except LLMError:
            return None
        match = _FIRST_INT.search(answer)
        number = int(match.group()) if match else 0
        return number if 1 <= number < len(path) else None


def templated_thought(bad_action: str, good_action: str) -> str:
    """The revision thought used when the LLM gives nothing usable.

    >>> templated_thought("left", "down")
    "I realise 'left' was a mistake: it leads to failure. I should try 'down' instead."
    """
    return (
        f"I realise {bad_action!r} was a mistake: it leads to failure. I should try "
        f"{good_action!r} instead."
    )


@dataclass
class ThoughtWriter:
    """Writes the short revision thought, with the LLM when given one, else from a template.

    Generated text is cleaned, checked like any other generation (it must name one of the
    two actions) and cut at a sentence boundary to ``max_chars``; useless text falls back to
    :func:`templated_thought` (counted in ``fallbacks``).

    >>> ThoughtWriter().write("Goal: g", "left", "down")[1]
    'template'
    """

    llm: LLM | None = None
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(max_new_tokens=48))
    max_chars: int = 240
    fallbacks: int = 0

    def write(self, context: str, bad_action: str, good_action: str) -> tuple[str, str]:
        """Return ``(thought, source)`` with source ``"llm"`` or ``"template"``."""
        template = templated_thought(bad_action, good_action)
        if self.llm is None:
            return template, "template"
        prompt = (
            f"{context}\nThe action '{bad_action}' led to failure; '{good_action}' led to "
            "success. In one sentence, say why the first action was a mistake.\nI realise"
        )
        try:
            raw = self.llm.generate([prompt], self.sampling)[0]
        except LLMError:
            raw = ""
        verdict = check_generation(
            " ".join(raw.split()), old="", prompt=prompt, min_chars=10,
            budget=SizeBudget(max_units=self.max_chars), anchors=[bad_action, good_action],
        )
        if not verdict.ok:
            self.fallbacks += 1
            return template, "template"
        text = verdict.text
        return f"I realise {text}" if not text.lower().startswith("i realise") else text, "llm"


def _turns(tree: CritiqueTree, nodes: list[int]) -> list[Turn]:
    return [Turn(action=str(tree.node(n)["action"]), obs=str(tree.node(n)["obs"])) for n in nodes]


def build_revision(
    tree: CritiqueTree,
    failed_node: int,
    finder: FirstErrorFinder | None = None,
    writer: ThoughtWriter | None = None,
) -> RevisionTrajectory | None:
    """Splice the revision trajectory of the path to ``failed_node``; ``None`` if no bad step.

    The module docstring has a runnable example.
    """
    path = tree.path(failed_node)
    index = (finder or ValueJudge())(tree, path)
    return None if index is None else splice(tree, path, index, writer)


def splice(
    tree: CritiqueTree, path: list[int], index: int, writer: ThoughtWriter | None = None
) -> RevisionTrajectory | None:
    """Splice at ``path[index]`` (the first bad step); ``None`` without a winning sibling.

    >>> splice(CritiqueTree(obs="s"), [0], 0) is None
    True
    """
    bad = path[index]
    sibling = good_sibling(tree, bad)
    continuation = good_continuation(tree, sibling) if sibling is not None else []
    if sibling is None or not continuation:
        return None
    bad_steps, good_steps = _turns(tree, path[1 : index + 1]), _turns(tree, continuation)
    context = f"Goal: {tree.goal}\nObservation: {bad_steps[-1].obs}"
    thought, source = (writer or ThoughtWriter()).write(
        context, bad_steps[-1].action, good_steps[0].action
    )
    return RevisionTrajectory(
        env_id=tree.env_id, seed=tree.seed, goal=tree.goal, start_obs=str(tree.node(0)["obs"]),
        tree_id=str(tree.graph.graph.get("tree_id", "")), bad_steps=bad_steps, thought=thought,
        thought_source=source, good_steps=good_steps, bad_value=float(tree.node(bad)["value"]),
        good_value=float(tree.node(sibling)["value"]),
    )


def revisions_from_tree(
    tree: CritiqueTree,
    finder: FirstErrorFinder | None = None,
    writer: ThoughtWriter | None = None,
    limit: int = 3,
) -> list[RevisionTrajectory]:
    """Revision trajectories for the tree's most-visited failed leaves, one per bad step.

    Failed leaves that share their first bad step give the same lesson, so only the most
    visited of them is spliced (and only it costs an LLM call for the thought).

    >>> revisions_from_tree(CritiqueTree(obs="s"))
    []
    """
    finder = finder or ValueJudge()
    seen: set[int] = set()
    found: list[RevisionTrajectory] = []
    leaves = sorted(tree.terminals(success=False), key=lambda n: -tree.node(n)["visits"])
    for leaf in leaves:
        if len(found) >= limit:
            break
        path = tree.path(leaf)
        index = finder(tree, path)
        if index is None or path[index] in seen:
            continue
        seen.add(path[index])
        revision = splice(tree, path, index, writer)
        if revision is not None:
            found.append(revision)
    return found
