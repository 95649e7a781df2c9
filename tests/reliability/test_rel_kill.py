"""Crash safety: SIGKILL writers at random points; nothing acknowledged is ever lost.

A child process (``rel_kill_child.py``) adds memories and saves in a loop, printing ``ACK id``
after each save returned. The parent kills it at seeded random moments (mostly mid-save) and
checks that the directory loads and holds every acknowledged id, then lets the next child
resume from it. A second test kills a whole agent run and resumes it to the end.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from memplay.errors import StoreLockedError
from memplay.memory import FaissMemoryStore, HashEmbedder, MemoryItem, StepMemory

CHILD = Path(__file__).with_name("rel_kill_child.py")
DIM = 16
STORE_KILLS = int(os.environ.get("MEMPLAY_KILLS", "15"))
RUN_KILLS = int(os.environ.get("MEMPLAY_RUN_KILLS", "5"))
RUN_EPISODES = 48  # episodes of the agent run killed RUN_KILLS times
CLI_KILLS, CLI_EPOCHS, CLI_TASKS = 2, 40, 4  # `memplay run` killed CLI_KILLS times


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _wait_for_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else ""


def _kill(proc: subprocess.Popen[str]) -> list[str]:
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return out.splitlines()


def test_sigkill_during_saves_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(1234)
    acked: list[str] = []
    for kill in range(STORE_KILLS):
        proc = _spawn("store", str(tmp_path), f"k{kill}")
        first = _wait_for_line(proc, timeout=60)
        assert first.startswith("ACK"), f"child never saved: {proc.stderr}"
        time.sleep(rng.uniform(0.0, 0.25))  # land somewhere inside a later save
        lines = [first.strip(), *_kill(proc)]
        acked += [line.split()[1] for line in lines if line.startswith("ACK")]
        store = FaissMemoryStore.load(tmp_path / "store", HashEmbedder(DIM))
        steps = StepMemory.load(tmp_path / "steps", HashEmbedder(DIM))
        missing = set(acked) - set(store.ids())
        assert not missing, f"kill {kill}: acknowledged memories lost: {sorted(missing)[:5]}"
        # At most one save per child can complete after its last ACK was printed.
        assert len(store) - len(acked) <= kill + 1
        values = steps.action_values([f"state {acked[-1]}"], [["right"]])[0]
        assert values["right"].sim == pytest.approx(1.0, abs=1e-5)
        store.close()
    assert len(acked) >= STORE_KILLS


def test_second_writer_is_refused_while_first_holds_the_lock(tmp_path: Path) -> None:
    proc = _spawn("store", str(tmp_path), "w")
    try:
        assert _wait_for_line(proc, timeout=60).startswith("ACK")
        intruder = FaissMemoryStore(HashEmbedder(DIM))
        intruder.add([MemoryItem(id="intruder", intent="x")])
        with pytest.raises(StoreLockedError, match="store"):
            intruder.save(tmp_path / "store")
    finally:
        _kill(proc)
    # The kernel drops a killed process's flock: a new writer may now proceed.
    intruder.save(tmp_path / "store")
    assert FaissMemoryStore.load(tmp_path / "store").ids() == ["intruder"]
    intruder.close()


def _episodes(run_dir: Path) -> list[int]:
    path = run_dir / "episodes.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line)["episode"])
        except (ValueError, KeyError):
            continue  # a torn final line: that episode reruns
    return rows


def _wait_for_progress(proc: subprocess.Popen[Any], run_dir: Path, timeout: float = 60) -> None:
    """Block until the run has appended a new episode row (or exited, or timed out), so a
    kill lands mid-run however slow the machine is."""
    start, deadline = len(_episodes(run_dir)), time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if len(_episodes(run_dir)) > start:
            return
        time.sleep(0.05)


def test_killed_run_resumes_without_duplicates(tmp_path: Path) -> None:
    rng, total = random.Random(99), RUN_EPISODES
    run_dir = tmp_path / "run"
    done_at_kill: list[int] = []
    for _ in range(RUN_KILLS):
        proc = _spawn("run", str(run_dir), str(total))
        _wait_for_progress(proc, run_dir)
        time.sleep(rng.uniform(0.0, 0.5))
        _kill(proc)
        done_at_kill.append(len(set(_episodes(run_dir))))
    proc = _spawn("run", str(run_dir), str(total))
    out, err = proc.communicate(timeout=300)
    assert "DONE" in out, err[-2000:]
    episodes = _episodes(run_dir)
    assert sorted(episodes) == list(range(total)), "episodes duplicated or missing"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["episodes"] == total
    FaissMemoryStore.load(run_dir / "memory" / "store", HashEmbedder(DIM))
    # Kills must have landed mid-run, so that resuming was really exercised.
    assert any(0 < done < total for done in done_at_kill), done_at_kill


def test_second_run_in_the_same_run_dir_is_refused_without_duplicates(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    first = _spawn("run", str(run_dir), "400")
    try:
        deadline = time.monotonic() + 60
        while not _episodes(run_dir) and time.monotonic() < deadline:
            time.sleep(0.1)  # wait until the first run holds its directory
        second = _spawn("run", str(run_dir), "400")
        _, err = second.communicate(timeout=120)
        assert second.returncode != 0 and "StoreLockedError" in err, err[-1500:]
    finally:
        _kill(first)
    episodes = _episodes(run_dir)
    assert len(episodes) == len(set(episodes)), "two runs appended the same episodes"


def test_cli_run_killed_twice_then_rerun_finishes_once(tmp_path: Path) -> None:
    """``memplay run`` again in the same --run-dir resumes (as ``--resume RUN_DIR`` does)."""
    run_dir, rng, total = tmp_path / "cli", random.Random(5), CLI_EPOCHS * CLI_TASKS
    cmd = [sys.executable, "-m", "memplay", "run", "--env", "FrozenLake-4x4-v0", "--llm",
           "scripted", "--embedder", "hash", "--epochs", str(CLI_EPOCHS), "--tasks",
           str(CLI_TASKS), "--run-dir", str(run_dir), "--no-progress"]
    done_at_kill = []
    for _ in range(CLI_KILLS):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_for_progress(proc, run_dir)
        time.sleep(rng.uniform(0.0, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        done_at_kill.append(len(set(_episodes(run_dir))))
    final = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr[-1500:]
    assert sorted(_episodes(run_dir)) == list(range(total))
    assert any(0 < done < total for done in done_at_kill), done_at_kill
