"""Markdown tables from the full-mode JSON files in ``bench/results/``, for the documents.

README.md (the headline table), docs/RESULTS.md (the benchmarks' tables), the guides with
their own results (docs/self-play.md, docs/speed.md, docs/distillation.md) and bench/README.md
(wall times) keep each table between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``
markers, so their numbers are always the JSON's: ``--write`` regenerates the blocks after a
full run, ``--check`` fails when one differs (``tests/bench/test_readme_tables.py`` runs it).
Without file names both act on all of those documents (:data:`DOCUMENTS`).

    python bench/tables.py                  # print every table whose JSON exists
    python bench/tables.py learning speed   # some of them
    python bench/tables.py --write          # every document of DOCUMENTS
    python bench/tables.py --check
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import wilson

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = (REPO / "README.md", REPO / "docs" / "RESULTS.md", REPO / "bench" / "README.md",
             *(REPO / "docs" / f"{page}.md" for page in ("self-play", "speed", "distillation")))
BLOCK = re.compile(r"(<!-- bench:(?P<name>[a-z]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)",
                   re.DOTALL)


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table cell; '-' for missing.

    >>> fmt(0.5), fmt(None), fmt(1.0, 0)
    ('0.50', '-', '1')
    """
    return "-" if value is None else f"{value:.{digits}f}"


def learning(d: dict[str, Any]) -> list[str]:
    """Per env and variant: success per epoch, last epoch, solved once, ceiling, the share
    of decisions that called the model, wall s."""
    out = ["| env | variant | success per epoch | last epoch | solved once | ceiling | "
           "model calls | wall s |", "|---|---|---|---|---|---|---|---|"]
    for env, res in d["results"].items():
        for variant, m in res["variants"].items():
            if "error" in m:
                out.append(f"| {env} | {variant} | failed: {m['error'][:80]} | | | | | |")
                continue
            per = ", ".join(fmt(v) for v in m["success_per_epoch"])
            cum = [c for c in m["cumulative_success"] if c is not None]
            out.append(f"| {env} | {variant} | {per} | {fmt(m['last_epoch_success'])} | "
                       f"{fmt(cum[-1] if cum else None)} | {fmt(res['ceiling']['value'])} | "
                       f"{_percent(m.get('model_call_fraction'))} | {m['wall_s']:.0f} |")
    return out


def held_out_cell(rate: float, n: int) -> str:
    """A held-out success with its count and 95% Wilson interval.

    >>> held_out_cell(0.84375, 32)
    '0.84 (27/32; 0.68-0.93)'
    """
    wins = round(rate * n)
    low, high = wilson(wins, n)
    return f"{fmt(rate)} ({wins}/{n}; {fmt(low)}-{fmt(high)})"


def transfer(d: dict[str, Any]) -> list[str]:
    """One row per game and memory: held-out success (n, interval), the share of held-out
    decisions memory knew exactly, train success per epoch beside it, the share of held-out
    decisions that called the model."""
    out = ["| game | memory | held-out success (wins/n; 95% interval) | exact keys | "
           "train tasks, per epoch | ceiling | model calls (held-out) | wall s |",
           "|---|---|---|---|---|---|---|---|"]
    for game, res in d["results"].items():
        n = len(res["held_out_seeds"])
        for row, m in res["rows"].items():
            train = ", ".join(fmt(v) for v in m.get("train", [])) or "-"
            known = m.get("known_share")
            out.append(f"| {game} | {row} | {held_out_cell(m['held_out'], n)} | "
                       f"{'-' if known is None else f'{known:.0%}'} | {train} | "
                       f"{fmt(res['ceiling']['value'])} | "
                       f"{_percent(m.get('model_call_fraction'))} | {m['wall_s']:.0f} |")
    return out


