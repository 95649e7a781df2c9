"""The README quickstart (examples/quickstart.py) runs: fast with fakes, once for real."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from memplay.agents import Agent
from memplay.llm.fake import ScriptedLLM
from memplay.memory import HashEmbedder

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def test_quickstart_is_at_most_12_lines() -> None:
    code = [line for line in QUICKSTART.read_text().splitlines() if line.strip()]
    assert len(code) <= 12


def test_quickstart_runs_with_fast_fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import memplay.agents.agent as agent_module

    monkeypatch.setattr(agent_module, "make_llm", lambda cfg: ScriptedLLM())
    monkeypatch.setattr(agent_module, "make_embedder", lambda cfg: HashEmbedder(64))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(QUICKSTART), run_name="__main__")
    out = capsys.readouterr().out
    assert "success per epoch: [" in out and "last-epoch success:" in out
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "episodes.jsonl").read_text().count("\n") == 40


@pytest.mark.embedded
def test_end_to_end_with_the_embedded_model(tmp_path: Path) -> None:
    """Real SmolLM2-135M + MiniLM: two lockstep episodes, memory written, run resumed."""
    from memplay.agents.components import make_embedder, make_llm
    from memplay.agents.config import AgentConfig

    llm, embedder = make_llm(AgentConfig()), make_embedder(AgentConfig())
    first = Agent("FrozenLake-4x4-v0", variant="memrl", max_steps=3, parallel_envs=2,
                  llm=llm, embedder=embedder)
    result = first.run(epochs=1, tasks=[0, 1], run_dir=tmp_path, progress=False)
    first.close()
    assert result.metrics["episodes"] == 2 and result.metrics["errored"] == 0
    states = (tmp_path / "memory" / "steps" / "states.jsonl").read_text().splitlines()
    assert states  # step memory was written to disk
    again = Agent("FrozenLake-4x4-v0", variant="memrl", max_steps=3, parallel_envs=2,
                  llm=llm, embedder=embedder)
    resumed = again.run(epochs=2, tasks=[0, 1], run_dir=tmp_path, progress=False)
    again.close()
    assert resumed.metrics["episodes"] == 4 and resumed.success_per_epoch[1] is not None
