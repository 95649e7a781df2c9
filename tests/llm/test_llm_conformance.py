"""One backend test suite, run against the transformers backend and a real llama.cpp server.

The server is llama-cpp-python's OpenAI-compatible ``llama_cpp.server`` serving the embedded
GGUF (the session fixture ``llamacpp_url`` of ``tests/conftest.py``). It is
scored with ``score_mode="top_logprobs"`` because llama-cpp-python 0.3.x misreports echoed
prompt log-probs (see the openai_backend module doc).
"""

from __future__ import annotations

import os

import pytest

from memplay.agents.policy import PolicyConfig, llm_scores
from memplay.llm.base import LLM, Prompt, SamplingParams
from memplay.llm.openai_backend import OpenAILLM
from memplay.llm.transformers_backend import TransformersLLM

pytestmark = pytest.mark.embedded
os.environ.setdefault("HF_HUB_OFFLINE", "1")

MOVES = ["left", "down", "right", "up"]


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
