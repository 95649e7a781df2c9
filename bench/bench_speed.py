"""End-to-end speed: decisions/s and episodes/min of a learning agent, and where the time goes.

The MemRL agent (task memory + step memory, MiniLM embeddings) plays FrozenLake-4x4-v0 and
Sokoban-v0 with the embedded SmolLM2-135M choosing actions by scoring, with 1, 8 and 32
environments in lockstep. Timing proxies wrap the LLM, every environment, the task/step
memories and the memory save, so the wall time splits into LLM, env, memory (of which
embedding) and the rest (graph overhead: LangGraph, prompt building, run files). Nothing in
memplay is patched: the proxies sit in the agent's context (``Agent.context``) before
``run_episodes`` runs. The backend's cache counters
(:class:`~memplay.llm.base.CacheStats`) give the real agent prompts' shared prefix (the
share of prompt tokens common to the whole batch) and the cache hit rate (the share of prompt
tokens not run through the model: shared once per batch or kept from the episode's previous
step).

    python bench/bench_speed.py --quick    # FrozenLake, 1 and 2 envs, one episode each
    python bench/bench_speed.py            # both games, 1, 8 and 32 envs
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import add_common_args, add_threads_arg, finish, llm_config, machine, write_record

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ENV_IDS = ("FrozenLake-4x4-v0", "Sokoban-v0")
PARTS = ("llm", "env", "memory", "embedding")


class Clock:
    """Seconds and calls per named part, accumulated by :class:`Timed` proxies.

    >>> c = Clock(); c.add("llm", 0.5); c.add("llm", 0.25); c.seconds["llm"], c.calls["llm"]
    (0.75, 2)
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def add(self, part: str, seconds: float, method: str = "") -> None:
        self.seconds[part] += seconds
        self.calls[part] += 1
        if method:  # e.g. "env.step": decisions are counted from env steps, not resets
            self.calls[f"{part}.{method}"] += 1


class Timed:
    """Forward every attribute to ``inner``; calls of its methods are timed into ``part``.

    Only method calls are timed (attribute reads pass through), so a proxy is transparent to
    code that duck-types the object.

    >>> c = Clock(); t = Timed([3, 1, 2], c, "env"); t.index(1), c.calls["env"]
    (1, 1)
    """

    def __init__(self, inner: Any, clock: Clock, part: str) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_clock", clock)
        object.__setattr__(self, "_part", part)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if not callable(value) or isinstance(value, type):
            return value

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self._clock.add(self._part, time.perf_counter() - start, name)
        return timed

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)

    def __len__(self) -> int:
        return len(self._inner)


def run_once(env_id: str, envs: int, episodes: int, max_steps: int, llm: Any, embedder: Any,
             root: Path, layout: str = "window") -> dict[str, Any]:
    """One MemRL run with ``envs`` parallel environments; wall time split by part.
    ``layout`` is the prompt layout (``prompt.layout``: 'window' or the append-only 'log').

    >>> # run_once("Sokoban-v0", 8, 16, 10, llm, embedder, Path("/tmp/s"))["decisions_per_s"]
    """
    from memplay.agents import Agent
    from memplay.agents.runner import run_episodes
    from memplay.llm.base import cache_stats

    clock = Clock()
    agent = Agent(env_id, variant="memrl", llm=Timed(llm, clock, "llm"),
                  embedder=Timed(embedder, clock, "embedding"), parallel_envs=envs,
                  tasks=list(range(episodes)), epochs=1, max_steps=max_steps, seed=0,
                  prompt={"layout": layout})
    ctx = agent.context(root / "memory")
    workers = ctx.envs  # LocalEnvs: time each env's own calls (step counts the decisions)
    workers.envs = [Timed(env, clock, "env") for env in workers.envs]  # type: ignore[union-attr]
    ctx.task_memory = Timed(ctx.task_memory, clock, "memory")
    ctx.step_memory = Timed(ctx.step_memory, clock, "memory")
    memory = agent.memory

    def save() -> None:
        start = time.perf_counter()
        memory.save(root / "memory")
        clock.add("memory", time.perf_counter() - start)

    start, cache_before = time.perf_counter(), cache_stats(llm)
    result = run_episodes(ctx, root / "run", on_batch_end=save, progress=False)
    wall = time.perf_counter() - start
    cache_after = cache_stats(llm)
    agent.close()
    row = {"env_id": env_id, "layout": layout, **summarize(envs, wall, clock, result.metrics)}
    if cache_before is not None and cache_after is not None:
        row["cache"] = cache_summary(cache_after.minus(cache_before))
    return row


