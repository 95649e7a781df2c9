"""Bad input to `memplay train` ends in one line on stderr that names the value and the fix:
an empty data set, a model whose tokenizer has no chat template, GPU-only options on a
machine without a GPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from memplay.app.cli import main
from memplay.types import Step, Trajectory


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMPLAY_DEBUG", raising=False)


def _run_dir(tmp_path: Path, success: bool) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    traj = Trajectory(env_id="FrozenLake-4x4-v0", goal="g", success=success,
                      steps=[Step(observation="o", action="down")])
    (run / "trajectories.jsonl").write_text(traj.model_dump_json() + "\n")
    return run


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_run_without_successes_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["train", str(_run_dir(tmp_path, success=False))]) == 2
    err = _error(capsys)
    assert "recipe 'successes' found no examples" in err and "1 episodes, 0 successes" in err
    assert "play more episodes until some succeed" in err


def test_dpo_without_pairs_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["train", str(_run_dir(tmp_path, success=True)), "--method", "dpo"]) == 2
    err = _error(capsys)
    assert "recipe 'pairs' found no examples" in err and "replay each task more than once" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_device_without_gpu_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["train", str(_run_dir(tmp_path, True)), "--device", "cuda"]) == 2
    err = _error(capsys)
    assert "device='cuda'" in err and "use device='auto' or 'cpu'" in err


def test_half_precision_on_cpu_is_one_line(tmp_path: Path, capsys) -> None:
    args = ["train", str(_run_dir(tmp_path, True)), "--dtype", "float16", "--device", "cpu"]
    assert main(args) == 2
    err = _error(capsys)
    assert "dtype='float16'" in err and "needs a GPU" in err and "dtype='float32'" in err


@pytest.mark.embedded
def test_model_without_chat_template_is_one_line(tmp_path: Path, capsys) -> None:
    from memplay.llm.embedded import embedded_model_path

    # the embedded model's files, with the chat template removed from the tokenizer
    model = tmp_path / "plain-model"
    model.mkdir()
    for file in embedded_model_path().iterdir():
        if file.name not in ("chat_template.jinja", "tokenizer_config.json"):
            (model / file.name).symlink_to(file)
    tok_config = json.loads((embedded_model_path() / "tokenizer_config.json").read_text())
    tok_config.pop("chat_template", None)
    (model / "tokenizer_config.json").write_text(json.dumps(tok_config))
    run = _run_dir(tmp_path, success=True)
    assert main(["train", str(run), "--model-path", str(model), "--max-steps", "1"]) == 2
    err = _error(capsys)
    assert f"tokenizer of {str(model)!r} has no chat template" in err
    assert "tokenizer.chat_template" in err
    assert not (run / "models").exists()  # nothing half-saved
