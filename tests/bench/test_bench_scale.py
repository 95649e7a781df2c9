"""bench_scale.py --quick: every executor and worker count has a row, and the per-step
latencies are measured (FrozenLake only, no embedded model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_bench_scale_quick_has_every_row(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(BENCH / "bench_scale.py"), "--quick", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=300,
                          cwd=BENCH.parent, env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads((tmp_path / "bench_scale_quick.json").read_text())
    assert (tmp_path / "bench_scale_quick.png").stat().st_size > 1000
    rows = record["results"]
    assert {(r["executor"], r["workers"]) for r in rows} == {
        (e, n) for e in ("local", "process", "ray") for n in (1, 2)}
    for row in rows:
        assert row["episodes"] == 2 * row["workers"] and row["episodes_per_min"] > 0, row
        # the rate is computed from the unrounded wall time; a quick row can take under
        # 0.1 s, so compare wall times and allow for wall_s's rounding to 1 ms
        wall_from_rate = 60 * row["episodes"] / row["episodes_per_min"]
        assert wall_from_rate == pytest.approx(row["wall_s"], rel=0.01, abs=0.0006), row
    assert set(record["speedup_vs_local"]) == {
        f"FrozenLake-4x4-v0 {e} {n}" for e in ("process", "ray") for n in (1, 2)}
    latency = record["overhead"]["step_latency_ms"]
    assert all(latency[e] > 0 for e in ("local", "process", "ray"))
    assert record["overhead"]["ray_overhead_ms"] == pytest.approx(
        latency["ray"] - latency["local"], abs=0.01)
    assert record["overhead"]["ray_overhead_share"] is None  # quick: no embedded model
    assert "Ray's overhead" in proc.stdout