def cache_summary(stats: Any) -> dict[str, Any]:
    """What the real agent prompts shared and how much prompt work the caches saved.

    >>> from memplay.llm.base import CacheStats
    >>> cache_summary(CacheStats(prompts=2, prompt_tokens=100, computed_tokens=20,
    ...                          shared_tokens=50))["hit_rate"]
    0.8
    """
    return {"prompts": stats.prompts,
            "tokens_per_prompt": round(stats.prompt_tokens / max(stats.prompts, 1), 1),
            "computed_per_prompt": round(stats.computed_tokens / max(stats.prompts, 1), 1),
            "candidate_tokens_per_prompt": round(stats.candidate_computed
                                                 / max(stats.prompts, 1), 1),
            "shared_rate": round(stats.shared_rate, 3),
            "session_rate": round(stats.session_rate, 3), "hit_rate": round(stats.hit_rate, 3)}


def summarize(envs: int, wall: float, clock: Clock, metrics: dict[str, Any]) -> dict[str, Any]:
    """Rates and the time split (embedding runs inside memory calls, so it is a sub-part).

    >>> c = Clock(); c.add("env", 1.0, "step"); c.add("llm", 2.0)
    >>> summarize(1, 4.0, c, {"episodes": 2})["share"]["overhead"]
    0.25
    """
    decisions = clock.calls["env.step"]  # one env step per decision; resets not counted
    parts = {p: round(clock.seconds[p], 3) for p in PARTS}
    overhead = wall - parts["llm"] - parts["env"] - parts["memory"]
    return {"envs": envs, "episodes": metrics["episodes"], "decisions": decisions,
            "wall_s": round(wall, 2), "decisions_per_s": decisions / wall,
            "episodes_per_min": 60 * metrics["episodes"] / wall,
            "seconds": {**parts, "overhead": round(overhead, 3)},
            "share": {k: round(v / wall, 3) for k, v in {**parts, "overhead": overhead}.items()},
            "success_rate": metrics.get("success_rate")}


