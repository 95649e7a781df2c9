"""One backend test suite, run against the transformers backend and a real llama.cpp server.

The server is llama-cpp-python's OpenAI-compatible ``llama_cpp.server`` serving the embedded
GGUF on a free 127.0.0.1 port, started by the fixture and stopped after the module. It is
scored with ``score_mode="top_logprobs"`` because llama-cpp-python 0.3.x misreports echoed
prompt log-probs (see the openai_backend module doc).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from memplay.agents.llm.base import LLM, Prompt, SamplingParams
from memplay.agents.llm.embedded import embedded_gguf_file
from memplay.agents.llm.openai_backend import OpenAILLM
from memplay.agents.llm.transformers_backend import TransformersLLM
from memplay.agents.policy import PolicyConfig, llm_scores

pytestmark = pytest.mark.embedded
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MOVES = ["left", "down", "right", "up"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llamacpp_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="pip install 'llama-cpp-python[server]'")
    port = _free_port()
    # One thread: like torch, llama.cpp's threads spin and crawl on a shared 2-core machine.
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf_file()),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1",
           "--verbose", "false"]
    # The server logs every request; a file (not a pipe nobody drains) can never block it.
    log = tmp_path_factory.mktemp("llamacpp") / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(proc, url, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = log.read_text(errors="replace")[-500:]
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {err}")
        try:
            if httpx.get(url + "/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not answer on {url} within {limit} s")


@pytest.fixture(scope="module")
def transformers_llm() -> TransformersLLM:
    # One thread: two OpenMP threads on a shared 2-core machine can be 20x slower.
    return TransformersLLM(num_threads=1)


@pytest.fixture(params=["transformers", "llamacpp-server"])
def backend(request: pytest.FixtureRequest) -> LLM:
    if request.param == "transformers":
        return request.getfixturevalue("transformers_llm")  # type: ignore[no-any-return]
    url = request.getfixturevalue("llamacpp_url")
    return OpenAILLM(url, model="smollm2", score_mode="top_logprobs", max_retries=2, timeout=120)


def _frozenlake(row: int, col: int) -> Prompt:
    grid = "\n".join("".join("P" if (r, c) == (row, col) else "F" for c in range(4))
                     for r in range(4))
    return [{"role": "system", "content": "You play FrozenLake. Answer with one move: "
                                          "left, down, right or up."},
            {"role": "user", "content": f"{grid}\nYou are P at row {row}, column {col}. Move?"}]


def test_generate_one_text_per_prompt_greedy_is_deterministic(backend: LLM) -> None:
    prompts: list[Prompt] = ["1, 2, 3,", [{"role": "user", "content": "Say hello."}]]
    sampling = SamplingParams(max_new_tokens=6)
    first, again = backend.generate(prompts, sampling), backend.generate(prompts, sampling)
    assert len(first) == 2 and all(isinstance(t, str) and t for t in first)
    assert first == again
    assert first[0].strip().startswith("4")  # a 135M model still counts


def test_stop_strings_cut_the_output(backend: LLM) -> None:
    text = backend.generate(["1, 2, 3,"], SamplingParams(max_new_tokens=12, stop=("6",)))[0]
    assert "6" not in text and "4" in text


def test_score_shape_order_and_ranking(backend: LLM) -> None:
    rows = backend.score(["The capital of France is", _frozenlake(0, 0)],
                         [[" banana", " Paris"], MOVES])
    assert [[c.text for c in row] for row in rows] == [[" banana", " Paris"], MOVES]
    assert all(c.logprob_sum <= 0 and c.num_tokens >= 1 for row in rows for c in row)
    assert rows[0][1].logprob_sum > rows[0][0].logprob_sum + 2


def test_the_policy_scores_frozenlake_moves_with_every_backend(backend: LLM) -> None:
    states = [(0, 0), (1, 2), (3, 1)]
    views = llm_scores(backend, [_frozenlake(r, c) for r, c in states], [MOVES] * 3,
                       PolicyConfig())
    assert all(set(v.scores) == set(MOVES) and v.parsed for v in views)
    assert all(max(v.scores.values()) <= 0.0 for v in views)  # per-token mean log-probs


def test_server_and_local_model_agree_on_logprobs(
    transformers_llm: TransformersLLM, llamacpp_url: str
) -> None:
    server = OpenAILLM(llamacpp_url, score_mode="top_logprobs", timeout=120)
    prompt = "The capital of France is"
    local = transformers_llm.score([prompt], [[" Paris"]])[0][0].logprob_sum
    remote = server.score([prompt], [[" Paris"]])[0][0].logprob_sum
    # Same weights (Q4_1 GGUF vs its float32 dequantisation): close, not identical.
    assert remote == pytest.approx(local, abs=0.3)