def alfworld(d: dict[str, Any]) -> list[str]:
    """One row per agent or baseline: success per task type (solved/games), all, wall time."""
    rows = d["results"]
    types = sorted({t for r in rows.values() for t in r["per_task_type"]})
    short = [_TYPE_NAMES.get(t, t) for t in types]
    out = ["| row | " + " | ".join(short) + " | all | model calls | wall min |",
           "|---|" + "---|" * (len(types) + 3)]
    for name, r in rows.items():
        cells = [r["per_task_type"].get(t, {"games": 0, "solved": 0}) for t in types]
        games = sum(c["games"] for c in cells)
        solved = sum(c["solved"] for c in cells)
        out.append(f"| {name} | " + " | ".join(f"{c['solved']}/{c['games']}" for c in cells)
                   + f" | {solved}/{games} ({fmt(r['success'])}) | "
                   f"{_percent(r.get('model_call_fraction'))} | {r['wall_s'] / 60:.1f} |")
    return out


_TYPE_NAMES = {"look_at_obj_in_light": "look", "pick_and_place_simple": "pick & place",
               "pick_clean_then_place_in_recep": "clean",
               "pick_cool_then_place_in_recep": "cool",
               "pick_heat_then_place_in_recep": "heat", "pick_two_obj_and_place": "two objects"}


_NO_OWN_PLAY = ["(no own-play run yet: `python bench/bench_alfworld.py --rows memrl-flat memrl` "
                "records what the rows trained on)"]
_OWN_PLAY_ROWS = ("memrl-flat", "memrl")  # own play alone: memory deciding alone, with the LLM


