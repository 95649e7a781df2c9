"""Config loading names the bad field and the fix; errors share one base class."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from memplay import errors
from memplay.config import dump_config, load_config
from memplay.types import EpisodeResult, Step, Trajectory


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    k1: int = Field(5, ge=1)
    lam: float = Field(0.5, ge=0.0, le=1.0)


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int = 0
    memory: Inner = Inner()


def test_yaml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    dump_config(Outer(seed=7, memory=Inner(k1=2)), path)
    assert load_config(path, Outer) == Outer(seed=7, memory=Inner(k1=2))


def test_bad_nested_field_is_named_with_its_value(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("memory:\n  lam: 1.5\n")
    with pytest.raises(errors.ConfigError, match=r"memory\.lam=1\.5: .*less than or equal to 1"):
        load_config(path, Outer)


def test_unknown_field_suggests_removing_it() -> None:
    with pytest.raises(errors.ConfigError, match="memroy: unknown field"):
        load_config({"memroy": {}}, Outer)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml", Outer)
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1,\n")
    with pytest.raises(errors.ConfigError, match="not valid YAML"):
        load_config(bad, Outer)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(errors.ConfigError, match="must hold a mapping"):
        load_config(listy, Outer)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [(errors.ConfigError, ValueError), (errors.EnvironmentNotFound, LookupError),
     (errors.DataNotFound, FileNotFoundError), (errors.LLMConnectionError, ConnectionError),
     (errors.ArchiveError, ValueError), (errors.StoreLockedError, errors.MemoryStoreError)],
)
def test_errors_derive_from_memplay_error_and_a_builtin(cls: type, builtin: type) -> None:
    assert issubclass(cls, errors.MemplayError)
    assert issubclass(cls, builtin)


def test_trajectory_renders_chat_and_rejects_unknown_fields() -> None:
    traj = Trajectory(env_id="e", goal="reach G",
                      steps=[Step(observation="o1", action="right", reward=0.0)])
    msgs = traj.to_messages(system="sys")
    assert [m["role"] for m in msgs] == ["system", "user", "user", "assistant"]
    assert msgs[-1]["content"] == "right"
    with pytest.raises(ValueError):
        Step(observation="o", action="a", rewrd=1.0)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        EpisodeResult(episode=-1, env_id="e", success=True, reward=1.0, steps=3)
