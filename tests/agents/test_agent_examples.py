"""Every script in examples/ runs with --quick, as a user would run it (a subprocess in a
fresh directory), and the custom-variant example's reflection reaches the prompts."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from memplay.agents import Agent
from memplay.agents.methods import REFLECTIONS
from memplay.agents.variants import VARIANTS
from memplay.llm.fake import ScriptedLLM, prompt_text
from memplay.memory import HashEmbedder
from memplay.types import Step, Trajectory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# What each quick run must print (a line that only a finished run prints).
PRINTS = {
    "alfworld_household.py": "held-out success (memory never saw these games):",
    "curriculum.py": "episodes per arm:",
    "custom_graph.py": "prompt chars:",
    "custom_variant.py": "task 0, shortest win",
    "frozenlake.py": "learning curve:",
    "minesweeper.py": "- Open with reveal 2 2 in the middle",
    "quickstart.py": "last-epoch success:",
    "self_play.py": "both seats of every game:",
    "sokoban.py": "frozen evaluation:",
    "two_player.py": "win rate per epoch:",
}
MARKS = {
    "quickstart.py": [pytest.mark.embedded],  # its point is the real model: kept very short
    "alfworld_household.py": [pytest.mark.alfworld],
}


def _examples() -> list[object]:
    return [pytest.param(path, id=path.name, marks=MARKS.get(path.name, []))
            for path in sorted(EXAMPLES.glob("*.py"))]


@pytest.mark.parametrize("path", _examples())
def test_example_runs_in_quick_mode(path: Path, tmp_path: Path) -> None:
    if path.name == "alfworld_household.py" and not os.environ.get("ALFWORLD_DATA"):
        pytest.skip("ALFWORLD_DATA is not set (CI sets it; `make data` unpacks it)")
    assert path.name in PRINTS, f"say what {path.name} --quick prints in PRINTS"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(path), "--quick"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert PRINTS[path.name] in proc.stdout, proc.stdout[-2000:]
    assert (tmp_path / "runs").is_dir()  # results went under the working directory


@pytest.fixture
def example() -> Iterator[ModuleType]:
    """examples/custom_variant.py, imported (it registers its reflection and variant)."""
    spec = importlib.util.spec_from_file_location("custom_variant_example",
                                                  EXAMPLES / "custom_variant.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    REFLECTIONS.unregister("shortest-win")
    VARIANTS.unregister("shortest")


def _won(*actions: str, seed: int = 3, success: bool = True) -> Trajectory:
    return Trajectory(env_id="e", seed=seed, success=success,
                      steps=[Step(observation="o", action=a) for a in actions])


def test_custom_variant_remembers_the_shortest_win(tmp_path: Path, example: ModuleType) -> None:
    book = example.ShortestWin(tmp_path / "wins.json")
    assert book.prompt_text("g", "o", 3) == ""  # nothing won yet
    book.learn([_won("down", "down", "right")])
    book.learn([_won("down", "left", "down", "right")])  # longer: ignored
    book.learn([_won("up", success=False)])  # lost: ignored
    again = example.ShortestWin(tmp_path / "wins.json")  # read back from its file
    assert again.prompt_text("g", "o", 3) == "This task was won before with: down, down, right"
    assert again.prompt_text("g", "o", 4) == ""  # another task


def test_custom_variant_quotes_the_win_in_the_next_prompts(
        tmp_path: Path, example: ModuleType) -> None:
    # a stand-in LLM that leans toward the goal (down and right), uncalibrated, so the seeded
    # run wins within its epochs and the reflection has something to quote
    llm = ScriptedLLM(scores={"down": -0.5, "right": -0.5}, default_score=-2.0)
    agent = Agent("FrozenLake-4x4-v0", variant="memrl+shortest", max_steps=12, llm=llm,
                  embedder=HashEmbedder(256), parallel_envs=2, policy={"calibrate": False})
    assert agent.config.spec.reflections == ("shortest-win",)
    agent.run(epochs=8, tasks=range(2), run_dir=tmp_path / "run", progress=False)
    agent.close()
    wins = json.loads((tmp_path / "run" / "memory" / "shortest_wins" / "wins.json").read_text())
    assert wins, "the seeded run wins a task"
    shown = [prompt_text(p) for kind, batch in llm.calls if kind == "score" for p in batch]
    quoted = [p for p in shown if "<shortest_win>" in p]
    assert quoted and all("This task was won before with: " in p for p in quoted)
    assert any(", ".join(plan) in p for plan in wins.values() for p in quoted)