def _own_play_rows(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The own-play rows played with the own-play summary (a record older than the rebuilt
    rows has none).

    >>> _own_play_rows({"results": {"memrl": {"train": [0.0], "success": 0.0}}})
    {}
    """
    rows = {name: d["results"].get(name) for name in _OWN_PLAY_ROWS}
    return {name: r for name, r in rows.items() if r is not None and "train_per_type" in r}


def alfplay(d: dict[str, Any]) -> list[str]:
    """The own-play rows per task type: train success per epoch (solved/played, the
    curriculum chose what to play), the train episode of its first success, held out."""
    rows = _own_play_rows(d)
    if not rows:
        return _NO_OWN_PLAY
    out = ["| row | task type | train, per epoch (solved/played) | first train success "
           "(episode) | held out |", "|---|---|---|---|---|"]
    for name, r in rows.items():
        for task_type, cells in r["train_per_type"].items():
            held = r["per_task_type"].get(task_type, {"games": 0, "solved": 0})
            first = r["first_success"].get(task_type)
            out.append(f"| {name} | {_TYPE_NAMES.get(task_type, task_type)} | "
                       + ", ".join(f"{s}/{n}" for s, n in cells) + f" | "
                       f"{'-' if first is None else first} | {held['solved']}/{held['games']} |")
        games = sum(c["games"] for c in r["per_task_type"].values())
        solved = sum(c["solved"] for c in r["per_task_type"].values())
        out.append(f"| {name} | **all** | " + ", ".join(fmt(v) for v in r["train"])
                   + f" | | {solved}/{games} ({fmt(r['success'])}) |")
    return out


def alfplayrun(d: dict[str, Any]) -> list[str]:
    """What the own-play rows cost and received: episodes, steps, hindsight successes, time."""
    rows = _own_play_rows(d)
    if not rows:
        return _NO_OWN_PLAY
    out = ["| row | train games | epochs | train episodes | train steps | hindsight successes "
           "| train min | held-out min | row min | LLM |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        play, llm = r["play"], r.get("llm") or {}
        out.append(f"| {name} | {play['train_games']} | {play['epochs']} | {r['episodes']} | "
                   f"{r['steps']} | {r['hindsight_successes']} | {r['train_s'] / 60:.1f} | "
                   f"{r['eval_s'] / 60:.1f} | {r['wall_s'] / 60:.1f} | "
                   f"{llm.get('backend', '-')} |")
    return out


def speed(d: dict[str, Any]) -> list[str]:
    """Rates and the share of wall time per part."""
    out = ["| env | parallel envs | decisions/s | episodes/min | LLM | env | memory (embedding) "
           "| overhead | shared prefix | cache hit |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in d["results"]:
        s, cache = r["share"], r.get("cache", {})
        env = r.get("env_id", d.get("env_id", "-")).removesuffix("-v0")
        out.append(f"| {env} | {r['envs']} | {fmt(r['decisions_per_s'])} | "
                   f"{fmt(r['episodes_per_min'], 1)} | {s['llm']:.0%} | {s['env']:.1%} | "
                   f"{s['memory']:.0%} ({s['embedding']:.0%}) | {s['overhead']:.0%} | "
                   f"{_percent(cache.get('shared_rate'))} | {_percent(cache.get('hit_rate'))} |")
    return out


def _percent(value: float | None) -> str:
    """'42%', or '-' when the run did not record it."""
    return "-" if value is None else f"{value:.0%}"


def llm(d: dict[str, Any]) -> list[str]:
    """Decisions/s with and without prefix reuse per batch size."""
    rate = {(r["prefix"], r["envs"]): r["decisions_per_s"] for r in d["decisions"]}
    out = ["| parallel envs | decisions/s, prefix KV reuse | decisions/s, no reuse | "
           "reuse speed-up |", "|---|---|---|---|"]
    for n in sorted({n for _, n in rate}):
        a, b = rate[("reuse", n)], rate[("no-reuse", n)]
        out.append(f"| {n} | {fmt(a)} | {fmt(b)} | {a / b:.1f}x |")
    return out


def memory(d: dict[str, Any]) -> list[str]:
    """Latencies, recall and bytes per item per size and backend."""
    out = ["| items | backend | search p50 ms | add p50 ms | Q update p50 ms | recall@10 | "
           "bytes/item on disk |", "|---|---|---|---|---|---|---|"]
    for r in d["results"]:
        add, upd = r.get("add", {}), r.get("update_q3", {})
        out.append(f"| {r['size']:,} | {r['backend']} | {fmt(r['search']['p50_ms'], 3)} | "
                   f"{fmt(add.get('p50_ms'), 3)} | {fmt(upd.get('p50_ms'), 3)} | "
                   f"{fmt(r['recall_at_10'])} | {fmt(r.get('bytes_per_item'), 0)} |")
    return out


def envs(d: dict[str, Any]) -> list[str]:
    """Steps/s and reset time per registered env, random admissible actions."""
    out = ["| env | steps/s | reset p50 ms |", "|---|---|---|"]
    for r in d["results"]:
        out.append(f"| {r['env']} | {r['steps_per_s']:,.0f} | {fmt(r['reset_p50_ms'])} |")
    return out


def soak(d: dict[str, Any]) -> list[str]:
    """RSS, open files and memory items at the first and last sample."""
    first, last = d["samples"][0], d["samples"][-1]
    out = ["| after episodes | RSS MiB | open files | task memories | step-memory states |",
           "|---|---|---|---|---|"]
    for row in (first, last):
        out.append(f"| {row['episodes']:,} | {row['rss_mib']:.0f} | {row['fds']} | "
                   f"{row['items']} | {row['states']} |")
    return out


def train(d: dict[str, Any]) -> list[str]:
    """The two arms of the weight-update benchmark."""
    out = ["| arm | success after the split | weights alone: success, step accuracy | "
           "play s | train s |", "|---|---|---|---|---|"]
    for arm, record, weights in (("memory", "memory", "base"),
                                 ("memory + one round", "memory+train", "trained")):
        m, alone = d[record], d["weights_alone"][weights]
        acc = alone["step_accuracy"]
        out.append(f"| {arm} | {', '.join(fmt(v) for v in m['success_per_epoch'])} | "
                   f"{fmt(alone['success'])}, {fmt(acc['accuracy'])} of {acc['steps']} | "
                   f"{m['play_seconds']:.0f} | {fmt(m.get('train_seconds'), 0)} |")
    return out


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _run_row(game: str, agent: str, run: dict[str, Any], goal: str) -> str:
    """One self-play run: hands, first and last NashConv (OpenSpiel), model calls, wall."""
    calls = run.get("model_prompts")
    share = f"{_count(calls)} / {_count(run.get('decisions'))}" if calls is not None else "-"
    first = fmt(run.get("first"), 3) if "first" in run else "-"
    return (f"| {game} | {agent} | {_count(run['curve'][-1]['games'])} | {first} | "
            f"{fmt(run['last'], 3)} | {goal} | {share} | {run['wall_s']:.0f} |")


def selfplay(d: dict[str, Any]) -> list[str]:
    """NashConv (by OpenSpiel) of the mccfr agent's average strategy beside OpenSpiel's own
    outcome-sampling MCCFR on the same hands; model calls per decisions."""
    k, le, goals = d["kuhn"], d["leduc"], d["targets"]
    out = ["| game | agent | self-play hands | NashConv, first measure | NashConv, last | goal "
           "| model calls / decisions | wall s |", "|---|---|---|---|---|---|---|---|"]
    for run in k["alone"]:
        out.append(_run_row("Kuhn", f"mccfr, memory alone (seed {run['seed']})", run,
                            f"<= {goals['kuhn']}"))
    for run in k["openspiel"]:
        out.append(_run_row("Kuhn", f"OpenSpiel OS-MCCFR (seed {run['seed']})", run, "-"))
    out.append(_run_row("Kuhn", "mccfr + embedded model", k["llm"],
                        f"<= {goals['kuhn_llm']} and <= first / 2"))
    out.append(f"| Kuhn | the embedded model's prior alone | - | - | {fmt(k['llm_prior'], 3)} "
               "| - | - | - |")
    out.append(f"| Kuhn | uniform random | - | - | {fmt(k['uniform'], 3)} | - | - | - |")
    out.append(_run_row("Leduc", "mccfr, memory alone", le["alone"], f"<= {goals['leduc']}"))
    out.append(_run_row("Leduc", "OpenSpiel OS-MCCFR", le["openspiel"], "-"))
    out.append(f"| Leduc | uniform random | - | - | {fmt(le['uniform'], 3)} | - | - | - |")
    return out


def kuhncurve(d: dict[str, Any]) -> list[str]:
    """Kuhn NashConv (OpenSpiel) at the first measure past 1k, 2k, 5k, 10k and 20k hands."""
    k = d["kuhn"]
    marks = [m for m in (1000, 2000, 5000, 10000, 20000) if m <= k["alone"][0]["hands"]]
    out = ["| agent | " + " | ".join(f"{m:,} hands" for m in marks) + " |",
           "|---|" + "---|" * len(marks)]
    runs = [(f"mccfr, memory alone (seed {r['seed']})", r) for r in k["alone"]]
    runs += [(f"OpenSpiel OS-MCCFR (seed {r['seed']})", r) for r in k["openspiel"]]
    runs.append(("mccfr + embedded model", k["llm"]))
    for name, run in runs:
        cells = []
        for mark in marks:
            point = next((c for c in run["curve"] if c["games"] >= mark), None)
            cells.append(fmt(point["nash_conv_openspiel"] if point else None, 3))
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def tictactoe(d: dict[str, Any]) -> list[str]:
    """TicTacToe after self-play: won/drawn/lost as each seat against minimax and random."""
    t = d["tictactoe"]
    cells = ("minimax_X", "minimax_O", "random_X", "random_O")
    out = ["| TicTacToe agent (greedy, memory frozen) | self-play games | vs minimax as X | "
           "as O | vs random as X | as O |", "|---|---|---|---|---|---|"]
    for name, arm in t["arms"].items():
        played = _count(t["games"]) if "mccfr" in name else "-"
        results = [f"{arm[c]['wins']}/{arm[c]['draws']}/{arm[c]['losses']}" for c in cells]
        out.append(f"| {name} | {played} | " + " | ".join(results) + " |")
    return out


def curriculum(d: dict[str, Any]) -> list[str]:
    """Held-out success per curriculum, margin over uniform, episodes spent per arm."""
    arms = d["arms"]
    out = ["| curriculum | held-out success | margin vs uniform | training success | "
           + " | ".join(arms) + " |", "|---|---|---|---|" + "---|" * len(arms)]
    for name, r in d["curricula"].items():
        picks = " | ".join(str(sum(r["choices"].get(a, []))) for a in arms)
        out.append(f"| {name} | {fmt(r['held_out_success'])} | {d['margins'][name]:+.2f} | "
                   f"{fmt(r['train_success'])} | {picks} |")
    return out


def scale(d: dict[str, Any]) -> list[str]:
    """Episodes/min per game and env workers by executor (speed-up over local lockstep), then
    one FrozenLake step's latency in each and Ray's overhead."""
    out = ["| game | env workers | local lockstep | worker processes | Ray actors |",
           "|---|---|---|---|---|"]
    rate = {(r["env_id"], r["executor"], r["workers"]): r["episodes_per_min"]
            for r in d["results"]}
    for env_id, workers in dict.fromkeys((r["env_id"], r["workers"]) for r in d["results"]):
        cells = [fmt(rate.get((env_id, "local", workers)), 1)]
        for executor in ("process", "ray"):
            ratio = d["speedup_vs_local"].get(f"{env_id} {executor} {workers}")
            cells.append(f"{fmt(rate.get((env_id, executor, workers)), 1)} ({fmt(ratio)}x)")
        out.append(f"| {env_id.removesuffix('-v0')} | {workers} | {' | '.join(cells)} |")
    cost = d["overhead"]
    lat, share = cost["step_latency_ms"], cost["ray_overhead_share"]
    extra = "" if share is None else f", {share:.1%} of an embedded decision"
    out.append(f"| one FrozenLake step (ms) | 1 | {fmt(lat['local'], 3)} | "
               f"{fmt(lat['process'], 3)} | {fmt(lat['ray'], 3)} "
               f"(+{fmt(cost['ray_overhead_ms'], 3)}{extra}) |")
    return out


def _score(row: dict[str, Any] | None) -> str:
    """'0.62 (20/32, 0.45-0.77)': a held-out rate with its count and 95% interval."""
    if not row:
        return "-"
    low, high = row["interval"]
    return f"{fmt(row['rate'])} ({row['solved']}/{row['tasks']}, {fmt(low)}-{fmt(high)})"


def distill(d: dict[str, Any]) -> list[str]:
    """Held-out success of model alone / memory alone / both per round and for the solver
    demos; memory learning new maps with the base and the trained model; Kuhn NashConv."""
    res = d["results"]
    out = ["| data | model | model alone | memory alone | both | examples | train min |",
           "|---|---|---|---|---|---|---|"]
    rounds = res.get("rounds", {})
    if rounds:
        out.append(f"| - | base | {_score(rounds['base']['model_alone'])} | - | - | - | - |")
    for r in rounds.get("rounds", []):
        h, v = r["held_out"], r["version"]
        train = ", ".join(fmt(x) for x in r["train_success_per_epoch"])
        out.append(f"| own play (train maps: {train}) | round {r['round']} | "
                   f"{_score(h['model_alone'])} | "
                   f"{_score(h['memory_alone'])} | {_score(h['both'])} | {v['examples']} | "
                   f"{v['train_s'] / 60:.1f} |")
    if "held_out" in res.get("demos", {}):
        h, v = res["demos"]["held_out"], res["demos"]["version"]
        out.append(f"| solver demos | demos | {_score(h['model_alone'])} | "
                   f"{_score(h['memory_alone'])} | {_score(h['both'])} | {v['examples']} | "
                   f"{v['train_s'] / 60:.1f} |")
    new = res.get("new-maps", {})
    if new:
        out += ["", "| memory learns the 32 held-out maps with | success per epoch | "
                    f"first epoch >= {d['settings']['reach']} |", "|---|---|---|"]
        for name, arm in new.items():
            if isinstance(arm, dict) and "success_per_epoch" in arm:
                out.append(f"| {name} model | {', '.join(fmt(v) for v in arm['success_per_epoch'])}"
                           f" | {arm['epochs_to_reach'] or 'not reached'} |")
    kuhn = res.get("kuhn", {})
    if kuhn:
        out += ["", "| Kuhn poker, model alone | NashConv |", "|---|---|",
                f"| base, default policy | {fmt(kuhn['base']['default']['nash_conv'], 3)} |",
                f"| base, sampling its own probabilities | "
                f"{fmt(kuhn['base']['as_trained']['nash_conv'], 3)} |",
                f"| distilled from {kuhn['table']} | {fmt(kuhn['trained']['nash_conv'], 3)} |"]
        if "self_play" in kuhn:  # the teacher: the strategy the model was distilled from
            teacher = kuhn["self_play"]
            out.append(f"| (the teacher: that average strategy itself, after "
                       f"{teacher['hands']:,} hands) | {fmt(teacher['nash_conv'], 3)} |")
    chunks = [c for c in res.get("alfworld", {}).get("chunks", []) if "held_out" in c]
    if chunks:  # one point of the curve per chunk (the base model alone: 0 of 42)
        out += ["", "| ALFWorld walkthroughs distilled, chunk | examples seen (total) | "
                    "training min | model alone, valid_seen (wins/n; 95% interval) |",
                "|---|---|---|---|"]
        for c in chunks:
            row = c["held_out"]
            low, high = row["interval"]
            out.append(f"| {c['chunk']} | {c['examples_seen_total']} | "
                       f"{c['version']['train_s'] / 60:.1f} | {fmt(row['rate'])} "
                       f"({row['solved']}/{row['tasks']}; {fmt(low)}-{fmt(high)}) |")
    return out


def gate(d: dict[str, Any]) -> list[str]:
    """The decision gate on bench_learning's rows: audit (every score) against gated."""
    out = ["| game | arm | success per epoch | model calls | candidates scored | same choice "
           "| wall s |", "|---|---|---|---|---|---|---|"]
    for game, arms in d["results"].items():
        for arm, r in arms.items():
            per = ", ".join(fmt(v) for v in r["success_per_epoch"])
            stats = r["decision_stats"]
            agree = "-" if r["agreement"] is None else (
                f"{r['agreement']:.1%} (settled {stats['audited']} of {stats['decisions']}, "
                f"{stats['audit_agreed']} alike)")
            out.append(f"| {game} | {arm} | {per} | {_percent(r['model_call_fraction'])} | "
                       f"{_percent(r['scored_fraction'])} | {agree} | {r['wall_s']:.0f} |")
    return out


def versus(d: dict[str, Any]) -> list[str]:
    """The agent end to end against bench_llm's scoring rate, then the profiled cost items."""
    v = d["versus_scoring"]
    out = [f"| at {v['envs']} envs, FrozenLake | decisions/s | of the scoring rate | prompt "
           "tokens | run per decision |", "|---|---|---|---|---|",
           f"| bench_llm's scoring case | {fmt(v['scoring_decisions_per_s'])} | 100% | - | - |"]
    for layout, r in v["agent"].items():
        cache = r.get("cache", {})
        out.append(f"| agent, layout {layout} | {fmt(r['decisions_per_s'])} | "
                   f"{v['ratio'][layout]:.0%} | {fmt(cache.get('tokens_per_prompt'), 0)} | "
                   f"{fmt(cache.get('computed_per_prompt'), 0)} + "
                   f"{fmt(cache.get('candidate_tokens_per_prompt'), 0)} candidate |")
    run = v["profiled_log_run"]
    out += ["", "| cost item (profiled run, layout log) | seconds | share |", "|---|---|---|"]
    out += [f"| {item} | {sec:.1f} | {sec / run['wall_s']:.0%} |"
            for item, sec in run["items_s"].items()]
    return out


def headline(transfer_record: dict[str, Any], alfworld_record: dict[str, Any]) -> list[str]:
    """The README's table: success on tasks memory never saw, against no memory (n each).

    >>> row = {"held_out": 0.5}
    >>> game = {"held_out_seeds": [1, 2], "rows": {"none": row, "memrl": row},
    ...         "ceiling": {"value": 1.0, "expert": "BFS"}}
    >>> alf = {"results": {n: {"success": 0.5, "per_task_type": {"t": {"games": 4}}}
    ...                    for n in ("none", "memrl", "demos", "baseline")}}
    >>> headline({"results": {"Lake": game}}, alf)[2]
    '| Lake | 2 | 0.50 -> 0.50 | - | - | 1.00: BFS |'
    """
    out = ["| held-out tasks | n | no memory -> own play | demos | demos then play | reference |",
           "|---|---|---|---|---|---|"]
    for game, res in transfer_record["results"].items():
        rows = {name: fmt(m["held_out"]) for name, m in res["rows"].items()}
        ceiling = res["ceiling"]
        out.append(f"| {game} | {len(res['held_out_seeds'])} | {rows['none']} -> "
                   f"{rows.get('memrl', '-')} | {rows.get('demos', '-')} | "
                   f"{rows.get('demos+play', '-')} | {fmt(ceiling['value'])}: "
                   f"{ceiling['expert']} |")
    alf = {name: fmt(r["success"]) for name, r in alfworld_record["results"].items()}
    games = sum(c["games"] for c in alfworld_record["results"]["none"]["per_task_type"].values())
    # ALFWorld's own play is measured with memory deciding alone (the model's share of its
    # time would make the row hours long); the older model row stands in until then
    own = (f"{alf['memrl-flat']} (memory alone)" if "memrl-flat" in alf
           else alf.get("memrl", "-"))
    out.append(f"| ALFWorld valid_seen | {games} | {alf['none']} -> {own} | "
               f"{alf['demos']} | {alf.get('demos+play', '-')} | {alf['baseline']}: no-LLM "
               "policy fitted on the walkthroughs |")
    return out


def wall_seconds(d: dict[str, Any]) -> float:
    """A record's wall time (the scripts name it ``wall_s`` or ``wall_seconds``)."""
    return float(d.get("wall_s", d.get("wall_seconds", 0.0)))


# run_full.sh groups other than core (each fits the 60-minute budget on its own)
GROUPS = {"learning.json": "`--group learning`", "bench_selfplay.json": "`--group selfplay`",
          "bench_curriculum.json": "`--group curriculum`",
          "bench_transfer.json": "`--group transfer-1` to `-11`",
          "bench_alfworld.json": "`--group alfworld` to `-5`",
          "bench_distill.json": "`--group distill-1` to `-5`"}


def times(records: dict[str, dict[str, Any]]) -> list[str]:
    """Wall time, torch threads and load of every full run, and the total of each group of
    ``bench/run_full.sh`` (each fits the 60-minute budget)."""
    out = ["| benchmark | wall time | torch threads | load at end |", "|---|---|---|---|"]
    for file, d in records.items():
        end = d.get("machine_at_end", {})
        load = end.get("load_avg")
        script = "bench_learning" if file == "learning.json" else file.removesuffix(".json")
        out.append(f"| `{script}.py` | {wall_seconds(d) / 60:.1f} min | "
                   f"{end.get('torch_threads') or '-'} | {fmt(load[0] if load else None, 1)} |")
    groups: dict[str, float] = {}
    for file, d in records.items():
        group = GROUPS.get(file, "core")
        groups[group] = groups.get(group, 0.0) + wall_seconds(d)
    for group, total in groups.items():
        label = "total" if group == "core" else f"total, {group}"
        out.append(f"| **{label}** | **{total / 60:.1f} min** | | |")
    return out


TABLES: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "learning": ("learning.json", learning), "transfer": ("bench_transfer.json", transfer),
    "alfworld": ("bench_alfworld.json", alfworld),
    "alfplay": ("bench_alfworld.json", alfplay), "alfplayrun": ("bench_alfworld.json", alfplayrun),
    "speed": ("bench_speed.json", speed), "llm": ("bench_llm.json", llm),
    "memory": ("bench_memory.json", memory), "envs": ("bench_envs.json", envs),
    "soak": ("bench_soak.json", soak), "train": ("bench_train.json", train),
    "selfplay": ("bench_selfplay.json", selfplay),
    "kuhncurve": ("bench_selfplay.json", kuhncurve),
    "tictactoe": ("bench_selfplay.json", tictactoe),
    "curriculum": ("bench_curriculum.json", curriculum),
    "scale": ("bench_scale.json", scale),
    "distill": ("bench_distill.json", distill),
    "gate": ("bench_gate.json", gate), "versus": ("bench_speed.json", versus),
}


