"""bench/_common.py: every script ends in ``finish`` (JSON, PNG, one line), and a record is
replaced whole or not at all."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import _common  # noqa: E402  (bench/ is not a package)


def test_finish_writes_json_then_draws_beside_it(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    drawn: list[Path] = []
    path = _common.finish(tmp_path, "bench_x", False, {"wall_s": 61.6, "rows": [1]},
                          drawn.append)
    assert path == tmp_path / "bench_x.json"
    assert drawn == [tmp_path / "bench_x.png"]
    record = json.loads(path.read_text())
    assert record["rows"] == [1] and record["benchmark"] == "bench_x"
    assert record["quick"] is False and "machine_at_end" in record
    assert capsys.readouterr().out.strip() == f"wrote {path} and .png in 62 s"


def test_a_crash_mid_write_keeps_the_previous_record(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = _common.write_record(tmp_path, "bench_x", True, {"rows": "old"})

    def crash(fd: int) -> None:  # the new text is written but not yet safe on disk
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        _common.write_record(tmp_path, "bench_x", True, {"rows": "new"})
    assert json.loads(path.read_text())["rows"] == "old"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no half-written leftovers
