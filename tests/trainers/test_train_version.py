"""Model version folders and their version.json records (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memplay.errors import DataNotFound, TrainerError
from memplay.trainers.modeling import save_model
from memplay.trainers.version import (
    ModelVersion,
    latest_version,
    list_versions,
    next_version_dir,
    read_version,
    record_success,
)


class FakeSaver:
    """Stands in for a model or tokenizer: writes one file in save_pretrained."""

    def __init__(self, name: str, fail: bool = False) -> None:
        self.name, self.fail = name, fail

    def save_pretrained(self, folder: str, **_: object) -> None:
        if self.fail:
            raise OSError("disk full")
        (Path(folder) / self.name).write_text("x")


def make_version(run: Path, n: int) -> Path:
    out = run / "models" / f"v{n}"
    record = ModelVersion(path=str(out), method="sft", base_model="base", version=n,
                          data={"success": 3}, losses=[2.0, 1.0])
    return save_model(FakeSaver("model.safetensors"), FakeSaver("tokenizer.json"), out, record)


def test_versions_number_up_and_latest_is_highest(tmp_path: Path) -> None:
    assert next_version_dir(tmp_path).name == "v1" and latest_version(tmp_path) is None
    for n in (1, 2, 10):
        make_version(tmp_path, n)
    assert [p.name for p in list_versions(tmp_path)] == ["v1", "v2", "v10"]
    assert latest_version(tmp_path) == tmp_path / "models" / "v10"
    assert next_version_dir(tmp_path).name == "v11"


def test_saved_folder_holds_weights_tokenizer_and_record(tmp_path: Path) -> None:
    out = make_version(tmp_path, 1)
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "tokenizer.json",
                                               "version.json"}
    record = read_version(out)
    assert record.data == {"success": 3} and record.success_after is None


def test_save_never_overwrites_and_cleans_up_on_failure(tmp_path: Path) -> None:
    out = make_version(tmp_path, 1)
    with pytest.raises(TrainerError, match=r"already exists"):
        save_model(FakeSaver("a"), FakeSaver("b"), out)
    broken = tmp_path / "models" / "v2"
    with pytest.raises(OSError, match=r"disk full"):
        save_model(FakeSaver("a", fail=True), FakeSaver("b"), broken)
    assert not broken.exists()
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["v1"]


def test_record_success_updates_the_file(tmp_path: Path) -> None:
    out = make_version(tmp_path, 1)
    assert record_success(out, 0.75).success_after == 0.75
    assert read_version(out).success_after == 0.75
    with pytest.raises(TrainerError, match=r"success=1.5"):
        record_success(out, 1.5)


def test_missing_or_corrupt_record(tmp_path: Path) -> None:
    with pytest.raises(DataNotFound, match=r"version.json not found"):
        read_version(tmp_path)
    (tmp_path / "version.json").write_text("{not json")
    with pytest.raises(TrainerError, match=r"not a valid version record"):
        read_version(tmp_path)
