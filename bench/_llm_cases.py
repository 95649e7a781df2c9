"""The scoring scenarios bench_llm times beyond one batched step: whole episodes (per-episode
KV reuse), many candidates sharing leading tokens (the candidate trie), and recorded agent
decisions (float32 against a quantised model).

    >>> print(episode_prompt(0, 2)[1]["content"].splitlines()[4])
    Step 1: at row 0, column 0, moved left.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Any

from memplay.llm.base import Prompt, cache_stats, release_sessions, score_in_sessions
from memplay.llm.transformers_backend import TransformersLLM

MOVES = ["left", "down", "right", "up"]
RULES = (
    "You play FrozenLake on a 4x4 grid. S is the start, F is frozen ice you can walk on, "
    "H is a hole that ends the episode, G is the goal. You move one cell per action: left, "
    "down, right or up. Moving off the grid leaves you in place. Reach G without falling.\n"
)
MEMORY = "".join(
    f"Memory {k}: in a past successful episode, from row {k % 4}, column {(k * 3) % 4}, "
    f"the move was: {MOVES[k % 4]}.\n" for k in range(12)
)
# ALFWorld-like admissible actions: many share their first tokens ("go to", "take ... from").
PLACES = [f"{p} {i}" for p in ("desk", "drawer", "shelf", "cabinet") for i in (1, 2, 3)]
ACTIONS = ([f"go to {p}" for p in PLACES] + [f"open {p}" for p in PLACES[3:9]]
           + [f"take {o} from desk 1" for o in ("pencil 1", "pen 2", "book 1", "mug 3")]
           + ["look", "inventory", "examine desk 1", "put pencil 1 in/on drawer 2"])


def _cell(env: int, step: int) -> tuple[int, int]:
    return (env + step) % 4, (env * 3 + step) % 4


def _grid(row: int, col: int) -> str:
    return "\n".join("".join("P" if (r, c) == (row, col) else "F" for c in range(4))
                     for r in range(4))


def episode_prompt(env: int, step: int) -> Prompt:
    """The layout that lets an episode reuse its own states: what all episodes share first
    (rules, memory), then what this episode keeps (goal, the task memories retrieved when it
    started, the history so far, append-only), then what is new (the board)."""
    memories = "".join(
        f"Task memory {k + 1} (Q={(env * 7 + k) % 5 / 5:+.1f}): an episode that started at "
        f"row {(env + k) % 4} reached G by moving {MOVES[(env + 2 * k) % 4]} first.\n"
        for k in range(3))
    history = "".join(
        f"Step {k + 1}: at row {_cell(env, k)[0]}, column {_cell(env, k)[1]}, moved "
        f"{MOVES[(env + k) % 4]}.\n" for k in range(step))
    row, col = _cell(env, step)
    user = (f"Goal: reach G at row 3, column 3 (episode {env}).\n{memories}{history}Grid:\n"
            f"{_grid(row, col)}\nYou are at row {row}, column {col}. Your move?")
    return [{"role": "system", "content": RULES + MEMORY}, {"role": "user", "content": user}]


def time_episodes(llm: TransformersLLM, envs: int, steps: int, mode: str) -> dict[str, Any]:
    """``envs`` episodes of ``steps`` steps in lockstep, one batched ``score`` call a step.

    mode "sessions": each episode keeps its states (``sessions=`` keys, released at the
    end); "prefix": only the batch-shared prefix is reused (no keys); "no-reuse": the
    backend runs every prompt in full.
    """
    keys = [f"bench-{envs}-{e}" for e in range(envs)]
    llm.score([episode_prompt(0, 0)], [MOVES])  # warm-up (and the shared system prefix)
    before = cache_stats(llm)
    per_step = []
    for step in range(steps):
        prompts = [episode_prompt(e, step) for e in range(envs)]
        start = time.perf_counter()
        if mode == "sessions":
            score_in_sessions(llm, prompts, [MOVES] * envs, keys)
        else:
            llm.score(prompts, [MOVES] * envs)
        per_step.append(time.perf_counter() - start)
    done = cache_stats(llm).minus(before)  # type: ignore[union-attr]
    release_sessions(llm, keys)
    later = per_step[1:] or per_step
    return {"envs": envs, "steps": steps, "mode": mode,
            "decisions_per_s": envs * steps / sum(per_step),
            "later_steps_decisions_per_s": envs * len(later) / sum(later),
            "median_step_s": statistics.median(per_step),
            "hit_rate": done.hit_rate, "session_rate": done.session_rate,
            "prompt_tokens_per_decision": done.prompt_tokens / done.prompts,
            "computed_tokens_per_decision": done.computed_tokens / done.prompts,
            "load_avg_1m": os.getloadavg()[0]}


def time_candidates(llm: TransformersLLM, envs: int, repeats: int) -> dict[str, Any]:
    """Score all ``ACTIONS`` for ``envs`` prompts; report decisions/s and candidate work."""
    prompts = [episode_prompt(e, 1) for e in range(envs)]
    llm.score(prompts[:1], [ACTIONS[:2]])  # warm-up
    before = cache_stats(llm)
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        llm.score(prompts, [ACTIONS] * envs)
        walls.append(time.perf_counter() - start)
    done = cache_stats(llm).minus(before)  # type: ignore[union-attr]
    return {"envs": envs, "candidates": len(ACTIONS), "trie": llm.scorer.options.share_candidates,
            "decisions_per_s": envs / statistics.median(walls),
            "candidate_tokens": done.candidate_tokens // repeats,
            "candidate_tokens_run": done.candidate_computed // repeats,
            "load_avg_1m": os.getloadavg()[0]}


def recorded_decisions(limit: int) -> list[dict[str, Any]]:
    """Real agent prompts and admissible actions: the agent (variant none) plays FrozenLake,
    Sokoban and Minesweeper with a scripted scorer, and every distinct scored prompt is kept
    with its candidates, up to ``limit``."""
    import hashlib

    from memplay import Agent
    from memplay.llm.fake import ScriptedLLM, prompt_text

    seen: dict[str, dict[str, Any]] = {}

    def score(prompt: Prompt, text: str) -> float:
        row = seen.setdefault(prompt_text(prompt), {"prompt": prompt, "candidates": []})
        if text not in row["candidates"]:
            row["candidates"].append(text)
        return -hashlib.md5((prompt_text(prompt) + text).encode()).digest()[0] / 50.0

    for env, tasks in (("FrozenLake-4x4-v0", 16), ("Sokoban-v0", 8), ("Minesweeper-v0", 4),
                       ("FrozenLake-8x8-v0", 8), ("Sokoban-gen-v0", 8)):
        agent = Agent(env, variant="none", llm=ScriptedLLM(scores=score), max_steps=20,
                      parallel_envs=4)
        agent.run(epochs=1, tasks=range(tasks), run_dir=tempfile.mkdtemp(), progress=False)
    rows = list(seen.values())
    step = max(len(rows) // limit, 1)  # spread the sample over all games
    return rows[::step][:limit]


def compare_quantized(decisions: list[dict[str, Any]], threads: int, mode: str,
                      batch: int = 16) -> dict[str, Any]:
    """float32 against ``quantize=mode`` on the same decisions, batches interleaved so both
    see the same machine load; agreement of the chosen action (argmax of mean log-prob)."""
    llms = {"float32": TransformersLLM(num_threads=threads),
            mode: TransformersLLM(num_threads=threads, quantize=mode)}
    wall = dict.fromkeys(llms, 0.0)
    picks: dict[str, list[str]] = {k: [] for k in llms}
    for start in range(0, len(decisions), batch):
        part = decisions[start : start + batch]
        for name, llm in llms.items():
            began = time.perf_counter()
            rows = llm.score([d["prompt"] for d in part], [d["candidates"] for d in part])
            wall[name] += time.perf_counter() - began
            picks[name] += [max(row, key=lambda c: c.logprob_mean).text for row in rows]
    same = sum(a == b for a, b in zip(picks["float32"], picks[mode]))
    return {"mode": mode, "decisions": len(decisions), "agreement": same / len(decisions),
            "float32_decisions_per_s": len(decisions) / wall["float32"],
            f"{mode}_decisions_per_s": len(decisions) / wall[mode],
            "speedup": wall["float32"] / wall[mode], "load_avg_1m": os.getloadavg()[0]}
