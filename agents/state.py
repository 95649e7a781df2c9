"""The graph state: plain data only (lists, dicts, strings), so LangGraph checkpoints it.

One state carries a *batch* of episodes stepped in lockstep; each episode is a
:class:`Slot`. Environments, the LLM and memory stores are not state: they live in
:class:`~memplay.agents.context.AgentContext`.

    >>> state = initial_state([new_slot(0, episode=0, task="3", seed=3)])
    >>> state["slots"][0]["done"], active(state["slots"])[0]["seed"]
    (False, 3)
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = ["AgentState", "Slot", "active", "initial_state", "new_slot", "replace_slots"]


class Slot(TypedDict):
    """One episode in flight. ``index`` is the environment it runs in."""

    index: int
    episode: int
    epoch: int
    task: str
    seed: int | None
    started: bool
    goal: str
    observation: str
    state: str
    admissible: list[str]
    done: bool
    truncated: bool
    success: bool
    reward: float
    steps: list[dict[str, Any]]
    invalid_actions: int
    llm_faults: int
    memories_used: list[str]
    retrieved: list[dict[str, Any]]
    step_values: dict[str, list[float]]
    prompt: Any
    action: str
    error: str | None
    seconds: float
    llm_seconds: float
    env_seconds: float


class AgentState(TypedDict):
    """What flows between nodes: the batch of slots and the current playbook text."""

    slots: list[Slot]
    playbook: str


def new_slot(
    index: int, *, episode: int = 0, epoch: int = 0, task: str = "", seed: int | None = None
) -> Slot:
    """A fresh, not yet reset episode for environment ``index``.

    >>> new_slot(1, episode=7)["episode"]
    7
    """
    return Slot(
        index=index, episode=episode, epoch=epoch, task=task, seed=seed, started=False,
        goal="", observation="", state="", admissible=[], done=False, truncated=False,
        success=False, reward=0.0,
        steps=[], invalid_actions=0, llm_faults=0, memories_used=[], retrieved=[],
        step_values={}, prompt="", action="", error=None, seconds=0.0,
        llm_seconds=0.0, env_seconds=0.0,
    )


def initial_state(slots: list[Slot], playbook: str = "") -> AgentState:
    """Wrap slots (and the playbook carried over from earlier episodes) into a graph input.

    >>> initial_state([], "be careful")["playbook"]
    'be careful'
    """
    return AgentState(slots=slots, playbook=playbook)


def active(slots: list[Slot]) -> list[Slot]:
    """Slots whose episode is still running.

    >>> s = new_slot(0); s["done"] = True
    >>> active([s, new_slot(1)])[0]["index"]
    1
    """
    return [s for s in slots if not s["done"]]


def replace_slots(slots: list[Slot], updated: list[Slot]) -> list[Slot]:
    """Return ``slots`` with the ones in ``updated`` (matched by index) swapped in.

    Nodes copy the slots they change instead of mutating the input, so a checkpointed
    state is never altered behind LangGraph's back.

    >>> a, b = new_slot(0), new_slot(1)
    >>> c = dict(b, done=True)
    >>> [s["done"] for s in replace_slots([a, b], [c])]
    [False, True]
    """
    by_index = {s["index"]: s for s in updated}
    return [by_index.get(s["index"], s) for s in slots]
