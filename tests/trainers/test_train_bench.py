"""CI smoke run of bench/bench_train.py --quick (about 3 minutes on 2 cores): both arms play,
the training round really runs, and the JSON + PNG land in the folder --out names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.embedded, pytest.mark.slow]


def test_bench_train_quick_writes_its_record(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_train.py"), "--quick", "--out",
         str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "bench_train_quick.json").read_text())
    assert (tmp_path / "bench_train_quick.png").stat().st_size > 1000
    assert record["quick"] is True and record["seeds"] == {"agent": 0, "tasks": [0, 1, 2, 3]}
    trained = record["memory+train"]
    (round_,) = trained["rounds"]
    assert round_["status"] == "trained" and round_["after_epoch"] == 0, round_
    (version,) = trained["versions"]
    assert version["steps"] == 2 and version["after_epoch"] == 0
    assert set(version["success_per_epoch"]) == {"1"}  # JSON keys: the epoch played with it
    assert trained["train_seconds"] > 0 and trained["play_seconds"] > 0
    assert len(trained["success_per_epoch"]) == len(record["memory"]["success_per_epoch"]) == 1
    assert record["collect"]["seconds"] > 0
    for arm in ("base", "trained"):
        assert 0.0 <= record["weights_alone"][arm]["success"] <= 1.0
