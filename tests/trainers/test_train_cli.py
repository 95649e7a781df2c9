"""Options of ``memplay train`` built from the config dataclasses (no model needed)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from memplay.app.cli import main
from memplay.errors import ConfigError
from memplay.trainers import loop
from memplay.trainers.cli_options import add_train_arguments, config_from_args
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.result import TrainResult
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.version import ModelVersion
from memplay.types import Step, Trajectory


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(["runs/x", *argv])


def fake_trainer(monkeypatch: pytest.MonkeyPatch, losses: list[float]) -> dict[str, Any]:
    """Replace the round's trainer with one that records its config, data and save fields
    (returned, filled as the command runs) and reports ``losses``, one per step."""
    seen: dict[str, Any] = {}

    class Trainer:
        def __init__(self, start: Any, config: Any) -> None:
            seen["config"] = config

        def train(self, data: list[Any]) -> TrainResult:
            seen["data"] = data
            return TrainResult(losses=losses, steps=len(losses), seconds=0.0)

        def save(self, out: Path, version: int | None = None, run_dir: Any = None,
                 **fields: Any) -> ModelVersion:
            seen["fields"] = fields
            return ModelVersion(path=str(out), method="sft", base_model="b", version=version,
                                losses=losses, steps=len(losses), examples=len(seen["data"]),
                                **fields)

    monkeypatch.setattr(loop, "_make_trainer", Trainer)
    return seen


def test_every_config_field_has_an_option() -> None:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    flags = {opt for action in parser._actions for opt in action.option_strings}
    for cls in (SFTConfig, DPOConfig):
        for f in dataclasses.fields(cls):
            if f.name == "output_dir":
                assert "--output-dir" not in flags  # the round picks models/vN itself
                continue
            assert "--" + f.name.replace("_", "-") in flags


def test_unset_options_keep_each_methods_defaults() -> None:
    assert config_from_args(parse()) == SFTConfig()
    assert config_from_args(parse("--method", "dpo")) == DPOConfig()
    assert parse().method is None  # the recipe decides


def test_options_convert_to_field_types() -> None:
    config = config_from_args(parse("--no-use-lora", "--max-steps", "7", "--learning-rate",
                                    "0.001", "--lora-target-modules", "q_proj", "v_proj"))
    assert isinstance(config, SFTConfig)
    assert (config.use_lora, config.max_steps, config.learning_rate) == (False, 7, 0.001)
    assert config.lora_target_modules == ("q_proj", "v_proj")


def test_bad_values_reach_the_config_checks() -> None:
    with pytest.raises(ConfigError, match=r"lora_r=0"):
        config_from_args(parse("--lora-r", "0"))


def test_train_command_trains_one_round_with_the_agents_prompt(tmp_path: Path, monkeypatch,
                                                               capsys) -> None:
    seen = fake_trainer(monkeypatch, [1.0, 0.5])
    win = Trajectory(env_id="e", goal="g", success=True, steps=[
        Step(observation="o1", action="down"), Step(observation="o2", action="right")])
    (tmp_path / "trajectories.jsonl").write_text(win.model_dump_json() + "\n")
    (tmp_path / "config.yaml").write_text("prompt:\n  system: Play FrozenLake well.\n")
    assert main(["train", str(tmp_path), "--max-steps", "3"]) == 0
    assert seen["config"].max_steps == 3
    assert [r.messages[-1]["content"] for r in seen["data"]] == ["down", "right"]  # per step
    # the prompt the run's agent played with, its system message included (as train_every)
    assert seen["data"][1].messages[0] == {"role": "system", "content": "Play FrozenLake well."}
    # the prompt the trained model will play with: the recipe's, no past moves in it
    assert seen["data"][1].messages[1]["content"].startswith("Goal: g\nObservation:\no2")
    assert "Your last moves" not in seen["data"][1].messages[1]["content"]
    out = capsys.readouterr().out
    assert "model version v1 (successes): 2 examples, 2 steps, loss 1.000 -> 0.500" in out


def test_train_command_takes_a_recipe_and_its_files(tmp_path: Path, monkeypatch,
                                                    capsys) -> None:
    from memplay.demos import write_demos
    from memplay.environments.demos import solver_demo_episodes

    seen = fake_trainer(monkeypatch, [1.0])
    write_demos(tmp_path / "demos.jsonl", solver_demo_episodes("FrozenLake-4x4-v0", [0]))
    assert main(["train", str(tmp_path), "--recipe", "demos", "--data",
                 str(tmp_path / "demos.jsonl")]) == 0
    assert len(seen["data"]) == 6 and seen["fields"]["recipe"] == "demos"
    assert seen["fields"]["play"]["policy"] == {"calibrate": False, "temperature": 0.0}
    assert "model version v1 (demos): 6 examples" in capsys.readouterr().out
    assert main(["train", str(tmp_path), "--recipe", "demos", "--method", "dpo"]) == 2
    assert "feeds sft, not method 'dpo'" in capsys.readouterr().err
