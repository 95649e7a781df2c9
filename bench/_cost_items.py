"""Where an agent's LLM time goes, item by item, from a cProfile of one run.

bench_speed compares the agent's end-to-end decisions/s with bench_llm's scoring rate (the
same model on prompts that share all but their last few tokens). What separates the two is
read off the profile of one agent run: the forward pass over the prompt tokens each step adds,
assembling each episode's kept attention states into one padded batch, the candidate tokens,
keeping the new states for the next step, chat template and tokenising, and what is left of
``score`` (Python around them), next to memory, environments and the graph outside the model.

    >>> items = cost_items({"prompt_logprobs": 5.0, "stack_pasts": 1.0, "tree_logprobs": 2.0,
    ...                     "score": 9.0, "encode": 0.5}, wall=12.0)
    >>> items["forward over new prompt tokens"], items["rest of score()"]
    (4.0, 1.5)
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from typing import Any

__all__ = ["FUNCTIONS", "cost_items", "profiled"]

# (module path suffix, function name) -> short key; cumulative times are read for these
FUNCTIONS = {
    ("kv_scoring.py", "prompt_logprobs"): "prompt_logprobs",
    ("kv_scoring.py", "stack_pasts"): "stack_pasts",
    ("kv_scoring.py", "tree_logprobs"): "tree_logprobs",
    ("kv_scoring.py", "extend_prefix"): "extend_prefix",
    ("kv_scoring.py", "row_tail"): "row_tail",
    ("transformers_backend.py", "encode"): "encode",
    ("transformers_backend.py", "score"): "score",
}


def profiled(run: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """``run()`` under cProfile; its result and the cumulative seconds of :data:`FUNCTIONS`."""
    profile = cProfile.Profile()
    result = profile.runcall(run)
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    found: dict[str, float] = {}
    for (path, _, name), (_, _, _, cumulative, _) in stats.items():
        key = FUNCTIONS.get((path.rsplit("/", 1)[-1], name))
        if key is not None:
            found[key] = found.get(key, 0.0) + cumulative
    return result, found


def cost_items(found: dict[str, float], wall: float) -> dict[str, float]:
    """Seconds per item of one profiled run (``wall``: its whole time)."""
    get = found.get
    forward = get("prompt_logprobs", 0.0) - get("stack_pasts", 0.0)
    parts = {
        "forward over new prompt tokens": forward,
        "assembling kept states (stack_pasts)": get("stack_pasts", 0.0),
        "candidate tokens (trie forward)": get("tree_logprobs", 0.0),
        "batch-shared prefix": get("extend_prefix", 0.0),
        "keeping new states (session copy)": get("row_tail", 0.0),
        "chat template + tokenising": get("encode", 0.0),
    }
    parts["rest of score()"] = get("score", 0.0) - sum(parts.values())
    parts["outside the model (memory, envs, graph)"] = wall - get("score", 0.0)
    return {k: round(v, 3) for k, v in parts.items()}
