"""``memplay eval`` on a learned memory: an imported playbook reaches the prompts, the memory
stays as it was, and eval offers no learning options."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memplay.agents import Agent
from memplay.app.cli import main
from memplay.llm.fake import ScriptedLLM, prompt_text
from memplay.llm.registry import BACKENDS, register_backend
from memplay.memory import HashEmbedder

RULES = "- Falling into a hole H ends the episode."
PLAYBOOK = "- Move down twice, then right to reach the goal G."


@pytest.fixture
def recorder() -> Iterator[ScriptedLLM]:
    """A registered backend ``recording`` whose one scripted LLM keeps every prompt."""
    llm = ScriptedLLM()
    register_backend("recording", lambda **_: llm)
    yield llm
    BACKENDS.unregister("recording")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".lock"}


def test_eval_of_an_imported_memory_shows_its_playbook_in_the_prompts(
        tmp_path: Path, recorder: ScriptedLLM) -> None:
    # learn: the scripted LLM's rewrite of the rules and the playbook is accepted
    writer = ScriptedLLM(responses=[RULES, PLAYBOOK])
    agent = Agent("FrozenLake-4x4-v0", variant="memrl+playbook", max_steps=6, llm=writer,
                  embedder=HashEmbedder(256), reflection={"rewrite_every": 1})
    agent.run(epochs=1, tasks=[0], run_dir=tmp_path / "run", progress=False)
    agent.close()
    assert PLAYBOOK in (tmp_path / "run" / "memory" / "playbooks" / "FrozenLake.json").read_text()
    assert not (tmp_path / "run" / "playbook.md").exists()  # playbooks live in the memory

    # carry it to a fresh directory, as another machine would
    assert main(["export", str(tmp_path / "run"), str(tmp_path / "m.tar.gz")]) == 0
    imported = tmp_path / "imported"
    assert main(["import", str(tmp_path / "m.tar.gz"), str(imported), "--embedder", "hash"]) == 0
    before = _snapshot(imported)

    assert main(["eval", "--env", "FrozenLake-4x4-v0", "--variant", "memrl+playbook",
                 "--llm", "recording", "--embedder", "hash", "--tasks", "2", "--max-steps",
                 "4", "--memory-dir", str(imported), "--run-dir", str(tmp_path / "eval"),
                 "--no-progress"]) == 0
    prompts = [prompt_text(p) for kind, batch in recorder.calls if kind == "score"
               for p in batch]
    assert prompts and all(PLAYBOOK in p and RULES in p for p in prompts)
    assert not any(kind == "generate" for kind, _ in recorder.calls)  # frozen: no rewrite
    assert _snapshot(imported) == before  # eval wrote nothing to the memory


def test_eval_has_no_train_every_and_a_read_only_memory_dir(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--train-every" not in text and "--memory-dir" in text
    assert "memory to evaluate (read only" in text
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--env", "FrozenLake-4x4-v0", "--train-every", "1"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --train-every" in capsys.readouterr().err

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "--train-every" in capsys.readouterr().out  # run keeps it
