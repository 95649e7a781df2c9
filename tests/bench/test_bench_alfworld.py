"""bench_alfworld.py --quick: every row runs on the same games and reports each task type."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_quick(*args: str, timeout: int = 1200, **env: str) -> None:
    """Run ``bench_alfworld.py --quick ARGS`` offline (plus ``env``); fail with its output."""
    proc = subprocess.run([sys.executable, str(BENCH / "bench_alfworld.py"), "--quick", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=BENCH.parent,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg", **env})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One walkthrough cache for the module: the second run reuses the games the first played."""
    return tmp_path_factory.mktemp("alfworld_demos") / "d.jsonl"


@pytest.mark.slow
@pytest.mark.embedded
@pytest.mark.alfworld
def test_bench_alfworld_quick_runs_every_row_on_the_same_games(tmp_path: Path,
                                                                demo_cache: Path) -> None:
    if importlib.util.find_spec("alfworld") is None or not os.environ.get("ALFWORLD_DATA"):
        pytest.skip("needs alfworld and ALFWORLD_DATA")
    run_quick("--gated-prompt", "bare", "--out", str(tmp_path), "--demo-cache", str(demo_cache))
    record = json.loads((tmp_path / "bench_alfworld_quick.json").read_text())
    assert (tmp_path / "bench_alfworld_quick.png").is_file()
    assert len(record["games"]) == 2 and record["demos"]["games"] == 6  # one per task type
    results = record["results"]
    assert list(results) == ["baseline", "none", "none-ungated", "demos", "demos-ungated",
                             "demos-flat", "memrl", "memrl-flat", "demos+play", "demos-default",
                             "demos-default-flat"]
    for row, result in results.items():
        cells = result["per_task_type"]
        assert sum(c["games"] for c in cells.values()) == 2, (row, cells)
        solved = sum(c["solved"] for c in cells.values())
        assert result["success"] == pytest.approx(solved / 2), (row, result)
    assert results["demos"]["demos"] == results["demos-flat"]["demos"] == 6
    # the gated row asked the model about fewer decisions or candidates than the ungated one
    gated, every = results["demos"]["decision_stats"], results["demos-ungated"]["decision_stats"]
    assert every["model_calls"] == every["decisions"] and every["scored"] == every["candidates"]
    assert gated["scored"] < gated["candidates"]
    # --gated-prompt bare: the gated row's calls leave out memory's text and the recent moves,
    # as its run's config records; the ungated reference keeps the agent's usual prompt
    assert results["demos"]["prompt"] == {"memory_text": False, "recent_steps": 0}
    assert results["demos-ungated"]["prompt"] == {}
    played = yaml.safe_load((tmp_path / "runs" / "alfworld_quick" / "demos" / "eval"
                             / "config.yaml").read_text())["prompt"]
    assert (played["memory_text"], played["recent_steps"]) == (False, 0)
    assert "demos" not in results["none"]
    # the model alone plays with the demos row's settings: the view's unneeded actions unscored
    assert results["none"]["policy"] == results["demos"]["policy"] \
        == results["demos-default"]["policy"]
    assert results["none"]["decision_stats"]["pruned_by_view"] > 0
    alone = results["none-ungated"]["decision_stats"]
    assert alone["scored"] == alone["candidates"] and results["none-ungated"]["prompt"] == {}
    assert len(results["memrl"]["train"]) == 1  # one epoch of own play on train games
    _check_saved_memory_eval(tmp_path, demo_cache)


def _check_saved_memory_eval(first: Path, demo_cache: Path) -> None:
    """``--memory``: a row evaluates demos+play's saved memory, learns nothing, changes none."""
    saved = first / "runs" / "alfworld_quick" / "demos+play" / "memory"
    before = sorted((p.name, p.stat().st_size) for p in saved.rglob("*") if p.is_file())
    out = first / "again"
    run_quick("--rows", "demos-flat", "--memory", str(saved), "--out", str(out),
              "--demo-cache", str(demo_cache), timeout=600)
    record = json.loads((out / "bench_alfworld_quick.json").read_text())
    row = record["results"]["demos-flat"]
    assert row["memory_from"] == str(saved) and "demos" not in row
    assert record["demos"] is None and record["demo_seconds"] == 0.0  # learned from none
    assert sum(c["games"] for c in row["per_task_type"].values()) == 2
    assert sorted((p.name, p.stat().st_size) for p in saved.rglob("*") if p.is_file()) == before


@pytest.mark.slow
@pytest.mark.embedded
@pytest.mark.alfworld
def test_bench_alfworld_plays_unchanged_against_a_llama_cpp_server(
        tmp_path: Path, demo_cache: Path, llamacpp_url: str) -> None:
    """The same run with ``--llm openai``: the agent scores ALFWorld's actions on a server."""
    if importlib.util.find_spec("alfworld") is None or not os.environ.get("ALFWORLD_DATA"):
        pytest.skip("needs alfworld and ALFWORLD_DATA")
    run_quick("--rows", "demos", "--llm", "openai", "--base-url", llamacpp_url,
              "--score-mode", "top_logprobs", "--out", str(tmp_path),
              "--demo-cache", str(demo_cache))
    record = json.loads((tmp_path / "bench_alfworld_quick.json").read_text())
    assert record["results"]["demos"]["llm"] == {"backend": "openai", "base_url": llamacpp_url,
                                                 "score_mode": "top_logprobs"}
    assert list(record["results"]) == ["demos"] and record["results"]["demos"]["demos"] == 6
    episodes = tmp_path / "runs" / "alfworld_quick" / "demos" / "eval" / "episodes.jsonl"
    steps = [json.loads(line)["steps"] for line in episodes.read_text().splitlines()]
    assert len(steps) == 2 and all(s >= 1 for s in steps), steps


@pytest.mark.slow
@pytest.mark.embedded
@pytest.mark.alfworld
def test_own_play_row_runs_unchanged_on_the_out_of_distribution_split(tmp_path: Path) -> None:
    """``--rows memrl --split eval_out_of_distribution``: own play on train games, then the
    held-out games of valid_unseen. That split is not here (it comes with alfworld-download),
    so valid_seen stands in for it under its name: the command, the row and the JSON are the
    ones a machine with the data runs."""
    data = os.environ.get("ALFWORLD_DATA")
    if importlib.util.find_spec("alfworld") is None or not data:
        pytest.skip("needs alfworld and ALFWORLD_DATA")
    stand_in = tmp_path / "data" / "json_2.1.1"
    stand_in.mkdir(parents=True)
    for name, real in (("train", "train"), ("valid_seen", "valid_seen"),
                       ("valid_unseen", "valid_seen")):
        (stand_in / name).symlink_to(Path(data) / "json_2.1.1" / real)
    run_quick("--rows", "memrl", "--split", "eval_out_of_distribution", "--out", str(tmp_path),
              ALFWORLD_DATA=str(tmp_path / "data"))
    record = json.loads((tmp_path / "bench_alfworld_unseen_quick.json").read_text())
    assert record["split"] == "eval_out_of_distribution" and list(record["results"]) == ["memrl"]
    row = record["results"]["memrl"]
    assert len(row["train"]) == 1 and row["episodes"] == 1 and row["play"]["epochs"] == 1
    assert sum(c["games"] for c in row["per_task_type"].values()) == len(record["games"]) == 2
    assert record["demos"] is None  # own play reads no walkthrough
