"""The agent's node functions: ``(state, runtime) -> partial state update``.

Each node works on the whole batch of slots (episodes in lockstep) so that one step costs
one batched LLM call. Nodes copy the slots they change; live objects come from
``runtime.context`` (an :class:`~memplay.agents.context.AgentContext`). Faults in one
environment mark only that episode as errored.

Call a node by hand (what the tests do)::

    >>> from langgraph.runtime import Runtime
    >>> from memplay.agents.config import AgentConfig
    >>> from memplay.agents.context import AgentContext
    >>> from memplay.agents.llm.fake import ScriptedLLM
    >>> from memplay.agents.state import initial_state, new_slot
    >>> ctx = AgentContext(envs=[], llm=ScriptedLLM(), config=AgentConfig(variant="none"))
    >>> build_prompt(initial_state([]), Runtime(context=ctx))
    {'slots': []}
"""

from __future__ import annotations

import math
import time
from typing import Any

from langgraph.runtime import Runtime

from memplay.agents.config import MemoryConfig
from memplay.agents.context import AgentContext
from memplay.agents.policy import calibrate, choose_action, combine_scores
from memplay.agents.prompts import build_messages
from memplay.agents.records import experience_text, to_trajectory
from memplay.agents.state import AgentState, Slot, active, replace_slots
from memplay.errors import LLMOutputError
from memplay.memory.item import MemoryItem

__all__ = [
    "act",
    "all_done",
    "build_prompt",
    "critique",
    "env_step",
    "observe",
    "reflect",
    "retrieve",
    "update_memory",
]

Update = dict[str, Any]


def _fail(slot: Slot, error: str) -> Slot:
    return Slot(**{**slot, "done": True, "success": False, "error": error})


def _admissible(info: dict[str, Any], previous: list[str]) -> list[str]:
    actions = info.get("admissible_actions")
    return list(actions) if actions else previous


