"""Report sections about what is in memory: retrieval hits and the memories never retrieved,
the top and bottom memories by Q, step-memory coverage, and where memories came from.

Usage comes from ``episodes.jsonl``: each episode lists the memories it was shown
(``memories_used``) and, since runs record it, their similarity (``memory_sims``).

    >>> from memplay.types import EpisodeResult
    >>> rows = [EpisodeResult(episode=0, env_id="x", success=True, reward=1, steps=1,
    ...                       memories_used=["a"], memory_sims=[0.8])]
    >>> memory_usage(rows)["a"].mean_sim
    0.8
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from memplay.agents.prompts import clip
from memplay.agents.run_log.epoch_stats import per_epoch
from memplay.app.report.html import NO_TASK_MEMORY, Raw, Section, fmt, note, nothing_recorded, table
from memplay.app.report.run_data import RunData
from memplay.app.report.svg import bar_chart, line_chart
from memplay.memory.item import MemoryItem
from memplay.types import EpisodeResult

__all__ = ["Usage", "memory_usage", "provenance_of", "provenance_section", "retrieval_section",
           "step_memory_section", "top_memories_section"]

TOP = 10


@dataclass
class Usage:
    """How often one memory was shown in an episode, and at what similarities."""

    count: int = 0
    sims: list[float] = field(default_factory=list)

    @property
    def mean_sim(self) -> float | None:
        """Mean similarity when retrieved (None when not recorded)."""
        return sum(self.sims) / len(self.sims) if self.sims else None


def memory_usage(episodes: Sequence[EpisodeResult]) -> dict[str, Usage]:
    """Memory id -> its :class:`Usage` over ``episodes``."""
    usage: dict[str, Usage] = {}
    for row in episodes:
        aligned = len(row.memory_sims) == len(row.memories_used)
        for index, memory_id in enumerate(row.memories_used):
            entry = usage.setdefault(memory_id, Usage())
            entry.count += 1
            if aligned:
                entry.sims.append(row.memory_sims[index])
    return usage


def provenance_of(item: MemoryItem) -> str:
    """Where a memory came from: ``metadata["provenance"]`` (self, demo, import), else self.

    >>> provenance_of(MemoryItem(intent="x")), provenance_of(MemoryItem(intent="x",
    ...     metadata={"provenance": "demo"}))
    ('self', 'demo')
    """
    value = item.metadata.get("provenance")
    return str(value) if value else "self"


def _memory_rows(items: Sequence[MemoryItem], usage: dict[str, Usage]) -> list[list[str]]:
    return [[fmt(i.q), str(i.visits), str(i.successes), str(i.failures),
             str(usage[i.id].count if i.id in usage else 0),
             fmt(usage[i.id].mean_sim if i.id in usage else None), provenance_of(i), i.kind,
             i.created_at.strftime("%Y-%m-%d %H:%M:%S"), clip(i.experience, 110)]
            for i in items]


_MEMORY_HEADERS = ["Q", "visits", "wins", "losses", "retrieved", "mean sim", "provenance",
                   "kind", "created", "experience"]


def retrieval_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """Retrieval hit rate per epoch (every run that retrieves) and the memories never shown."""
    title = "Retrieval"
    if main.items is None:
        return nothing_recorded("retrieval", title, NO_TASK_MEMORY)
    curves = {r.label: [s["retrieval_hit_rate"] for s in per_epoch(r.episodes,
                                                                   uses_task_memory=True)]
              for r in runs if r.items is not None}
    usage = memory_usage(main.episodes)
    never = sorted((i for i in main.items if i.id not in usage), key=lambda i: i.created_at)
    shown = sum(bool(r.memories_used) for r in main.episodes)
    body = line_chart(curves, y_label="episodes shown a memory", y_range=(0.0, 1.0),
                      height=240)
    body += table(["episodes", "shown a memory", "retrievals", "distinct memories retrieved",
                   "memories now", "never retrieved"],
                  [[str(len(main.episodes)), str(shown), str(sum(u.count for u in usage.values())),
                    str(len(usage)), str(len(main.items)), str(len(never))]])
    body += f"<h3>Memories never retrieved ({len(never)} of {len(main.items)})</h3>"
    body += table(_MEMORY_HEADERS, _memory_rows(never[:15], usage)) if never else note(
        "none: every memory in the store was shown in at least one episode")
    if len(never) > 15:
        body += note(f"{len(never) - 15} more not listed (oldest first).")
    return Section("retrieval", title, body)


def top_memories_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """The memories with the highest and the lowest Q, with similarity, Q and visits."""
    title = "Top and bottom memories"
    if main.items is None:
        return nothing_recorded("memories", title, NO_TASK_MEMORY)
    if not main.items:
        return nothing_recorded("memories", title, "the task memory is empty")
    usage = memory_usage(main.episodes)
    ranked = sorted(main.items, key=lambda i: (-i.q, -i.visits))
    if len(ranked) <= 2 * TOP:
        body = f"<h3>All {len(ranked)} memories by Q</h3>" + table(
            _MEMORY_HEADERS, _memory_rows(ranked, usage))
    else:
        body = (f"<h3>Top {TOP} by Q</h3>" + table(_MEMORY_HEADERS, _memory_rows(ranked[:TOP],
                                                                                 usage))
                + f"<h3>Bottom {TOP} by Q</h3>"
                + table(_MEMORY_HEADERS, _memory_rows(ranked[-TOP:], usage)))
    body += note("retrieved: episodes the memory was shown in; mean sim: its mean cosine "
                 "similarity to those episodes' intents ('-' when never retrieved or not "
                 "recorded); visits: Q updates.")
    return Section("memories", title, body)


def provenance_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """Task memories by origin (self, demo, import): counts, mean Q, how often retrieved."""
    title = "Provenance of memories"
    if main.items is None:
        return nothing_recorded("provenance", title, NO_TASK_MEMORY)
    usage = memory_usage(main.episodes)
    groups: dict[str, list[MemoryItem]] = {}
    for item in main.items:
        groups.setdefault(provenance_of(item), []).append(item)
    rows = [[name, str(len(items)), fmt(sum(i.q for i in items) / len(items)),
             str(sum(i.id in usage for i in items)),
             str(sum(usage[i.id].count for i in items if i.id in usage))]
            for name, items in sorted(groups.items())]
    body = table(["provenance", "memories", "mean Q", "ever retrieved", "retrievals"], rows) \
        if rows else note("nothing recorded: the task memory is empty")
    if rows:
        body += bar_chart([r[0] for r in rows], [float(r[1]) for r in rows],
                          y_label="memories", x_label="provenance", height=200)
    body += note("From each memory's metadata['provenance']; a memory without one counts as "
                 "self (written from this agent's own episodes).")
    return Section("provenance", title, body)


def _visit_bins(rows: Sequence[dict]) -> tuple[list[str], list[float]]:
    edges = [(0, 0, "0"), (1, 1, "1"), (2, 3, "2-3"), (4, 7, "4-7"), (8, 15, "8-15"),
             (16, 31, "16-31"), (32, 10**12, "32+")]
    visits = [int(a["visits"]) for r in rows for a in r["actions"].values()]
    return [e[2] for e in edges], [float(sum(lo <= v <= hi for v in visits))
                                   for lo, hi, _ in edges]


def _coverage(main: RunData, rows: Sequence[dict]) -> str:
    offered = {(str(s.info["state"]), a) for t in main.trajectories for s in t.steps
               if "state" in s.info for a in s.admissible_actions}
    if not offered:
        return note("coverage not computed: trajectories.jsonl has no states with their "
                    "admissible actions")
    tried = {(r["state"], a) for r in rows for a, v in r["actions"].items() if v["visits"]}
    states = {state for state, _ in offered}
    known = {r["state"] for r in rows}
    return table(["states met in episodes", "in step memory", "(state, action) pairs offered",
                  "tried (visits > 0)", "coverage"],
                 [[str(len(states)), str(len(states & known)), str(len(offered)),
                   str(len(offered & tried)), fmt(len(offered & tried) / len(offered), 2)]])


def step_memory_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """How much of the state-action space step memory has covered, and how it grew."""
    title = "Step-memory coverage"
    rows = main.step_rows
    if rows is None:
        return nothing_recorded("step-memory", title,
                                "this run has no step memory (memory/steps/ is missing)")
    pairs = sum(len(r["actions"]) for r in rows)
    body = table(["states", "(state, action) pairs", "visits"],
                 [[str(len(rows)), str(pairs),
                   str(sum(int(a["visits"]) for r in rows for a in r["actions"].values()))]])
    body += "<h3>Coverage of what the episodes offered</h3>" + _coverage(main, rows)
    growth = [s["step_memory"] for s in main.stats if s.get("step_memory")]
    if growth:
        body += "<h3>Growth per epoch</h3>" + line_chart(
            {"states": [g["states"] for g in growth], "pairs": [g["pairs"] for g in growth]},
            y_label="count", height=220)
    labels, counts = _visit_bins(rows)
    body += "<h3>Visits per (state, action)</h3>" + bar_chart(
        labels, counts, y_label="pairs", x_label="visits", height=200)
    body += "<h3>Most visited states</h3>" + _busiest(rows)
    return Section("step-memory", title, body)


def _busiest(rows: Sequence[dict]) -> str:
    ranked = sorted(rows, key=lambda r: -sum(int(a["visits"]) for a in r["actions"].values()))
    lines: list[list[str]] = []
    for row in ranked[:6]:  # boards are tall: the six busiest states
        actions = sorted(row["actions"].items(), key=lambda kv: -kv[1]["q"])
        lines.append([Raw(f'<pre class="state">{escape(clip(row["state"], 400))}</pre>'),
                      str(sum(int(a["visits"]) for _, a in actions)),
                      ", ".join(f"{name} {a['q']:+.2f} ({a['visits']})" for name, a in actions)])
    return table(["state", "visits", "actions: Q (visits), best first"], lines) \
        if lines else note("nothing recorded: step memory is empty")

