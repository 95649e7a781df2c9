"""bench_alfworld_baseline.py --quick (speed part only: the other parts have their own tests in
tests/environments and take minutes here)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
@pytest.mark.alfworld
def test_speed_part_writes_the_time_split(tmp_path: Path) -> None:
    if importlib.util.find_spec("alfworld") is None or not os.environ.get("ALFWORLD_DATA"):
        pytest.skip("needs alfworld and ALFWORLD_DATA")
    proc = subprocess.run([sys.executable, str(BENCH / "bench_alfworld_baseline.py"), "--quick",
                           "--parts", "speed", "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=300, cwd=BENCH.parent,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    record = json.loads((tmp_path / "bench_alfworld_baseline_quick.json").read_text())
    assert (tmp_path / "bench_alfworld_baseline_quick.png").is_file()
    for label in ("textworld", "memplay cached"):
        row = record["speed"][label]
        assert row["games"] == 2
        assert all(row[k] > 0 for k in ("load_s", "reset_s", "step_s", "cpu_s_per_game"))
    assert "game time" in proc.stdout and record["machine_at_end"]["load_avg"]
