"""Cold start of the embedded model: GGUF -> safetensors once, then the cached copy."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from memplay.agents.policy import PolicyConfig, llm_scores
from memplay.llm.embedded import embedded_model_path
from memplay.llm.transformers_backend import TransformersLLM

pytestmark = pytest.mark.embedded
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MOVES = ["left", "down", "right", "up"]


def _prompt(hint: str | None) -> list[dict[str, str]]:
    memory = f"In a past successful episode, from this same position the move was: {hint}.\n"
    return [{"role": "system", "content": "You play FrozenLake on a 4x4 grid. Reach G, avoid H. "
                                          "Answer with one move: left, down, right or up.\n"
                                          + (memory if hint else "")},
            {"role": "user", "content": "SFFF\nFHFH\nFFFH\nHFFG\nYou are at row 0, column 0. "
                                        "Your move?"}]


def test_cold_cache_converts_once_then_loads_from_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMPLAY_CACHE", str(tmp_path))
    start = time.perf_counter()
    path = embedded_model_path()  # converts the GGUF (tens of seconds)
    cold = time.perf_counter() - start
    assert path.is_relative_to(tmp_path) and (path / "model.safetensors").is_file()
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    start = time.perf_counter()
    assert embedded_model_path() == path  # second call: cached, nothing rewritten
    assert time.perf_counter() - start < cold / 10
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".convert-")]

    llm = TransformersLLM(path, num_threads=1)
    plain, hinted = llm_scores(llm, [_prompt(None), _prompt("right")], [MOVES, MOVES],
                               PolicyConfig())
    assert set(plain.scores) == set(hinted.scores) == set(MOVES)
    # The step-level memory line raises the remembered move's score relative to the others.
    gain = hinted.scores["right"] - plain.scores["right"]
    assert all(gain > hinted.scores[m] - plain.scores[m] for m in MOVES if m != "right")
