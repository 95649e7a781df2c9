"""bench_distill.py's ALFWorld curve is run as separate groups (train a chunk, score it, train
the next), so each run continues from the weights the last one left in the run folder, which
git does not keep: a run that cannot find them stops before loading any model, and says how
to start the curve again."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import bench_distill  # noqa: E402  (bench/ is not a package)


def _record(tmp_path: Path, weights: Path) -> None:
    cfg = bench_distill.settings(bench_distill.parse_args(["--out", str(tmp_path)]))
    chunk = {"chunk": 2, "version": {"path": str(weights)}, "examples_seen": 8}
    results = {"alfworld": {"chunks": [chunk]}, "kuhn": {"nash_conv": 0.08, "wall_s": 600.0}}
    (tmp_path / "bench_distill.json").write_text(json.dumps({"settings": cfg,
                                                              "results": results}))


@pytest.mark.parametrize("part", ["alfworld-train", "alfworld-eval"])
def test_a_curve_whose_last_weights_are_gone_stops_with_the_fix(tmp_path: Path,
                                                                  part: str) -> None:
    _record(tmp_path, tmp_path / "runs" / "distill" / "alfworld" / "models" / "v2")
    with pytest.raises(SystemExit, match=r"chunk 2's weights .*v2 are missing; start the "
                                         r"curve again with --alfworld-restart"):
        bench_distill.main(["--out", str(tmp_path), "--parts", part])


def test_scoring_with_no_chunk_recorded_asks_for_training_first(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no ALFWorld chunk is recorded to score"):
        bench_distill.main(["--out", str(tmp_path), "--parts", "alfworld-eval"])


def test_restart_forgets_the_recorded_chunks_only(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """--alfworld-restart drops the curve (so no weights are missing), not the other parts'
    results (the models and the training are stood in for)."""
    _record(tmp_path, tmp_path / "gone")
    seen: dict[str, Any] = {}

    def train(b: Any, results: dict[str, Any]) -> dict[str, Any]:
        seen["results"] = dict(results)
        return {"chunks": [{"chunk": 1, "version": {"path": str(tmp_path)}}]}

    monkeypatch.setattr(bench_distill, "Bench", lambda cfg, work: SimpleNamespace(
        train=[0], held_out=[1000]))
    monkeypatch.setitem(bench_distill.PART_RUNNERS, "alfworld-train", train)
    bench_distill.main(["--out", str(tmp_path), "--parts", "alfworld-train",
                        "--alfworld-restart"])
    assert sorted(seen["results"]) == ["kuhn"]
    saved = json.loads((tmp_path / "bench_distill.json").read_text())["results"]
    assert [c["chunk"] for c in saved["alfworld"]["chunks"]] == [1]
    assert saved["kuhn"]["nash_conv"] == 0.08
