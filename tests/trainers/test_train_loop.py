"""train_round's bookkeeping with a stand-in trainer: data, start weights, versions, reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from memplay.errors import TrainerError
from memplay.trainers import loop
from memplay.trainers.dpo_config import DPOConfig
from memplay.trainers.modeling import save_model
from memplay.trainers.records import ChatRecord, PreferencePair
from memplay.trainers.result import TrainResult
from memplay.trainers.sft_config import SFTConfig
from memplay.trainers.version import ModelVersion, read_version
from memplay.types import Step, Trajectory


class FakeTrainer:
    """Records what it was given and saves a folder without any model."""

    made: ClassVar[list[FakeTrainer]] = []

    def __init__(self, start: Any, config: Any) -> None:
        self.start, self.config = start, config
        self.data: list[Any] = []
        FakeTrainer.made.append(self)

    def train(self, data: list[Any]) -> TrainResult:
        self.data = data
        return TrainResult(losses=[2.0, 1.0], steps=2, seconds=0.1, examples=len(data))

    def save(self, out: Path, version: int | None = None, run_dir: Any = None) -> ModelVersion:
        record = ModelVersion(path=str(out), method="sft", base_model=str(self.start),
                              version=version, run_dir=str(run_dir), examples=len(self.data))
        return read_version(save_model(Saver(), Saver(), out, record))


class Saver:
    def save_pretrained(self, folder: str, **_: object) -> None:
        (Path(folder) / "weights").write_text("w")


class Backend:
    def __init__(self) -> None:
        self.loaded: list[Path] = []

    def reload(self, model: str | Path | None = None) -> None:
        self.loaded.append(Path(str(model)))


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    FakeTrainer.made = []
    monkeypatch.setattr(loop, "_make_trainer", FakeTrainer)
    steps = [Step(observation="at 0", action="down"), Step(observation="at 1", action="right")]
    trajs = [Trajectory(env_id="e", goal="g", seed=0, steps=steps, success=True),
             Trajectory(env_id="e", goal="g", seed=0, steps=[
                 steps[0], Step(observation="at 1", action="left")], success=False)]
    lines = "".join(t.model_dump_json() + "\n" for t in trajs)
    (tmp_path / "trajectories.jsonl").write_text(lines)
    return tmp_path


def test_rounds_number_versions_and_start_from_the_latest(run: Path) -> None:
    backend = Backend()
    first = loop.train_round(run, backend)
    second = loop.train_round(run, backend)
    assert (first.version, second.version) == (1, 2)
    assert backend.loaded == [run / "models" / "v1", run / "models" / "v2"]
    assert FakeTrainer.made[0].start is None  # nothing trained yet: the embedded model
    assert FakeTrainer.made[1].start == run / "models" / "v1"
    assert FakeTrainer.made[0].config.output_dir is None  # the loop picks the folder itself


def test_explicit_base_model_wins(run: Path) -> None:
    loop.train_round(run, config=SFTConfig(model_path="/models/base"))
    assert FakeTrainer.made[0].start == "/models/base"


def test_method_follows_the_config_type(run: Path) -> None:
    loop.train_round(run, config=SFTConfig())
    loop.train_round(run, config=DPOConfig())
    sft_data, dpo_data = FakeTrainer.made[0].data, FakeTrainer.made[1].data
    assert all(isinstance(r, ChatRecord) for r in sft_data)
    assert [(p.chosen, p.rejected) for p in dpo_data] == [("right", "left")]
    assert isinstance(dpo_data[0], PreferencePair)


def test_llm_without_reload_is_refused(run: Path) -> None:
    with pytest.raises(TrainerError, match=r"has no reload"):
        loop.train_round(run, llm=object())  # type: ignore[arg-type]


def test_no_data_fails_before_any_model_loads(tmp_path: Path, monkeypatch) -> None:
    FakeTrainer.made = []
    monkeypatch.setattr(loop, "_make_trainer", FakeTrainer)
    (tmp_path / "trajectories.jsonl").write_text("")
    with pytest.raises(TrainerError, match=r"no successful trajectories"):
        loop.train_round(tmp_path)
    assert FakeTrainer.made == [] and not (tmp_path / "models").exists()
