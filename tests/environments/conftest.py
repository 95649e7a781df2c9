"""Fixtures of the environment tests: where the offline ALFWorld games are."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

_REPO_DATA = Path(__file__).resolve().parents[2] / ".cache" / "alfworld"


@pytest.fixture(scope="session")
def alfworld_data() -> str:
    """The ALFWorld data folder; skips the test where alfworld or its data is missing."""
    # find_spec, not importorskip: importing alfworld without ALFWORLD_DATA writes ~/.cache
    if importlib.util.find_spec("alfworld") is None:
        pytest.skip("alfworld is not installed (pip install alfworld==0.4.2 pyyaml)")
    if os.environ.get("ALFWORLD_DATA"):
        return os.environ["ALFWORLD_DATA"]
    if (_REPO_DATA / "json_2.1.1").is_dir():
        return str(_REPO_DATA)
    pytest.skip("ALFWORLD_DATA is not set (CI sets it; `make data` unpacks it)")