def table(name: str, results: Path = RESULTS) -> str:
    """One table as Markdown (``times``: every full run's wall time and the total).

    >>> table("times").splitlines()[0]
    '| benchmark | wall time | torch threads | load at end |'
    """
    if name == "times":
        files = [file for file, _ in TABLES.values() if (results / file).is_file()]
        return "\n".join(times({f: json.loads((results / f).read_text()) for f in files}))
    if name == "headline":
        records = [json.loads((results / f).read_text())
                   for f in ("bench_transfer.json", "bench_alfworld.json")]
        return "\n".join(headline(*records))
    if name not in TABLES:
        raise KeyError(f"unknown table {name!r}; use one of {['times', 'headline', *TABLES]}")
    file, make = TABLES[name]
    if not (results / file).is_file():  # a benchmark not run at full size yet says so
        return f"(no full run yet: `python bench/{file.split('.')[0]}.py` writes {file})"
    return "\n".join(make(json.loads((results / file).read_text())))


def fill(text: str, results: Path = RESULTS) -> str:
    """``text`` with every ``<!-- bench:NAME -->`` block replaced by the fresh table.

    >>> fill("<!-- bench:x -->\\nold\\n<!-- /bench:x -->", Path("/none"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    KeyError: "unknown table 'x'; use one of ['times', 'headline', 'learning', ..., 'versus']"
    """
    return BLOCK.sub(lambda m: f"{m.group(1)}{table(m.group('name'), results)}\n{m.group(4)}",
                     text)


