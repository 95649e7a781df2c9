"""vLLM backend request building and log-prob extraction, with a fake vllm module (no GPU)."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from memplay.errors import LLMError, LLMOutputError
from memplay.llm.base import SamplingParams
from memplay.llm.vllm_backend import VLLMBackend, candidate_logprob, to_vllm_sampling


@dataclass
class FakeParams:
    max_tokens: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    stop: list[str] | None = None
    seed: int | None = None
    prompt_logprobs: int | None = None


@dataclass
class Logprob:
    logprob: float


class FakeTokenizer:
    """One token per character (ids are code points), chat = 'role: content' lines."""

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        return {"input_ids": [ord(ch) for ch in text]}

    def apply_chat_template(
        self, messages: list, tokenize: bool, add_generation_prompt: bool
    ) -> str:
        return "".join(f"{m['role']}:{m['content']}|" for m in messages) + "A:"


@dataclass
class FakeEngine:
    model: str
    kwargs: dict[str, Any]
    requests: list[Any] = field(default_factory=list)

    def get_tokenizer(self) -> FakeTokenizer:
        return FakeTokenizer()

    def generate(self, requests: list[Any], params: FakeParams) -> list[Any]:
        self.requests.append((requests, params))
        if params.prompt_logprobs is not None:  # each token's log-prob = -(its position)
            return [types.SimpleNamespace(prompt_logprobs=[
                None if i == 0 else {tok: Logprob(-float(i))}
                for i, tok in enumerate(r["prompt_token_ids"])]) for r in requests]
        return [types.SimpleNamespace(outputs=[types.SimpleNamespace(text=f"{r}!STOP tail")])
                for r in requests]


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("vllm")
    module.LLM = lambda model, **kw: FakeEngine(model, kw)  # type: ignore[attr-defined]
    module.SamplingParams = FakeParams  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


def test_missing_vllm_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` fail
    with pytest.raises(LLMError, match=r"memplay\[gpu\]"):
        VLLMBackend("m")


def test_missing_gpu_is_a_clear_error(fake_vllm: types.ModuleType) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(LLMError, match="needs a CUDA GPU"):
        VLLMBackend("m")


def test_sampling_mapping(fake_vllm: types.ModuleType) -> None:
    greedy = to_vllm_sampling(
        fake_vllm, SamplingParams(max_new_tokens=5, top_p=0.5, stop=("\n",))
    )
    assert (greedy.max_tokens, greedy.temperature, greedy.top_p) == (5, 0.0, 1.0)
    assert greedy.stop == ["\n"]
    hot = to_vllm_sampling(fake_vllm, SamplingParams(temperature=0.7, top_p=0.9, seed=3))
    assert (hot.temperature, hot.top_p, hot.stop, hot.seed) == (0.7, 0.9, None, 3)


def test_generate_renders_chat_and_cuts_stop(fake_vllm: types.ModuleType) -> None:
    llm = VLLMBackend("my-model", require_gpu=False, gpu_memory_utilization=0.5)
    out = llm.generate([[{"role": "user", "content": "hi"}], "raw"], SamplingParams(stop=("!",)))
    assert out == ["user:hi|A:", "raw"]
    assert llm.engine.kwargs == {"enable_prefix_caching": True, "gpu_memory_utilization": 0.5}
    assert llm.name == "vllm:my-model"


def test_score_requests_and_logprob_sums(fake_vllm: types.ModuleType) -> None:
    llm = VLLMBackend("m", require_gpu=False)
    requests, spans = llm.score_requests(["ab"], [["c", "de"]])
    assert requests == [
        {"prompt_token_ids": [97, 98, 99]},
        {"prompt_token_ids": [97, 98, 100, 101]},
    ]
    assert spans == [[(2, [99]), (2, [100, 101])]]
    scores = llm.score(["ab"], [["c", "de"]])[0]
    # fake log-prob of the token at position i is -i: "c" at 2; "de" at 2 and 3
    assert [(s.logprob_sum, s.num_tokens) for s in scores] == [(-2.0, 1), (-5.0, 2)]
    _, params = llm.engine.requests[-1]
    assert (params.max_tokens, params.prompt_logprobs) == (1, 0)


def test_logprob_extraction_rejects_missing_table() -> None:
    with pytest.raises(LLMOutputError, match="prompt_logprobs=0"):
        candidate_logprob(types.SimpleNamespace(prompt_logprobs=None), 1, [5])
    out = types.SimpleNamespace(prompt_logprobs=[None, {7: Logprob(-1.0)}])
    with pytest.raises(LLMOutputError, match="lack token 5"):
        candidate_logprob(out, 1, [5])


def test_reload_builds_a_new_engine(fake_vllm: types.ModuleType) -> None:
    llm = VLLMBackend("old", require_gpu=False)
    first = llm.engine
    llm.reload("new")
    assert llm.engine is not first and llm.engine.model == "new" and llm.name == "vllm:new"
