"""``memplay run --variant reflexion`` and ``--variant expel`` with the real embedded
SmolLM2-135M: every LLM answer is either kept or counted as rejected, and shown by inspect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memplay.agents.methods.reflexion.store import ReflectionStore
from memplay.app.cli import main

# One batch of 2 episodes of 4 steps (FrozenLake 4x4 needs 6 to win, so both fail), then one
# batched generation of at most 32 tokens: the cost is that generation, not play.
CONFIG = "memory: {embedder: hash}\nreflection: {rewrite_every: 2, playbook_tokens: 32}\n"


def _run(tmp_path: Path, variant: str) -> Path:
    (tmp_path / "config.yaml").write_text(CONFIG)
    run = tmp_path / "run"
    args = ["run", "--env", "FrozenLake-4x4-v0", "--variant", variant, "--config",
            str(tmp_path / "config.yaml"), "--tasks", "2", "--epochs", "1", "--max-steps", "4",
            "--parallel", "2", "--run-dir", str(run), "--no-progress"]
    assert main(args) == 0
    return run


@pytest.mark.embedded
def test_reflexion_with_the_embedded_model(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(tmp_path, "reflexion")
    rows = [json.loads(x) for x in (run / "episodes.jsonl").read_text().splitlines()]
    store = ReflectionStore(run / "memory" / "reflexion")
    # one reflection per failed episode, written by the model or (counted) by the template
    assert len(store) == sum(not r["success"] for r in rows) > 0
    assert sum(store.counts().values()) == len(store)
    capsys.readouterr()
    assert main(["inspect", str(run)]) == 0
    assert f"reflexion: {len(store)} reflections" in capsys.readouterr().out


@pytest.mark.embedded
def test_expel_with_the_embedded_model(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(tmp_path, "expel")
    book = json.loads((run / "memory" / "insights" / "FrozenLake.json").read_text())
    # 2 episodes, rewrite_every 2: the model was asked once; its answer was applied or not
    assert book["stats"]["answers"] == 1 and book["stats"]["accepted"] in (0, 1)
    assert (len(book["insights"]) > 0) == (book["stats"]["accepted"] == 1)
    capsys.readouterr()
    assert main(["inspect", str(run)]) == 0
    assert "insights: FrozenLake" in capsys.readouterr().out
