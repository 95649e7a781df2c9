"""A short soak (the long one is bench/bench_soak.py): no fd leak, memory counts saturate."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_soak.py"
SOAK_EPISODES, CHUNK_EPISODES = 192, 32  # 16 task seeds x 2 epochs per chunk


def _bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # bench scripts import their shared helpers (bench/_common.py) as top-level modules
    monkeypatch.syspath_prepend(str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("memplay_bench_soak", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_soak_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _bench(monkeypatch)
    rows = bench.soak(total=SOAK_EPISODES, chunk_epochs=2, seed=1, run_dir=tmp_path / "run")
    chunks = SOAK_EPISODES // CHUNK_EPISODES
    assert [r["episodes"] for r in rows] == [CHUNK_EPISODES * (i + 1) for i in range(chunks)]
    assert rows[-1]["fds"] <= rows[0]["fds"], "file descriptors leak across resumed runs"
    assert bench.bounded(rows) == {"rss": True, "fds": True, "items": True, "states": True}
    assert len((tmp_path / "run" / "episodes.jsonl").read_text().splitlines()) == SOAK_EPISODES