def observe(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Reset the environment of every slot that has not started; record goal and actions.

    Faults while resetting end that episode with ``error`` set (the runner recreates the
    environment); the other slots go on.
    """
    updated = []
    for slot in active(state["slots"]):
        if slot["started"]:
            continue
        env = runtime.context.envs[slot["index"]]
        try:
            obs, info = env.reset(seed=slot["seed"])
        except Exception as exc:  # any env crash is isolated to its episode by design
            updated.append(_fail(slot, f"reset failed: {type(exc).__name__}: {exc}"))
            continue
        updated.append(Slot(**{
            **slot, "started": True, "observation": obs,
            "state": runtime.context.state_key(env, obs, info), "goal": str(info.get("goal", "")),
            "admissible": _admissible(info, []), "seconds": time.perf_counter(),
        }))
    return {"slots": replace_slots(state["slots"], updated)}


def _retrieve_task(slot: Slot, ctx: AgentContext) -> Slot:
    """MemRL phases A+B once per episode (the task does not change within it)."""
    if ctx.task_memory is None or not ctx.config.uses_task_memory or slot["steps"]:
        return slot
    mem = ctx.config.memory
    lam = 0.0 if ctx.config.variant == "rag" else mem.lam  # plain RAG ranks by similarity
    hits = ctx.task_memory.retrieve(
        f"{slot['goal']}\n{slot['observation']}", k1=mem.k1, k2=mem.k2, delta=mem.delta, lam=lam
    )
    retrieved = [
        {"id": h.item.id, "text": h.item.experience, "q": float(h.item.q), "sim": float(h.sim)}
        for h in hits
    ]
    return Slot(**{**slot, "retrieved": retrieved,
                   "memories_used": [m["id"] for m in retrieved]})


def retrieve(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Task-level memories (first step) and step-level action values (every step, batched)."""
    ctx = runtime.context
    slots = [_retrieve_task(s, ctx) for s in active(state["slots"])]
    if ctx.step_memory is not None and ctx.config.uses_step_memory and slots:
        values = ctx.step_memory.action_values(
            [s["state"] for s in slots], [s["admissible"] for s in slots]
        )
        slots = [
            Slot(**{**s, "step_values": {a: [float(q), float(n), float(sim)]
                                         for a, (q, n, sim) in v.items()}})
            for s, v in zip(slots, values)
        ]
    return {"slots": replace_slots(state["slots"], slots)}


def build_prompt(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Write each active slot's prompt (chat messages) from its goal, memories and state,
    plus the critic's lesson for the slot's task when the context has a critic."""
    ctx = runtime.context
    slots = [Slot(**{**s, "prompt": build_messages(s, state["playbook"], ctx.config.prompt,
                                                   _lesson(ctx, s))})
             for s in active(state["slots"])]
    return {"slots": replace_slots(state["slots"], slots)}


def _lesson(ctx: AgentContext, slot: Slot) -> str:
    if ctx.critic is None:
        return ""
    return ctx.critic.prompt_text(slot["goal"], slot["observation"], slot["seed"])


def _llm_scores(ctx: AgentContext, slots: list[Slot]) -> list[dict[str, float]]:
    """One batched call: score the admissible actions, or generate and match the text."""
    prompts = [s["prompt"] for s in slots]
    if ctx.config.action_method == "generate":
        texts = ctx.llm.generate(prompts)
        return [{a: (0.0 if a.lower() in t.lower() else -10.0) for a in s["admissible"]}
                for s, t in zip(slots, texts)]
    scored = ctx.llm.score(prompts, [s["admissible"] for s in slots])
    bad = [c for row in scored for c in row if not math.isfinite(c.logprob_mean)]
    if bad:  # NaN/inf would poison the softmax over actions: a backend fault, not a choice
        raise LLMOutputError(f"backend {ctx.llm.name!r} scored {bad[0].text!r} as "
                             f"{bad[0].logprob_mean}; scores must be finite log-probabilities")
    return [{c.text: c.logprob_mean for c in row} for row in scored]


def _tried_here(slot: Slot) -> dict[str, int]:
    """How often each action was already taken from the current observation this episode."""
    counts: dict[str, int] = {}
    for step in slot["steps"]:
        if step["info"]["state"] == slot["state"]:
            counts[step["action"]] = counts.get(step["action"], 0) + 1
    return counts


def act(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Choose one action per active slot: LLM score + step-memory prior + novelty bonus.

    Any LLM failure (LLMError, a timeout, a backend bug) ends the affected episodes as
    errored instead of the whole run; the fault is counted in the episode's ``llm_faults``.
    """
    ctx = runtime.context
    slots = [s for s in active(state["slots"]) if s["admissible"]]
    if not slots:
        return {"slots": state["slots"]}
    started = time.perf_counter()
    try:
        llm_scores = _llm_scores(ctx, slots)
    except Exception as exc:  # any backend fault (timeouts too) is isolated to its episodes
        failed = [_fail(Slot(**{**s, "llm_faults": s["llm_faults"] + 1}), f"LLM failed: {exc}")
                  for s in slots]
        return {"slots": replace_slots(state["slots"], failed)}
    share = (time.perf_counter() - started) / len(slots)  # one batched call for all slots
    chosen = [Slot(**{**s, "llm_seconds": s["llm_seconds"] + share})
              for s in _choose_all(ctx, slots, llm_scores)]
    return {"slots": replace_slots(state["slots"], chosen)}


def _choose_all(ctx: AgentContext, slots: list[Slot], llm_scores: list[dict[str, float]]
                ) -> list[Slot]:
    """Pick actions slot by slot; with memory on, parallel episodes in the same state count
    each other's picks as visits ("virtual loss"), so they try different moves."""
    explore = ctx.config.uses_step_memory
    claimed: dict[str, dict[str, int]] = {}
    chosen = []
    for slot, raw in zip(slots, llm_scores):
        scores = calibrate(raw, ctx.llm_bias) if ctx.config.calibrate else raw
        tried = _tried_here(slot)
        for action, n in claimed.get(slot["state"], {}).items():
            tried[action] = tried.get(action, 0) + n
        action = choose_action(
            combine_scores(scores, slot["step_values"], ctx.config.memory,
                           tried if explore else None, ctx.config.llm_weight),
            ctx.config.temperature, ctx.rng)
        picks = claimed.setdefault(slot["state"], {})
        picks[action] = picks.get(action, 0) + 1
        chosen.append(Slot(**{**slot, "action": action}))
    return chosen


def _step_one(slot: Slot, ctx: AgentContext) -> Slot:
    env = ctx.envs[slot["index"]]
    started = time.perf_counter()
    try:
        obs, reward, terminated, truncated, info = env.step(slot["action"])
    except Exception as exc:  # any env crash is isolated to its episode by design
        return _fail(slot, f"step failed: {type(exc).__name__}: {exc}")
    step = {"observation": slot["observation"], "action": slot["action"],
            "reward": float(reward), "admissible_actions": slot["admissible"],
            "info": {"state": slot["state"],
                     "visits": int(sum(v[1] for v in slot["step_values"].values()))}}
    steps = [*slot["steps"], step]
    out_of_time = bool(truncated) or len(steps) >= ctx.config.max_steps
    done = bool(terminated) or out_of_time
    total = slot["reward"] + float(reward)
    success = bool(info.get("success", total > 0)) if done else False
    return Slot(**{
        **slot, "steps": steps, "observation": obs, "state": ctx.state_key(env, obs, info),
        "reward": total, "done": done,
        "truncated": out_of_time and not terminated,
        "success": success, "admissible": _admissible(info, slot["admissible"]),
        "invalid_actions": int(info.get("invalid_actions", slot["invalid_actions"])),
        "env_seconds": slot["env_seconds"] + time.perf_counter() - started,
    })


def env_step(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Send each chosen action to its environment and record the step."""
    slots = [_step_one(s, runtime.context) for s in active(state["slots"])]
    return {"slots": replace_slots(state["slots"], slots)}


def all_done(state: AgentState) -> bool:
    """Routing test: has every episode in the batch ended?

    >>> from memplay.agents.state import initial_state
    >>> all_done(initial_state([]))
    True
    """
    return not active(state["slots"])


def reflect(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """End of batch: let the reflector rewrite the playbook from the finished episodes.

    Also stamps each slot's wall time. Without a reflector (or outside the playbook
    variant) the playbook is left as it is.
    """
    now = time.perf_counter()
    slots = [Slot(**{**s, "seconds": max(now - s["seconds"], 0.0) if s["started"] else 0.0})
             for s in state["slots"]]
    ctx = runtime.context
    if ctx.reflector is None or not ctx.config.uses_playbook or ctx.config.frozen:
        return {"slots": slots}
    finished = [to_trajectory(s, ctx.config.env_id) for s in slots if s["error"] is None]
    return {"slots": slots, "playbook": ctx.reflector(finished, state["playbook"])}


def critique(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """End of batch (``memrl+critique``): hand the failed episodes to the critic, which
    searches critique trees, stores revisions and teaches step memory their winning paths.

    Does nothing without a critic or in frozen runs. Errored episodes are skipped (their
    path says nothing about the task).
    """
    ctx = runtime.context
    if ctx.critic is None or ctx.config.frozen:
        return {}
    failed = [to_trajectory(s, ctx.config.env_id) for s in state["slots"]
              if s["error"] is None and s["steps"] and not s["success"]]
    if failed:
        steps = ctx.step_memory if ctx.config.uses_step_memory else None
        ctx.critic.after_batch(failed, steps)
    return {}


def update_memory(state: AgentState, runtime: Runtime[AgentContext]) -> Update:
    """Monte Carlo Q updates of used memories, then write each episode back (merged).

    Reward is +1 for success and -1 otherwise (MemRL). Errored episodes and frozen runs
    (evaluation) write nothing.
    """
    ctx = runtime.context
    if ctx.config.frozen or not ctx.config.uses_task_memory:
        return {}
    for slot in state["slots"]:
        if slot["error"] is None and slot["steps"]:
            _learn_from(slot, ctx)
    return {}


def _first_visit_novelty(slot: Slot, beta: float) -> list[float]:
    """Intrinsic reward per step: ``beta / sqrt(1 + N)`` when the step reached a state for
    the first time in this episode (``N``: its visits in memory), else 0. Loops earn nothing;
    paths to rarely seen states keep a high return, so exploration heads for the frontier."""
    keys = [step["info"]["state"] for step in slot["steps"]]
    seen_before = [int(step["info"].get("visits", 0)) for step in slot["steps"]]
    out = [0.0] * len(keys)
    for i in range(len(keys) - 1):
        nxt = keys[i + 1]
        if nxt not in keys[: i + 1]:
            out[i] = beta / (1 + seen_before[i + 1]) ** 0.5
    return out


def _credit_loop_free_path(keys: list[str], returns: list[float], gamma: float) -> None:
    """Add a success's discounted +1 to the loop-erased path only: a move from a state the
    episode came back to later was part of a detour, and crediting it would teach the loop."""
    path: list[int] = []  # step indices of the path with every loop cut out
    for i, key in enumerate(keys):
        seen = [keys[p] for p in path]
        if key in seen:
            path = path[: seen.index(key)]
        path.append(i)
    for distance, i in enumerate(reversed(path)):
        returns[i] += gamma**distance


def step_returns(slot: Slot, mem: MemoryConfig) -> list[float]:
    """The return step memory learns for each step of a finished episode.

    Outcome: +1 on the last move of a success, -1 on the last move of a failure, 0 for a
    time-out; plus a novelty reward for each first visit to a rarely seen state. Returns are
    discounted sums (``gamma``): a success is credited to the path that led to it, and
    moves toward unexplored states keep a high value. Only the fatal move of a failure is
    blamed, so the safe moves before it do not look worse than useless ones. A move that
    left the state unchanged (a wall) gets at most ``-noop_penalty``.

    >>> from memplay.agents.config import MemoryConfig
    >>> from memplay.agents.state import new_slot
    >>> s = new_slot(0); s.update(success=True, steps=[{"info": {"state": k}} for k in "aab"])
    >>> step_returns(s, MemoryConfig(gamma=0.5, noop_penalty=0.5, novelty=0.0))
    [-0.5, 0.5, 1.0]
    >>> s["steps"] = [{"info": {"state": k}} for k in "abac"]  # a -> b -> a is a detour
    >>> step_returns(s, MemoryConfig(gamma=0.5, noop_penalty=0.0, novelty=0.0))
    [0.0, 0.0, 0.5, 1.0]
    """
    keys = [step["info"]["state"] for step in slot["steps"]]
    rewards = _first_visit_novelty(slot, mem.novelty)
    returns, running = [0.0] * len(keys), 0.0
    for i in reversed(range(len(keys))):
        running = rewards[i] + mem.gamma * running
        returns[i] = running
    if slot["success"]:
        _credit_loop_free_path(keys, returns, mem.gamma)
    if keys and not slot["success"] and not slot["truncated"]:
        returns[-1] = -1.0  # not discounted back: only the fatal move is to blame
    for i in range(len(keys) - 1):
        if keys[i] == keys[i + 1]:
            returns[i] = min(returns[i], -mem.noop_penalty)
    return returns


def _learn_from(slot: Slot, ctx: AgentContext) -> None:
    mem = ctx.config.memory
    reward = 1.0 if slot["success"] else -1.0
    trajectory = to_trajectory(slot, ctx.config.env_id)
    if ctx.task_memory is not None:
        if slot["memories_used"]:
            ctx.task_memory.update_q(slot["memories_used"], reward, alpha=mem.alpha)
        item = MemoryItem(intent=f"{slot['goal']}\n{slot['steps'][0]['observation']}",
                          experience=experience_text(trajectory), q=mem.q_init,
                          env_id=ctx.config.env_id)
        ctx.task_memory.write_back(item, merge_threshold=mem.merge_threshold)
    if ctx.step_memory is not None and ctx.config.uses_step_memory:
        ctx.step_memory.update([s["info"]["state"] for s in slot["steps"]],
                               [s["action"] for s in slot["steps"]],
                               step_returns(slot, mem))
