"""The agent's node functions: ``(state, runtime) -> partial state update``.

Each node works on the whole batch of slots (episodes in lockstep) so that one step costs
one batched LLM call. Nodes copy the slots they change; live objects come from
``runtime.context`` (an :class:`~memplay.agents.context.AgentContext`), and a node does
only what the context has the parts for: without task memory ``retrieve`` skips MemRL, and
so on. Which parts a variant gets is decided once, by the variant registry
(:mod:`memplay.agents.variants`). Faults in one environment mark only that episode as
errored.

The nodes also turn a slot into the policy's plain :class:`~memplay.agents.policy.Decision`
(:func:`decision_of`): the tries this episode already made of each action's memory key
(:func:`~memplay.agents.state.action_keys`), the actions its view marks as not needed.

Call a node by hand (what the tests do)::

    >>> from langgraph.runtime import Runtime
    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.agents.context import AgentContext
    >>> from memplay.llm.fake import ScriptedLLM
    >>> from memplay.agents.state import initial_state
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(variant="none"))
    >>> build_prompt(initial_state([]), Runtime(context=ctx))
    {'slots': []}
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from functools import partial
from typing import Any

from langgraph.runtime import Runtime

from memplay.agents.config import AgentConfig
from memplay.agents.context import AgentContext
from memplay.agents.hindsight import learn_hindsight
from memplay.agents.learning import learn_from
from memplay.agents.policy import (
    Choice,
    Decision,
    LLMView,
    ask_model,
    choose_batch,
    plan_batch,
    recall_scores,
    scores_for,
    with_kept,
)
from memplay.agents.prompts import build_messages, listing_only
from memplay.agents.state import (
    AgentState,
    Memory,
    Recall,
    Slot,
    StepRecord,
    action_keys,
    active,
    replace_slots,
)
from memplay.llm.base import release_sessions

__all__ = ["act", "action_scores", "all_done", "build_prompt", "counts_repeats", "decision_of",
           "env_step", "finish", "observe", "reflect", "retrieve", "tried_here",
           "unneeded_actions", "update_memory", "view_repeats"]

Update = dict[str, Any]


def _admissible(info: dict[str, Any], previous: list[str]) -> list[str]:
    actions = info.get("admissible_actions")
    return list(actions) if actions else previous


def observe(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Reset the environment of every slot that has not started (one batch to the env
    workers); record goal, actions, state and view.

    Faults while resetting end that episode with ``error`` set (the runner renews the
    environment); the other slots go on.
    """
    ctx = runtime.context
    fresh = [s for s in active(state["slots"]) if not s.started]
    if not fresh:
        return {"slots": state["slots"]}
    results = ctx.workers.reset_many([s.index for s in fresh], seeds=[s.seed for s in fresh])
    updated = []
    for slot, result in zip(fresh, results):
        if isinstance(result, Exception):  # an env crash stays with its episode
            updated.append(slot.failed(f"reset failed: {_cause(result)}"))
            continue
        obs, info = result
        updated.append(slot.but(
            started=True, observation=obs, state=ctx.state_key(ctx.env_at(slot.index), obs, info),
            view=info.get("view"), goal=str(info.get("goal", "")), seat=info.get("to_play"),
            admissible=_admissible(info, []), seconds=time.perf_counter()))
    return {"slots": replace_slots(state["slots"], updated)}


def _cause(fault: Exception) -> str:
    """``Type: message`` of what an env raised (kept as the fault's cause by the workers)."""
    cause = fault.__cause__ or fault
    return f"{type(cause).__name__}: {cause}"


def _task_memories(slot: Slot, ctx: AgentContext) -> list[Memory]:
    """Task memories once per episode (the task does not change within it); the retriever
    ranks by its own settings (MemRL's k1, k2, delta, lambda; lambda 0 for plain RAG)."""
    if ctx.task_memory is None or slot.steps:
        return slot.recall.memories
    hits = ctx.task_memory.retrieve(f"{slot.goal}\n{slot.observation}")
    return [Memory(h.item.id, h.item.experience, float(h.item.q), float(h.sim)) for h in hits]


