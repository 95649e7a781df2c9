"""Report sections about learning over time: the runs compared, success per epoch, the
Q-values of task memory epoch by epoch, and the weight-training rounds.

Each builder takes the main run and every run compared (main first) and returns a
:class:`~memplay.app.report.html.Section`; a run without the data gets a note saying so.

    >>> import tempfile
    >>> from memplay.app.report.run_data import RunData
    >>> run = RunData(root=tempfile.mkdtemp(), label="r", config=None, episodes=[],
    ...               metrics={"success_per_epoch": []})
    >>> "nothing recorded" in models_section(run, [run]).body
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memplay.agents.metrics import decision_line, decision_metrics, error_lines
from memplay.agents.run_log.epoch_stats import (
    Q_EDGES,
    epoch_summary,
    q_histogram,
    task_memory_stats,
)
from memplay.app.report.html import NO_TASK_MEMORY, Section, fmt, note, nothing_recorded, table
from memplay.app.report.run_data import RunData
from memplay.app.report.svg import bar_chart, heatmap, line_chart

__all__ = ["models_section", "q_values_section", "success_section", "summary_section"]


def _summary_row(run: RunData) -> list[str]:
    totals = epoch_summary(run.episodes, uses_task_memory=run.items is not None)
    m = run.metrics
    played = sum(v is not None for v in m["success_per_epoch"])
    memories = "-" if run.items is None else str(len(run.items))
    return [run.label, run.env_id, run.variant, f"{played} of {len(m['success_per_epoch'])}",
            str(len(run.episodes)), fmt(m["last_epoch_success"]), fmt(m["success_rate"]),
            str(m.get("errored") or 0), fmt(m["mean_steps"]),
            fmt(totals["retrieval_hit_rate"]), memories,
            fmt(decision_metrics(run.episodes)["model_call_fraction"]),
            f"{totals['llm_seconds']:.1f}", f"{totals['env_seconds']:.1f}",
            f"{totals['seconds']:.1f}"]


def summary_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """One row per run: what it is and its headline numbers."""
    headers = ["run", "env", "variant", "epochs played", "episodes", "last-epoch success",
               "success", "errored", "mean steps", "retrieval hit rate", "task memories",
               "model calls", "LLM s",
               "env s", "episode s"]
    body = table(headers, [_summary_row(r) for r in runs])
    body += note(f"Main run: {main.root}. LLM s: time in the batched action-choice calls "
                 "(each episode holds its share, so the sum is the calls' wall time); env s: "
                 "time inside env.step; episode s: the episodes' wall times added up (episodes "
                 "played in lockstep overlap). Runs written before these were recorded show "
                 "0.0. Model calls: the fraction of decisions that asked the LLM (the policy's "
                 "gate settles the others from memory's values; '-' when not recorded).")
    for run in runs:  # how decisions were made; errored episodes: say why they errored
        made = decision_line(decision_metrics(run.episodes))
        if made:
            body += note(f"{run.label}: {made}.")
        lines = error_lines(run.metrics)
        if lines:
            body += note(f"{run.label}: " + " ".join(line.strip() for line in lines))
    return Section("summary", "Runs", body)


def success_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """Success rate per epoch of every run on one chart, and the numbers in a table."""
    curves = {r.label: list(r.metrics["success_per_epoch"]) for r in runs if r.episodes}
    if not curves:
        return nothing_recorded("success", "Success per epoch",
                                "no run has finished an episode yet (episodes.jsonl is empty)")
    chart = line_chart(curves, y_label="success rate", y_range=(0.0, 1.0))
    width = max(len(v) for v in curves.values())
    rows = [[label, *[fmt(v, 2) for v in values], *[""] * (width - len(values))]
            for label, values in curves.items()]
    solved = {r.label: r.metrics["cumulative_success"] for r in runs if r.episodes}
    body = chart + table(["run", *[str(i + 1) for i in range(width)]], rows)
    body += "<h3>Tasks solved at least once so far</h3>"
    body += table(["run", *[str(i + 1) for i in range(width)]],
                  [[k, *[fmt(v, 2) for v in vs]] for k, vs in solved.items()])
    return Section("success", "Success per epoch", body)


def _q_over_time(stats: list[dict[str, Any]]) -> str:
    snaps = [s["task_memory"] for s in stats if s.get("task_memory")]
    columns = [s["q_hist"] for s in snaps]
    edges = snaps[0].get("q_edges", list(Q_EDGES))
    lines = {name: [s.get(key) for s in snaps]
             for name, key in (("mean", "q_mean"), ("min", "q_min"), ("max", "q_max"))}
    return (heatmap(columns, edges) + line_chart(lines, y_label="Q-value", height=240)
            + table(["epoch", "memories", "Q mean", "Q min", "Q max", "never used"],
                    [[str(s["epoch"] + 1), str(t["items"]), fmt(t["q_mean"]), fmt(t["q_min"]),
                      fmt(t["q_max"]), str(t.get("unused", "-"))]
                     for s in stats if (t := s.get("task_memory"))]))


def q_values_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """The Q-value histogram after each epoch (from ``memory_stats.jsonl``) and now."""
    title = "Q-values over time"
    if main.items is None:
        return nothing_recorded("q-values", title, NO_TASK_MEMORY)
    body = ""
    if any(s.get("task_memory") for s in main.stats):
        body += "<h3>After each epoch (darker: more memories)</h3>" + _q_over_time(main.stats)
    else:
        body += note("No per-epoch snapshots: memory_stats.jsonl is missing (runs before it "
                     "existed, or a run that has not finished an epoch). Only the memory as "
                     "saved now is shown.")
    now = task_memory_stats(main.items)
    labels = [f"{lo:g}" for lo in Q_EDGES[:-1]]
    body += f"<h3>Now: {now['items']} task memories, Q mean {fmt(now['q_mean'])}</h3>"
    body += bar_chart(labels, q_histogram([i.q for i in main.items]), y_label="memories",
                      x_label="Q-value (bin start)", height=220)
    return Section("q-values", title, body)


def _versions_table(versions: list[Any]) -> str:
    rows = [[f"v{v.version}", v.method, fmt(v.after_epoch + 1 if v.after_epoch is not None
                                            else None),
             str(v.examples), str(v.steps), fmt(v.losses[0] if v.losses else None),
             fmt(v.losses[-1] if v.losses else None), f"{v.seconds:.0f}",
             ", ".join(f"{int(e) + 1}: {s:.2f}" for e, s in sorted(v.success_per_epoch.items()))
             or "-"] for v in versions]
    return table(["version", "method", "after epoch", "examples", "steps", "first loss",
                  "last loss", "train s", "success of epochs played with it"], rows)


def models_section(main: RunData, runs: Sequence[RunData]) -> Section:
    """Training rounds (trained or skipped) and each model version's loss curve."""
    title = "Model versions"
    if not main.rounds and not main.versions:
        return nothing_recorded("models", title,
                                "no training round (train_every=0; weights stayed frozen)")
    rounds = table(["after epoch", "status", "version", "examples", "first loss", "final loss",
                    "seconds", "reason"],
                   [[str(r.after_epoch + 1) if r.after_epoch is not None else "by hand",
                     r.status, f"v{r.version}" if r.version else "-",
                     str(r.examples), fmt(r.first_loss), fmt(r.final_loss), f"{r.seconds:.0f}",
                     r.reason or ""] for r in main.rounds])
    body = "<h3>Rounds</h3>" + rounds
    if main.versions:
        losses = {f"v{v.version}": list(v.losses) for v in main.versions if v.losses}
        body += "<h3>Versions</h3>" + _versions_table(main.versions)
        if losses:
            body += line_chart(losses, y_label="loss", x_label="optimiser step")
    return Section("models", title, body)

