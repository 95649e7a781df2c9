"""From an episode in flight (a :class:`~memplay.agents.state.Slot`) to the policy's plain
:class:`~memplay.agents.policy.Decision`: its actions, prompt, memory's values, the tries this
episode already made of each action's memory key, and the actions its view marks as not needed.

    >>> from memplay.agents.state import Slot, StepRecord
    >>> slot = Slot(0, state="s", admissible=["left", "right"],
    ...             steps=[StepRecord("s", "left", state="s")])
    >>> decision_of(slot, use_view=False, with_memory=True).tried
    {'left': 1}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.keys import action_keys, view_repeats
from memplay.agents.policy import Decision, LLMView, scores_for
from memplay.agents.state import Slot

__all__ = ["action_scores", "counts_repeats", "decision_of", "tried_here", "unneeded_actions"]


def tried_here(slot: Slot, keys: Mapping[str, tuple[str, str]],
               repeats: bool = True) -> dict[str, int]:
    """How often this episode already took each action's memory key, or, where the view
    says so (``"repeats"``), did what the action does.

    Without a view the key is (action, state): the tries from this very state. With a view
    it is what memory treats as the same decision, so an agent whose state text never
    repeats (ALFWorld's) still sees that it went back to a searched place twice already.
    Many actions share a key, though ("go to a drawer not visited yet"): a view that counts
    repeats itself keeps every unvisited drawer new until the agent has been there
    (``repeats``: see :func:`counts_repeats`).

    >>> tried_here(Slot(0), {"left": ("left", "s")})
    {}
    """
    taken = Counter(step.memory_key for step in slot.steps)
    tried = {action: taken[key] for action, key in keys.items() if taken[key]}
    if repeats:
        tried.update(view_repeats(slot.view))
    return {action: n for action, n in tried.items() if n}


def unneeded_actions(view: Mapping[str, Any] | None) -> frozenset[str]:
    """Actions whose view entry says ``needed: false`` (docs/CONTRACTS.md, "Portable views").

    >>> sorted(unneeded_actions({"actions": {"look": {"kind": "look", "context": "c",
    ...                                                "needed": False}}}))
    ['look']
    """
    entries = view.get("actions", {}) if isinstance(view, Mapping) else {}
    return frozenset(a for a, e in entries.items()
                     if isinstance(e, Mapping) and e.get("needed") is False)


def counts_repeats(config: AgentConfig) -> bool:
    """Whether the view's ``repeats`` count as this episode's tries (``policy.view_repeats``):
    by default while memory learns, where covering a room finds what memory lacks; a frozen
    run exploits what memory holds, and there the shared key's tries keep it from touring
    every unvisited place (ALFWorld demos-flat: 33 of 42 games with repeats, 39 without).

    >>> counts_repeats(AgentConfig()), counts_repeats(AgentConfig(frozen=True))
    (True, False)
    """
    when = config.policy.view_repeats
    return when == "always" or (when == "learning" and not config.frozen)


def decision_of(slot: Slot, *, use_view: bool, with_memory: bool,
                repeats: bool = False) -> Decision:
    """The policy's view of ``slot``'s next decision.

    ``use_view`` keys memory by the environment's portable view (``memory.step_keys="view"``);
    ``with_memory`` says whether step memory is on (off: no tries counted, no novelty bonus);
    ``repeats`` counts the view's repeats as tries (:func:`counts_repeats`).
    """
    tried = None
    if with_memory:
        keys = action_keys(slot.state, slot.view, slot.admissible, use_view)
        tried = tried_here(slot, keys, repeats and use_view)
    return Decision(actions=list(slot.admissible), prompt=slot.prompt, values=slot.recall.values,
                    tried=tried, group=slot.state, session=slot.session,
                    unneeded=unneeded_actions(slot.view))


def action_scores(ctx: AgentContext, slot: Slot, view: LLMView,
                  claimed: Mapping[str, int] | None = None) -> dict[str, float]:
    """The policy's score of each admissible action of ``slot`` given the LLM's ``view``
    (:func:`memplay.agents.policy.scores_for` on :func:`decision_of`); ``claimed``: the
    picks of parallel episodes in the same state. Calibration updates ``ctx.llm_bias``; pass
    a context with a copy to only look.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(variant="none"))
    >>> s = action_scores(ctx, Slot(0, admissible=["a", "b"]), LLMView({"a": 0.0, "b": -9.0}))
    >>> max(s, key=s.get)
    'a'
    """
    decision = decision_of(slot, use_view=ctx.config.memory.step_keys == "view",
                           with_memory=ctx.step_memory is not None,
                           repeats=counts_repeats(ctx.config))
    return scores_for(decision, view, ctx.config.policy, ctx.llm_bias, claimed)