def retrieve(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Recall for the next decision: task memories (first step), step memory's values
    (every step, batched) and each reflection's lesson for the task."""
    ctx = runtime.context
    slots = active(state["slots"])
    values: list[dict[str, Any]] = [{} for _ in slots]
    if ctx.step_memory is not None and slots:
        values = [dict(v) for v in ctx.step_memory.estimate([_keys(s, ctx) for s in slots])]
    recalled = []
    for slot, value in zip(slots, values):
        lessons = [(r.tag, r.prompt_text(slot.goal, slot.observation, slot.seed))
                   for r in ctx.reflections]
        recall = Recall(memories=_task_memories(slot, ctx), values=value,
                        lessons=[(tag, text) for tag, text in lessons if text])
        recalled.append(slot.but(recall=recall))
    return {"slots": replace_slots(state["slots"], recalled)}


def _keys(slot: Slot, ctx: AgentContext) -> dict[str, tuple[str, str]]:
    use_view = ctx.config.memory.step_keys == "view"
    return action_keys(slot.state, slot.view, slot.admissible, use_view)


# --- a slot as the policy's Decision: memory keys, tries here, unneeded actions ---------------
def view_repeats(view: Mapping[str, Any] | None) -> dict[str, int]:
    """The actions whose view entry says how often this episode already did what they do
    (``"repeats"``, docs/CONTRACTS.md "Portable views"), with that count.

    >>> view_repeats({"state": "s", "actions": {"go to a": {"kind": "go", "context": "c",
    ...                                                      "repeats": 2}}})
    {'go to a': 2}
    >>> view_repeats(None)
    {}
    """
    entries = view.get("actions", {}) if isinstance(view, Mapping) else {}
    return {action: int(entry["repeats"]) for action, entry in entries.items()
            if isinstance(entry, Mapping) and "repeats" in entry}


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


def decision_of(slot: Slot, ctx: AgentContext) -> Decision:
    """The policy's view of ``slot``'s next decision under ``ctx``'s settings.

    Memory keys follow ``memory.step_keys`` (``"view"``: the environment's portable view);
    without step memory no tries are counted (no novelty bonus); the view's repeats count
    as tries where :func:`counts_repeats` says so.

    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.llm.fake import ScriptedLLM
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(variant="none"))
    >>> decision_of(Slot(0, admissible=["a", "b"]), ctx).actions
    ['a', 'b']
    """
    tried = None
    if ctx.step_memory is not None:
        use_view = ctx.config.memory.step_keys == "view"
        keys = action_keys(slot.state, slot.view, slot.admissible, use_view)
        tried = tried_here(slot, keys, counts_repeats(ctx.config) and use_view)
    relist = partial(listing_only, slot, ctx.config.prompt) \
        if ctx.config.policy.list_actions != "all" else None
    return Decision(actions=list(slot.admissible), prompt=slot.prompt, values=slot.recall.values,
                    tried=tried, group=slot.state, session=slot.session,
                    unneeded=unneeded_actions(slot.view), relist=relist)


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
    return scores_for(decision_of(slot, ctx), view, ctx.config.policy, ctx.llm_bias, claimed)


def build_prompt(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Write each active slot's prompt (chat messages) from its goal, recall and state."""
    cfg = runtime.context.config.prompt
    slots = [s.but(prompt=build_messages(s, cfg)) for s in active(state["slots"])]
    return {"slots": replace_slots(state["slots"], slots)}


def act(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Choose one action per active slot through the policy (:mod:`memplay.agents.policy`):
    memory's verdicts first (the gate), then one batched LLM call for the open decisions.

    Any LLM failure (LLMError, a timeout, a backend bug) ends the episodes that waited for
    the model as errored instead of the whole run; the fault is counted in the episode's
    ``llm_faults``. Decisions memory settled go on.
    """
    ctx = runtime.context
    cfg = ctx.config
    slots = [s for s in active(state["slots"]) if s.admissible]
    if not slots:
        return {"slots": state["slots"]}
    decisions = [decision_of(s, ctx) for s in slots]
    plans, kept = recall_scores(ctx.score_memo, decisions, plan_batch(decisions, cfg.policy),
                                cfg.policy)
    fault = None
    try:
        views, seconds = ask_model(ctx.llm, decisions, plans, cfg.policy)
    except Exception as exc:  # any backend fault (timeouts too) is isolated to its episodes
        views, seconds, fault = {}, 0.0, exc
    views = with_kept(views, kept, decisions, plans, ctx.score_memo, cfg.policy)
    choices = choose_batch(decisions, plans, views, cfg.policy, ctx.llm_bias, ctx.rng, seconds)
    chosen = [_chosen(slot, choice, fault) for slot, choice in zip(slots, choices)]
    return {"slots": replace_slots(state["slots"], chosen)}


def _chosen(slot: Slot, choice: Choice | None, fault: Exception | None) -> Slot:
    """The slot with its choice, or failed when the model it waited for failed."""
    if choice is None:
        return slot.but(llm_faults=slot.llm_faults + 1).failed(f"LLM failed: {fault}")
    return slot.but(action=choice.action, thought=choice.thought,
                    llm_seconds=slot.llm_seconds + choice.seconds,
                    decision_stats=slot.decision_stats + choice.stats)


def _step_one(slot: Slot, ctx: AgentContext, result: Any, env_seconds: float) -> Slot:
    """The slot after its env answered ``result`` (a Gymnasium step tuple, or a fault)."""
    if isinstance(result, Exception):  # an env crash stays with its episode
        return slot.failed(f"step failed: {_cause(result)}")
    obs, reward, terminated, truncated, info = result
    record = StepRecord(observation=slot.observation, action=slot.action, reward=float(reward),
                        admissible=slot.admissible, state=slot.state, thought=slot.thought,
                        visits=sum(v.visits for v in slot.recall.values.values()),
                        key=_keys(slot, ctx).get(slot.action), seat=slot.seat,
                        view=slot.view,
                        achieved=tuple(str(g) for g in info.get("achieved_goals") or ()))
    steps = [*slot.steps, record]
    out_of_time = bool(truncated) or len(steps) >= ctx.config.max_steps
    done = bool(terminated) or out_of_time
    total = slot.reward + float(reward)
    return slot.but(
        steps=steps, observation=obs,
        state=ctx.state_key(ctx.env_at(slot.index), obs, info), view=info.get("view"),
        seat=info.get("to_play"), reward=total, done=done, truncated=out_of_time and not terminated,
        success=bool(info.get("success", total > 0)) if done else False,
        admissible=_admissible(info, slot.admissible), thought=None,
        env_seconds=slot.env_seconds + env_seconds,
        invalid_actions=int(info.get("invalid_actions", slot.invalid_actions)))


def env_step(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Send each chosen action to its environment (one batch to the env workers, which may
    step them in parallel) and record the step."""
    ctx = runtime.context
    slots = active(state["slots"])
    if not slots:
        return {"slots": state["slots"]}
    started = time.perf_counter()
    results = ctx.workers.step_many([s.index for s in slots], [s.action for s in slots])
    share = (time.perf_counter() - started) / len(slots)  # one batch for all slots
    stepped = [_step_one(s, ctx, r, share) for s, r in zip(slots, results)]
    return {"slots": replace_slots(state["slots"], stepped)}


def all_done(state: AgentState) -> bool:
    """Routing test: has every episode in the batch ended?

    >>> from memplay.agents.state import initial_state
    >>> all_done(initial_state([]))
    True
    """
    return not active(state["slots"])


def finish(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """End of batch, first node: stamp each episode's wall time (errored ones too) and let
    the backend free the attention states it kept for the batch's episodes.

    >>> from langgraph.runtime import Runtime
    >>> from memplay.agents.state import initial_state
    >>> finish(initial_state([Slot(0)]), Runtime(context=None))["slots"][0].seconds
    0.0
    """
    now = time.perf_counter()
    if runtime.context is not None:  # the batch is over: free its episodes' cached states
        release_sessions(runtime.context.llm, [s.session for s in state["slots"]])
        runtime.context.score_memo.forget(s.session for s in state["slots"])
    return {"slots": [s.but(seconds=max(now - s.seconds, 0.0) if s.started else 0.0)
                      for s in state["slots"]]}


def update_memory(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """End of batch: unless frozen, update task and step memory from every finished episode
    (see :mod:`memplay.agents.learning`), then from the goals each achieved on the way
    (:mod:`memplay.agents.hindsight`; the episode counts them in ``hindsight``).

    Errored episodes write nothing: their path says nothing about the task.
    """
    ctx = runtime.context
    if ctx.config.frozen:
        return {}
    taught = []
    for slot in state["slots"]:
        if slot.error is None and slot.steps:
            learn_from(slot, ctx.config, ctx.task_memory, ctx.step_memory)
            count = learn_hindsight(slot, ctx.config, ctx.task_memory, ctx.step_memory)
            taught.append(slot.but(hindsight=count))
    return {"slots": replace_slots(state["slots"], taught)}


def reflect(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """End of batch: every reflection (playbook, critique, reflexion, expel...) learns from
    the batch's finished episodes, after memory was updated (critique rollouts use it).

    Does nothing in frozen runs (evaluation), where reflections only speak in prompts.
    """
    ctx = runtime.context
    if ctx.config.frozen or not ctx.reflections:
        return {}
    finished = [s.to_trajectory(ctx.config.env_id) for s in state["slots"]
                if s.error is None and s.steps]
    for reflection in ctx.reflections:
        reflection.learn(finished, ctx.step_memory)
    return {}