def main(argv: list[str] | None = None) -> int:
    """Print tables, or ``--write``/``--check`` document blocks; 1 when a check fails."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("names", nargs="*",
                   help=f"tables to print (default all): times headline {' '.join(TABLES)}")
    p.add_argument("--write", type=Path, nargs="*", metavar="DOC",
                   help="regenerate their blocks (default: README.md, docs/RESULTS.md, "
                   "docs/self-play.md, docs/speed.md, docs/distillation.md, bench/README.md)")
    p.add_argument("--check", type=Path, nargs="*", metavar="DOC",
                   help="exit 1 if a block is stale (default: the same documents)")
    args = p.parse_args(argv)
    if args.write is not None or args.check is not None:
        for path in (args.write or DOCUMENTS) if args.write is not None else []:
            path.write_text(fill(path.read_text(encoding="utf-8")), encoding="utf-8")
        checked = (args.check or DOCUMENTS) if args.check is not None else []
        return max((check(path) for path in checked), default=0)
    for name in args.names or ["times", "headline", *TABLES]:
        print(f"## {name}\n\n{table(name)}\n")
    return 0


def check(path: Path) -> int:
    """0 when every block of ``path`` matches the JSON, else 1 (naming the stale blocks)."""
    old = path.read_text(encoding="utf-8")
    new = fill(old)
    if new == old:
        return 0
    stale = [m.group("name") for m, n in zip(BLOCK.finditer(old), BLOCK.finditer(new))
             if m.group(0) != n.group(0)]
    print(f"{path}: stale tables {stale}; run python bench/tables.py --write {path}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