def report(rows: list[dict[str, Any]]) -> None:
    """Rich table: rates and the share of wall time per part."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="end to end, MemRL, embedded SmolLM2-135M + MiniLM")
    for col in ("env", "envs", "episodes", "decisions", "wall s", "decisions/s", "episodes/min",
                "LLM", "env", "memory", "(embed)", "overhead", "shared", "cache hit"):
        table.add_column(col, justify="right")
    for r in rows:
        share = r["share"]
        cache = r.get("cache", {})
        table.add_row(r["env_id"], str(r["envs"]), str(r["episodes"]), str(r["decisions"]),
                      f"{r['wall_s']:.1f}", f"{r['decisions_per_s']:.2f}",
                      f"{r['episodes_per_min']:.1f}",
                      *(f"{share[p]:.0%}" for p in ("llm", "env", "memory", "embedding",
                                                     "overhead")),
                      *(f"{cache[k]:.0%}" if k in cache else "-"
                        for k in ("shared_rate", "hit_rate")))
    Console(width=140).print(table)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Stacked bars: seconds per decision by part, for each parallelism."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    labels = [f"{r['env_id'].split('-')[0]} {r['envs']}" for r in rows]
    bottom = [0.0] * len(rows)
    for part in ("llm", "env", "memory", "overhead"):
        ms = [1e3 * r["seconds"][part] / max(r["decisions"], 1) for r in rows]
        ax.bar(labels, ms, bottom=bottom, label=part)
        bottom = [b + m for b, m in zip(bottom, ms)]
    ax.set(xlabel="env, parallel environments", ylabel="ms per decision",
           title="where a decision's time goes (MemRL)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sessions_ab(envs: int, max_steps: int, threads: int, rounds: int = 2) -> dict[str, Any]:
    """The same FrozenLake batch with per-episode KV sessions on and off (``max_sessions=0``),
    alternating ``rounds`` times in one process, so both see the same machine load.

    >>> # sessions_ab(8, 10, 1)["rows"][0]["sessions"]
    """
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    embedder = make_embedder(AgentConfig())
    llms = {True: make_llm(AgentConfig(llm_kwargs={"num_threads": threads})),
            False: make_llm(AgentConfig(llm_kwargs={"num_threads": threads,
                                                    "max_sessions": 0}))}
    rows = []
    for _ in range(rounds):
        for sessions, llm in llms.items():
            with tempfile.TemporaryDirectory() as tmp:
                row = run_once(ENV_IDS[0], envs, envs, max_steps, llm, embedder, Path(tmp))
            rows.append({"sessions": sessions, "decisions_per_s": row["decisions_per_s"],
                         "cache": row.get("cache"), "load_avg_1m": os.getloadavg()[0]})
            print(f"sessions={sessions}: {row['decisions_per_s']:.2f} decisions/s, "
                  f"cache {row.get('cache')}", flush=True)
    return {"env_id": ENV_IDS[0], "envs": envs, "max_steps": max_steps, "rows": rows}


def versus_scoring(llm: Any, embedder: Any, envs: int, max_steps: int, root: Path
                   ) -> dict[str, Any]:
    """The agent's FrozenLake decisions/s at ``envs`` environments, per prompt layout, beside
    bench_llm's scoring rate on the same model in the same process (issue 34: at least 80%),
    and the cost items of the 'log' run from a profiled repeat (cProfile slows Python, so the
    rates come from the unprofiled runs)."""
    from _cost_items import cost_items, profiled
    from bench_llm import time_decisions

    scoring = time_decisions(llm, envs, 3)
    agent = {layout: run_once(ENV_IDS[0], envs, envs, max_steps, llm, embedder,
                              root / f"versus-{layout}", layout)
             for layout in ("window", "log")}
    repeat, found = profiled(lambda: run_once(ENV_IDS[0], envs, envs, max_steps, llm,
                                              embedder, root / "versus-profiled", "log"))
    return {"envs": envs, "scoring_decisions_per_s": scoring["decisions_per_s"],
            "agent": agent,
            "ratio": {k: r["decisions_per_s"] / scoring["decisions_per_s"]
                      for k, r in agent.items()},
            "profiled_log_run": {"wall_s": repeat["wall_s"], "decisions": repeat["decisions"],
                                 "items_s": cost_items(found, repeat["wall_s"])}}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run every parallelism, print the table, write JSON and PNG."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_common_args(parser)
    add_threads_arg(parser)
    parser.add_argument("--envs", type=int, nargs="+", help="parallelisms (default 1 8 32)")
    parser.add_argument("--max-steps", type=int, help="step cap (default 6 quick, 10 full)")
    parser.add_argument("--env-ids", nargs="+", choices=ENV_IDS,
                        help=f"games (default: {' '.join(ENV_IDS)}; quick: the first)")
    parser.add_argument("--sessions-ab", type=int, metavar="ENVS",
                        help="instead: FrozenLake with ENVS environments, episode KV sessions "
                             "on and off, alternating twice (bench_speed_sessions.json)")
    args = parser.parse_args(argv)
    if args.sessions_ab:
        started = time.perf_counter()
        record = sessions_ab(args.sessions_ab, args.max_steps or 10, args.threads)
        record["wall_s"] = round(time.perf_counter() - started, 1)
        print(f"wrote {write_record(args.out, 'bench_speed_sessions', args.quick, record)}")
        return record
    env_ids = args.env_ids or (ENV_IDS[:1] if args.quick else ENV_IDS)
    sizes = args.envs or ([1, 2] if args.quick else [1, 8, 32])
    args.max_steps = args.max_steps or (6 if args.quick else 10)
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    started, load = time.perf_counter(), os.getloadavg()
    llm, embedder = make_llm(llm_config(args.threads)), make_embedder(AgentConfig())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for env_id in env_ids:
            for n in sizes:
                # every parallel env gets an episode (a full lockstep batch); at least 4 in full
                episodes = max(n, 1 if args.quick else 4)
                rows.append(run_once(env_id, n, episodes, args.max_steps, llm, embedder,
                                     Path(tmp) / f"{env_id}-{n}"))
        versus = versus_scoring(llm, embedder, max(sizes), args.max_steps, Path(tmp))
    report(rows)
    print(f"end to end at {versus['envs']} envs against scoring "
          f"({versus['scoring_decisions_per_s']:.2f}/s): " + ", ".join(
              f"{k} {v:.0%}" for k, v in versus["ratio"].items()), flush=True)
    record = {"env_ids": list(env_ids), "variant": "memrl", "max_steps": args.max_steps, "seed": 0,
              "load_avg_at_start": list(load), "machine": machine(), "results": rows,
              "versus_scoring": versus, "wall_s": round(time.perf_counter() - started, 1)}
    finish(args.out, "bench_speed", args.quick, record, lambda png: plot(rows, png))
    return record


if __name__ == "__main__":
    main()
