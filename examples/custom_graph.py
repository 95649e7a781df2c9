"""Build your own agent graph: insert a node, replace one, and run it on FrozenLake.

The graph is plain LangGraph: a step loop (observe -> retrieve -> build_prompt -> act ->
env_step) and an end pipeline (finish -> update_memory -> reflect). Each episode is a typed
record (memplay.agents.state.Slot) that nodes copy with `slot.but(...)`. Here we add a node
that prints each prompt's size and swap `act` for one that avoids repeating the last move.

    python examples/custom_graph.py
    python examples/custom_graph.py --quick   # scripted LLM and hash embedder: seconds
"""

from __future__ import annotations

import sys
from typing import Any

from memplay.agents import Agent, build_agent_graph
from memplay.agents import nodes as stock


def log_sizes(state: dict[str, Any], runtime: Any) -> dict[str, Any]:
    """A read-only node: report prompt sizes, change nothing."""
    sizes = [len(str(s.prompt)) for s in state["slots"] if not s.done]
    print(f"prompt chars: {sizes}")
    return {}


def act_no_repeat(state: dict[str, Any], runtime: Any) -> dict[str, Any]:
    """Run the stock `act`, then undo a choice that repeats the previous move."""
    slots = []
    for slot in stock.act(state, runtime)["slots"]:
        if not slot.done and slot.steps and slot.action == slot.steps[-1].action:
            others = [a for a in slot.admissible if a != slot.action]
            slot = slot.but(action=others[0] if others else slot.action)
        slots.append(slot)
    return {"slots": slots}


def main() -> None:
    graph = build_agent_graph(
        "memrl",
        nodes={"log_sizes": log_sizes, "act": act_no_repeat},
        step_pipeline=["observe", "retrieve", "build_prompt", "log_sizes", "act", "env_step"],
    )
    # --quick: no model (the scripted LLM and the hash embedder), to check the plumbing
    quick = {"llm": "scripted", "memory": {"embedder": "hash"}} if "--quick" in sys.argv else None
    agent = Agent("FrozenLake-4x4-v0", variant="memrl", max_steps=15, parallel_envs=2,
                  config=quick)
    result = agent.run(epochs=2, tasks=range(2), run_dir="runs/example-custom", graph=graph)
    print("success per epoch:", result.success_per_epoch)
    agent.close()


if __name__ == "__main__":
    main()
