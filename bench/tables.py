"""Markdown tables for the README from the full-mode JSON files in ``bench/results/``.

The README keeps each table between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``
markers, so its numbers are always the JSON's: ``--write`` regenerates the blocks after a full
run, ``--check`` fails when one differs (``tests/bench/test_readme_tables.py`` runs it).

    python bench/tables.py                  # print every table whose JSON exists
    python bench/tables.py learning speed   # some of them
    python bench/tables.py --write README.md bench/README.md
    python bench/tables.py --check README.md bench/README.md
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
BLOCK = re.compile(r"(<!-- bench:(?P<name>[a-z]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)",
                   re.DOTALL)


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table cell; '-' for missing.

    >>> fmt(0.5), fmt(None), fmt(1.0, 0)
    ('0.50', '-', '1')
    """
    return "-" if value is None else f"{value:.{digits}f}"


def learning(d: dict[str, Any]) -> list[str]:
    """Per env and variant: success per epoch, last epoch, solved once, ceiling, wall s."""
    out = ["| env | variant | success per epoch | last epoch | solved once | ceiling | wall s |",
           "|---|---|---|---|---|---|---|"]
    for env, res in d["results"].items():
        for variant, m in res["variants"].items():
            if "error" in m:
                out.append(f"| {env} | {variant} | failed: {m['error'][:80]} | | | | |")
                continue
            per = ", ".join(fmt(v) for v in m["success_per_epoch"])
            cum = [c for c in m["cumulative_success"] if c is not None]
            out.append(f"| {env} | {variant} | {per} | {fmt(m['last_epoch_success'])} | "
                       f"{fmt(cum[-1] if cum else None)} | {fmt(res['ceiling']['value'])} | "
                       f"{m['wall_s']:.0f} |")
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
    decisions memory knew exactly, train success per epoch beside it."""
    out = ["| game | memory | held-out success (wins/n; 95% interval) | exact keys | "
           "train tasks, per epoch | ceiling | wall s |", "|---|---|---|---|---|---|---|"]
    for game, res in d["results"].items():
        n = len(res["held_out_seeds"])
        for row, m in res["rows"].items():
            train = ", ".join(fmt(v) for v in m.get("train", [])) or "-"
            known = m.get("known_share")
            out.append(f"| {game} | {row} | {held_out_cell(m['held_out'], n)} | "
                       f"{'-' if known is None else f'{known:.0%}'} | {train} | "
                       f"{fmt(res['ceiling']['value'])} | {m['wall_s']:.0f} |")
    return out


def alfworld(d: dict[str, Any]) -> list[str]:
    """One row per agent or baseline: success per task type (solved/games), all, wall time."""
    rows = d["results"]
    types = sorted({t for r in rows.values() for t in r["per_task_type"]})
    names = {"look_at_obj_in_light": "look", "pick_and_place_simple": "pick & place",
             "pick_clean_then_place_in_recep": "clean", "pick_cool_then_place_in_recep": "cool",
             "pick_heat_then_place_in_recep": "heat", "pick_two_obj_and_place": "two objects"}
    short = [names.get(t, t) for t in types]
    out = ["| row | " + " | ".join(short) + " | all | wall min |",
           "|---|" + "---|" * (len(types) + 2)]
    for name, r in rows.items():
        cells = [r["per_task_type"].get(t, {"games": 0, "solved": 0}) for t in types]
        games = sum(c["games"] for c in cells)
        solved = sum(c["solved"] for c in cells)
        out.append(f"| {name} | " + " | ".join(f"{c['solved']}/{c['games']}" for c in cells)
                   + f" | {solved}/{games} ({fmt(r['success'])}) | {r['wall_s'] / 60:.1f} |")
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


def selfplay(d: dict[str, Any]) -> list[str]:
    """Kuhn NashConv per epoch with its references; TicTacToe games per agent."""
    k = d["kuhn"]
    per = ", ".join(fmt(v) for v in k["nash_conv_per_epoch"])
    out = ["| Kuhn Poker policy | NashConv (0 = equilibrium) |", "|---|---|",
           f"| self-play + memory, per epoch | {per} |",
           f"| last / first epoch | {fmt(k['last_over_first'])} (mean of the last 3: "
           f"{fmt(k['mean_last3_over_first'])}) |",
           f"| LLM alone | {fmt(k['llm_alone'])} |", f"| uniform random | {fmt(k['random'])} |",
           "", "| TicTacToe agent (greedy, memory frozen) | vs random: won/drawn/lost | "
           "vs minimax: won/drawn/lost | self-play games |", "|---|---|---|---|"]
    for name, arm in d["tictactoe"]["arms"].items():
        cells = [f"{arm[o]['wins']}/{arm[o]['draws']}/{arm[o]['losses']}"
                 for o in ("random", "minimax")]
        train = arm.get("training")
        played = train["epochs"] * train["games_per_epoch"] if train else "-"
        out.append(f"| {name} | {cells[0]} | {cells[1]} | {played} |")
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


def wall_seconds(d: dict[str, Any]) -> float:
    """A record's wall time (the scripts name it ``wall_s`` or ``wall_seconds``)."""
    return float(d.get("wall_s", d.get("wall_seconds", 0.0)))


