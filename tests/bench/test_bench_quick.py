"""Every benchmark script in ``--quick`` mode, as a subprocess writing into a temporary folder.

Each test checks the JSON the script wrote: the keys the README and bench/README.md quote, and
the values that could be wrong (rates positive, success rates within [0, 1], time shares that
add up). The quick modes are CI smoke runs: together they take a few minutes on 2 cores.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
pytestmark = pytest.mark.slow


def run_quick(script: str, out: Path, *extra: str, timeout: int = 900) -> dict[str, Any]:
    """Run ``bench/<script> --quick --out <out>`` and return its ``*_quick.json``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(BENCH / script), "--quick", "--out", str(out),
                           *extra], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=BENCH.parent)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    written = sorted(out.glob("*_quick.json"))
    assert len(written) == 1, written
    assert written[0].with_suffix(".png").is_file()
    record = json.loads(written[0].read_text())
    assert record["quick"] is True
    return record


def is_rate(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def is_fraction(value: Any) -> bool:
    return isinstance(value, (int, float)) and 0.0 <= value <= 1.0


def test_bench_envs_quick(tmp_path: Path) -> None:
    record = run_quick("bench_envs.py", tmp_path)
    envs = {r["env"] for r in record["results"]}
    assert {"FrozenLake-4x4-v0", "Sokoban-v0", "TicTacToe-v0", "KuhnPoker-v0"} <= envs
    for row in record["results"]:
        assert is_rate(row["steps_per_s"]), row
    assert is_rate(record["wall_s"])


@pytest.mark.embedded
def test_bench_memory_quick(tmp_path: Path) -> None:
    record = run_quick("bench_memory.py", tmp_path)
    rows = record["results"]
    assert {r["size"] for r in rows} == {1_000, 10_000}
    for row in rows:
        assert is_rate(row["search"]["p50_ms"]) and is_fraction(row["recall_at_10"]), row
        if row["backend"].startswith("faiss"):
            assert is_rate(row["add"]["p50_ms"]) and is_rate(row["update_q3"]["p50_ms"])
            assert row["bytes_per_item"] > 384 * 4  # at least the float32 vector itself
    assert is_rate(record["wall_s"])


@pytest.mark.embedded
def test_bench_llm_quick(tmp_path: Path) -> None:
    record = run_quick("bench_llm.py", tmp_path)
    assert {(r["prefix"], r["envs"]) for r in record["decisions"]} == {
        (p, n) for p in ("reuse", "no-reuse") for n in (1, 4)}
    assert all(is_rate(r["decisions_per_s"]) for r in record["decisions"])
    assert all(is_rate(v) for v in record["ratios"].values())
    assert is_fraction(record["shared_prefix_fraction"])
    assert is_rate(record["generation"][0]["tokens_per_s"])
    modes = {(r["mode"], r["envs"]) for r in record["episodes"]}
    assert modes == {(m, n) for m in ("sessions", "prefix") for n in (1, 4)} | {("no-reuse", 1)}
    by_mode = {(r["mode"], r["envs"]): r for r in record["episodes"]}
    assert by_mode[("sessions", 4)]["session_rate"] > 0.3  # later steps resume their episode
    assert by_mode[("no-reuse", 1)]["hit_rate"] == 0.0
    assert all(is_fraction(r["hit_rate"]) and is_rate(r["decisions_per_s"])
               for r in record["episodes"])
    trie, alone = record["candidates"]
    assert trie["candidate_tokens_run"] < alone["candidate_tokens_run"]


def test_bench_soak_quick(tmp_path: Path) -> None:
    record = run_quick("bench_soak.py", tmp_path)
    assert all(record["summary"]["bounded"].values()), record["summary"]
    assert record["summary"]["episodes"] >= 1000
    assert is_rate(record["summary"]["median_ms_per_episode"])


@pytest.mark.embedded
def test_bench_speed_quick(tmp_path: Path) -> None:
    record = run_quick("bench_speed.py", tmp_path)
    assert [r["envs"] for r in record["results"]] == [1, 2]
    for row in record["results"]:
        assert row["decisions"] > 0 and is_rate(row["decisions_per_s"]), row
        assert is_rate(row["episodes_per_min"])
        share = row["share"]
        assert all(-0.01 <= share[p] <= 1.01 for p in share), share
        total = share["llm"] + share["env"] + share["memory"] + share["overhead"]
        assert total == pytest.approx(1.0, abs=0.01)
        assert share["embedding"] <= share["memory"] + 0.01  # embedding runs inside memory
        cache = row["cache"]  # the embedded backend keeps per-episode sessions
        assert cache["prompts"] >= row["decisions"] and cache["tokens_per_prompt"] > 50, cache
        assert 0.0 <= cache["shared_rate"] <= cache["hit_rate"] <= 1.0, cache
    # after its first step an episode reuses its own session (3 steps here: 25% saved)
    first = record["results"][0]
    assert first["decisions"] < 2 or first["cache"]["session_rate"] > 0.1, first
    versus = record["versus_scoring"]  # the agent's rate beside the scoring benchmark's
    assert is_rate(versus["scoring_decisions_per_s"]) and set(versus["ratio"]) == {"window",
                                                                                   "log"}
    items = versus["profiled_log_run"]["items_s"]
    assert items["forward over new prompt tokens"] > 0
    assert sum(items.values()) == pytest.approx(versus["profiled_log_run"]["wall_s"], rel=0.01)


@pytest.mark.embedded
def test_bench_gate_quick(tmp_path: Path) -> None:
    record = run_quick("bench_gate.py", tmp_path)
    (arms,) = record["results"].values()
    audit, gated = arms["audit"], arms["gated"]
    assert audit["model_call_fraction"] == 1.0 == audit["scored_fraction"]  # every score
    assert is_fraction(gated["model_call_fraction"]) and is_fraction(audit["agreement"])
    stats = audit["decision_stats"]
    assert stats["audit_agreed"] <= stats["audited"] <= stats["decisions"]
    assert gated["decision_stats"]["audited"] == 0


def check_curve(metrics: dict[str, Any], epochs: int) -> None:
    """Success values in [0, 1]; cumulative success never drops; last epoch consistent."""
    per, cum = metrics["success_per_epoch"], metrics["cumulative_success"]
    assert len(per) == len(cum) == epochs
    assert all(is_fraction(v) for v in per + cum), metrics
    assert all(a <= b for a, b in itertools.pairwise(cum))
    assert metrics["last_epoch_success"] == per[-1]
    assert is_rate(metrics["wall_s"])


@pytest.mark.embedded
def test_bench_learning_quick(tmp_path: Path) -> None:
    record = run_quick("bench_learning.py", tmp_path)
    results = record["results"]
    assert set(results) == {"FrozenLake-4x4", "TicTacToe-random"}
    for res in results.values():
        assert set(res["variants"]) == {"none", "memrl"}
        assert is_fraction(res["ceiling"]["value"])
        for metrics in res["variants"].values():
            check_curve(metrics, res["epochs"])
    assert results["FrozenLake-4x4"]["ceiling"]["value"] == 1.0  # BFS solves every task


@pytest.mark.embedded
def test_bench_learning_merges_partial_runs(tmp_path: Path) -> None:
    run_quick("bench_learning.py", tmp_path, "--envs", "KuhnPoker-random", "--variants", "none")
    record = run_quick("bench_learning.py", tmp_path, "--envs", "KuhnPoker-random",
                       "--variants", "rag")
    kuhn = record["results"]["KuhnPoker-random"]
    assert set(kuhn["variants"]) == {"none", "rag"}  # the first run's variant is kept
    assert 0.3 < kuhn["ceiling"]["expected_value"] < 0.7  # equilibrium vs random, 1000 hands
    assert "memrl+playbook" in kuhn["not_run"] and "memrl" not in kuhn["not_run"]
    fresh = run_quick("bench_learning.py", tmp_path, "--envs", "KuhnPoker-random",
                      "--variants", "memrl", "--fresh")
    assert set(fresh["results"]["KuhnPoker-random"]["variants"]) == {"memrl"}  # no merge
    png = tmp_path / "learning_quick.png"
    png.unlink()
    assert run_quick("bench_learning.py", tmp_path, "--plot-only") == fresh  # JSON untouched
    assert png.stat().st_size > 0  # redrawn from the JSON alone


@pytest.mark.embedded
def test_bench_transfer_quick(tmp_path: Path) -> None:
    record = run_quick("bench_transfer.py", tmp_path)
    (game,) = record["results"].values()
    assert set(game["held_out_seeds"]).isdisjoint(game["train_seeds"])
    assert set(game["rows"]) == {"none", "rag", "memrl-state", "memrl", "demos", "demos+play"}
    for row in game["rows"].values():
        assert 0.0 <= row["held_out"] <= 1.0 and row["wall_s"] > 0
    assert len(game["rows"]["memrl"]["train"]) == game["train_epochs"]
    assert game["rows"]["demos"]["demos"]["episodes"] == len(game["train_seeds"])
    assert game["ceiling"]["value"] == 1.0


# bench_train.py --quick runs in tests/trainers/test_train_bench.py, which checks its record in
# detail (running it here too would cost CI another two minutes).


@pytest.mark.embedded
def test_bench_selfplay_quick(tmp_path: Path) -> None:
    record = run_quick("bench_selfplay.py", tmp_path)
    kuhn, leduc = record["kuhn"], record["leduc"]
    hands, every, seeds = record["sizes"]["kuhn"]
    assert len(kuhn["alone"]) == seeds == len(kuhn["openspiel"])
    for run in kuhn["alone"]:
        assert run["curve"][-1]["games"] == hands and len(run["curve"]) >= hands // every
        assert run["own_judge_gap"] < 1e-9  # memplay's best response and OpenSpiel agree
        assert 0.0 <= run["last"] < kuhn["uniform"] == pytest.approx(11 / 12)
    assert [c["games"] for c in kuhn["openspiel"][0]["curve"]] == \
        [c["games"] for c in kuhn["alone"][0]["curve"]]  # the same numbers of hands
    llm = kuhn["llm"]
    assert 0 < llm["model_prompts"] <= llm["decisions"] and llm["own_judge_gap"] < 1e-9
    assert leduc["alone"]["last"] < leduc["uniform"] and leduc["alone"]["infostates"] <= 288
    ttt = record["tictactoe"]
    _, vs_minimax, vs_random = record["sizes"]["ttt"]
    for arm in ttt["arms"].values():
        for cell, games in arm.items():
            assert games["wins"] + games["draws"] + games["losses"] == games["games"] == \
                (vs_minimax if cell.startswith("minimax") else vs_random)
            assert games["wins"] == 0 or cell.startswith("random")  # minimax never loses
    assert 0 < ttt["infostates"] <= 765


@pytest.mark.embedded
def test_bench_curriculum_quick(tmp_path: Path) -> None:
    record = run_quick("bench_curriculum.py", tmp_path)
    assert set(record["curricula"]) == {"uniform", "sec", "proposer"}
    assert not set(record["train_tasks"]) & set(record["held_out_tasks"])
    for name, result in record["curricula"].items():
        assert is_fraction(result["held_out_success"])
        assert sum(sum(v) for v in result["choices"].values()) == record["train_episodes"]
        assert record["margins"][name] == pytest.approx(
            result["held_out_success"] - record["curricula"]["uniform"]["held_out_success"])


@pytest.mark.embedded
def test_bench_distill_quick(tmp_path: Path) -> None:
    record = run_quick("bench_distill.py", tmp_path)
    assert set(record["held_out_seeds"]).isdisjoint(record["train_seeds"])
    rounds = record["results"]["rounds"]
    (first,) = rounds["rounds"]
    assert first["version"]["recipe"] == "memory-greedy" and first["version"]["losses"]
    for row in [rounds["base"]["model_alone"], *first["held_out"].values(),
                *record["results"]["demos"]["held_out"].values()]:
        assert 0 <= row["solved"] <= row["tasks"] == len(record["held_out_seeds"])
        low, high = row["interval"]
        assert low <= row["rate"] <= high
    assert {r["memory"] for r in first["held_out"].values()} == {"off", "alone", "on"}
    assert record["results"]["demos"]["version"]["recipe"] == "demos"
    kuhn = record["results"]["kuhn"]  # the model alone, distilled from self-play's average
    assert kuhn["version"]["recipe"] == "average-strategy"
    assert kuhn["version"]["examples"] == 12 * 20  # every Kuhn information state, 20 answers
    assert 0 < kuhn["self_play"]["nash_conv"] < 0.9  # 200 hands: better than uniform (0.92)
    strategy = kuhn["trained"]["strategy"]  # the trained model's own, at all 12 states
    assert len(strategy) == 12
    assert all(sum(probs.values()) == pytest.approx(1, abs=0.01) for probs in strategy.values())
