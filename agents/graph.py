"""Composing the nodes into a LangGraph StateGraph, with room for user nodes.

The graph is two pipelines of named nodes::

    step pipeline (loops until every episode in the batch is done):
        observe -> retrieve -> build_prompt -> act -> env_step
    end pipeline (once per batch):
        finish -> update_memory -> reflect

A variant's spec (:mod:`memplay.agents.variants`) drops what it does not use: ``"none"`` has
no ``retrieve``, no ``update_memory`` and no ``reflect``. To replace a node pass
``nodes={"act": my_act}``; to insert one, add it to ``nodes`` and name it in
``step_pipeline`` (or ``end_pipeline``)::

    >>> def log_prompt(state, runtime):
    ...     return {}
    >>> graph = build_agent_graph(
    ...     "memrl", nodes={"log": log_prompt},
    ...     step_pipeline=["observe", "retrieve", "build_prompt", "log", "act", "env_step"])
    >>> "log" in graph.get_graph().nodes
    True

For full control, :func:`agent_state_graph` returns the uncompiled ``StateGraph``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

from memplay.agents import mccfr as _mccfr
from memplay.agents import nodes as _nodes
from memplay.agents.context import AgentContext
from memplay.agents.state import AgentState
from memplay.agents.variants import get_variant
from memplay.errors import ConfigError

__all__ = ["DEFAULT_NODES", "agent_state_graph", "build_agent_graph", "default_pipelines"]

Node = Callable[..., Any]

DEFAULT_NODES: dict[str, Node] = {
    "observe": _nodes.observe,
    "retrieve": _nodes.retrieve,
    "build_prompt": _nodes.build_prompt,
    "act": _nodes.act,
    "env_step": _nodes.env_step,
    "finish": _nodes.finish,
    "update_memory": _nodes.update_memory,
    "reflect": _nodes.reflect,
    "regret_act": _mccfr.regret_act,
    "update_strategy": _mccfr.update_strategy,
}


def default_pipelines(variant: str) -> tuple[list[str], list[str]]:
    """The (step, end) node names a variant uses.

    >>> default_pipelines("none")
    (['observe', 'build_prompt', 'act', 'env_step'], ['finish'])
    >>> default_pipelines("memrl+critique")[1]
    ['finish', 'update_memory', 'reflect']
    """
    return get_variant(variant).pipelines()


def _chain(graph: StateGraph, names: Sequence[str]) -> None:
    for a, b in itertools.pairwise(names):
        graph.add_edge(a, b)


def agent_state_graph(
    variant: str = "memrl",
    *,
    nodes: Mapping[str, Node] | None = None,
    step_pipeline: Sequence[str] | None = None,
    end_pipeline: Sequence[str] | None = None,
) -> StateGraph:
    """Build the uncompiled graph (see the module docstring for the arguments).

    >>> agent_state_graph("rag").compile().name
    'LangGraph'
    """
    step, end = default_pipelines(variant)
    step, end = list(step_pipeline or step), list(end_pipeline or end)
    table = {**DEFAULT_NODES, **(nodes or {})}
    missing = [n for n in (*step, *end) if n not in table]
    if missing or not step or not end:
        raise ConfigError(f"pipeline names {missing or 'nothing'} without a node function; "
                          f"pass them in nodes= (known: {', '.join(sorted(table))})")
    graph = StateGraph(AgentState, context_schema=AgentContext)
    for name in dict.fromkeys((*step, *end)):
        graph.add_node(name, table[name])
    graph.add_edge(START, step[0])
    _chain(graph, step)
    graph.add_conditional_edges(
        step[-1], lambda s: end[0] if _nodes.all_done(s) else step[0], [step[0], end[0]]
    )
    _chain(graph, end)
    graph.add_edge(end[-1], END)
    return graph


def build_agent_graph(
    variant: str = "memrl",
    *,
    nodes: Mapping[str, Node] | None = None,
    step_pipeline: Sequence[str] | None = None,
    end_pipeline: Sequence[str] | None = None,
    checkpointer: Any = None,
) -> Any:
    """Compile the agent graph; pass a LangGraph checkpointer (e.g. SqliteSaver) to persist.

    Run it with ``graph.invoke(initial_state(slots), config, context=AgentContext(...))``;
    set ``config["recursion_limit"]`` to at least ``6 * max_steps`` (one loop is 5 nodes).

    >>> build_agent_graph("none").get_graph().nodes.keys() >= {"act", "env_step"}
    True
    """
    graph = agent_state_graph(
        variant, nodes=nodes, step_pipeline=step_pipeline, end_pipeline=end_pipeline
    )
    return graph.compile(checkpointer=checkpointer)