# run_full.sh groups other than core (each fits the 60-minute budget on its own)
GROUPS = {"learning.json": "`--group learning`", "bench_selfplay.json": "`--group selfplay`",
          "bench_curriculum.json": "`--group selfplay`",
          "bench_transfer.json": "`--group transfer-1` to `-7`",
          "bench_alfworld.json": "`--group alfworld` to `-4`"}


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
    "speed": ("bench_speed.json", speed), "llm": ("bench_llm.json", llm),
    "memory": ("bench_memory.json", memory), "envs": ("bench_envs.json", envs),
    "soak": ("bench_soak.json", soak), "train": ("bench_train.json", train),
    "selfplay": ("bench_selfplay.json", selfplay),
    "curriculum": ("bench_curriculum.json", curriculum),
    "scale": ("bench_scale.json", scale),
}


def table(name: str, results: Path = RESULTS) -> str:
    """One table as Markdown (``times``: every full run's wall time and the total).

    >>> table("times").splitlines()[0]
    '| benchmark | wall time | torch threads | load at end |'
    """
    if name == "times":
        files = [file for file, _ in TABLES.values() if (results / file).is_file()]
        return "\n".join(times({f: json.loads((results / f).read_text()) for f in files}))
    if name not in TABLES:
        raise KeyError(f"unknown table {name!r}; use one of {['times', *TABLES]}")
    file, make = TABLES[name]
    return "\n".join(make(json.loads((results / file).read_text())))


def fill(text: str, results: Path = RESULTS) -> str:
    """``text`` with every ``<!-- bench:NAME -->`` block replaced by the fresh table.

    >>> fill("<!-- bench:x -->\\nold\\n<!-- /bench:x -->", Path("/none"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    KeyError: "unknown table 'x'; use one of ['times', 'learning', ..., 'scale']"
    """
    return BLOCK.sub(lambda m: f"{m.group(1)}{table(m.group('name'), results)}\n{m.group(4)}",
                     text)


def main(argv: list[str] | None = None) -> int:
    """Print tables, or ``--write``/``--check`` README blocks; 1 when a check fails."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("names", nargs="*",
                   help=f"tables to print (default all): times {' '.join(TABLES)}")
    p.add_argument("--write", type=Path, nargs="+", metavar="README",
                   help="regenerate their blocks")
    p.add_argument("--check", type=Path, nargs="+", metavar="README",
                   help="exit 1 if a block is stale")
    args = p.parse_args(argv)
    if args.write or args.check:
        for path in args.write or []:
            path.write_text(fill(path.read_text(encoding="utf-8")), encoding="utf-8")
        return max((check(path) for path in args.check or []), default=0)
    for name in args.names or ["times", *TABLES]:
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
