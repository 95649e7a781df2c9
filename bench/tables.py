"""Markdown tables for the README from the full-mode JSON files in ``bench/results/``.

    python bench/tables.py                  # every table whose JSON exists
    python bench/tables.py learning speed   # some of them
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


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


def transfer(d: dict[str, Any]) -> list[str]:
    """One row per run of the transfer benchmark."""
    out = ["| run | success per epoch | mean success | wall s |", "|---|---|---|---|"]
    for name, m in {"learning on train maps": d["learning"], **d["arms"]}.items():
        per = ", ".join(fmt(v) for v in m["success_per_epoch"])
        out.append(f"| {name} | {per} | {fmt(m['success_rate'])} | {m['wall_s']:.0f} |")
    return out


def speed(d: dict[str, Any]) -> list[str]:
    """Rates and the share of wall time per part."""
    out = ["| parallel envs | decisions/s | episodes/min | LLM | env | memory (embedding) | "
           "overhead |", "|---|---|---|---|---|---|---|"]
    for r in d["results"]:
        s = r["share"]
        out.append(f"| {r['envs']} | {fmt(r['decisions_per_s'])} | "
                   f"{fmt(r['episodes_per_min'], 1)} | {s['llm']:.0%} | {s['env']:.1%} | "
                   f"{s['memory']:.0%} ({s['embedding']:.0%}) | {s['overhead']:.0%} |")
    return out


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


TABLES: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "learning": ("learning.json", learning), "transfer": ("bench_transfer.json", transfer),
    "speed": ("bench_speed.json", speed), "llm": ("bench_llm.json", llm),
    "memory": ("bench_memory.json", memory),
}


def main(names: list[str]) -> None:
    """Print each asked table (all by default) with its file's wall time and load."""
    for name in names or list(TABLES):
        file, make = TABLES[name]
        path = RESULTS / file
        if not path.is_file():
            print(f"## {name}: {file} missing\n")
            continue
        d = json.loads(path.read_text())
        load = d.get("machine_at_end", {}).get("load_avg")
        print(f"## {name} ({file}, wall {d.get('wall_s', 0):.0f} s, load at end {load})\n")
        print("\n".join(make(d)) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
