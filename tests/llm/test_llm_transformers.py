"""The transformers backend on the embedded SmolLM2-135M: scoring paths, prefix reuse, limits."""

from __future__ import annotations

import os

import pytest
import torch

from memplay.errors import ConfigError, LLMError
from memplay.llm.base import Prompt
from memplay.llm.registry import make_llm
from memplay.llm.transformers_backend import TransformersLLM

pytestmark = pytest.mark.embedded
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SYSTEM = "You play FrozenLake on a 4x4 grid. S is the start, G the goal, H a hole. " * 6


def _prompt(i: int) -> Prompt:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"You are at row {i}, column {3 - i}. Your move?"}]


@pytest.fixture(scope="module")
def llm() -> TransformersLLM:
    # One thread: two OpenMP threads on a shared 2-core machine can be 20x slower.
    return TransformersLLM(num_threads=1)


def _reference(llm: TransformersLLM, prompt: Prompt, candidate: str) -> float:
    """Plain full forward of prompt + candidate, no cache, no batching."""
    ids = llm.encode(prompt)
    cand = llm.tokenizer(candidate, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logp = llm.model(torch.tensor([ids + cand])).logits.log_softmax(-1)[0]
    return sum(float(logp[len(ids) - 1 + k, t]) for k, t in enumerate(cand))


def test_batched_prefix_scores_match_plain_forward(llm: TransformersLLM) -> None:
    prompts = [_prompt(i) for i in range(3)]
    cands = [["left", "go north", "right"], ["up"], ["down", "move down now"]]
    scores = llm.score(prompts, cands)
    assert [[c.text for c in row] for row in scores] == cands
    for prompt, row in zip(prompts, scores):
        for c in row:
            assert c.logprob_sum == pytest.approx(_reference(llm, prompt, c.text), abs=2e-3)
    assert scores[0][1].num_tokens == 2 and scores[0][0].num_tokens == 1


def test_prefix_cache_is_reused_across_calls_without_changing_scores(llm: TransformersLLM) -> None:
    llm.prefix_cache.clear()
    first = llm.score([_prompt(0), _prompt(1)], [["left", "right"]] * 2)
    hits, reused = llm.prefix_cache.hits, llm.prefix_cache.reused_tokens
    again = llm.score([_prompt(2), _prompt(1)], [["left", "right"]] * 2)
    assert llm.prefix_cache.hits == hits + 1
    assert llm.prefix_cache.reused_tokens - reused > 50  # the long system message was skipped
    assert again[1][0].logprob_sum == pytest.approx(first[1][0].logprob_sum, abs=1e-4)


def test_over_long_prompt_keeps_system_message_and_recent_tokens() -> None:
    small = TransformersLLM(max_prompt_tokens=48)
    prompt: Prompt = [{"role": "system", "content": "Rules: avoid holes."},
                      {"role": "user", "content": "old turn " * 80 + "NOW at row 2"}]
    full = small.tokenizer(small.render(prompt), add_special_tokens=False)["input_ids"]
    ids = small.encode(prompt)
    system = small.tokenizer.apply_chat_template(prompt[:1], tokenize=False)
    head = len(small.tokenizer(system, add_special_tokens=False)["input_ids"])
    assert len(full) > 48 and len(ids) == 48 and small.truncated_prompts == 1
    assert ids[:head] == full[:head] and ids[head:] == full[len(full) - (48 - head):]
    assert "NOW at row 2" in small.tokenizer.decode(ids)
    scores = small.score([prompt], [["left", "right"]])[0]
    assert all(s.logprob_sum < 0 for s in scores)


def test_empty_candidates_are_clear_errors(llm: TransformersLLM) -> None:
    with pytest.raises(ConfigError, match="empty candidate list"):
        llm.score(["p"], [[]])
    with pytest.raises(ConfigError, match="candidate '' of prompt 0 has no tokens"):
        llm.score(["p"], [["left", ""]])


def test_bad_prompt_and_model_are_clear_errors(tmp_path: object) -> None:
    with pytest.raises(LLMError, match="could not load model"):
        TransformersLLM(model=str(tmp_path))
    with pytest.raises(ConfigError, match="dtype='float33'"):
        TransformersLLM(dtype="float33")


def test_malformed_chat_message_is_rejected(llm: TransformersLLM) -> None:
    with pytest.raises(ConfigError, match="message 0"):
        llm.score([[{"role": "user"}]], [["a"]])  # type: ignore[list-item]


def test_reload_drops_cached_prefixes(llm: TransformersLLM) -> None:
    llm.score([_prompt(0)], [["left"]])
    assert len(llm.prefix_cache) > 0
    llm.reload(llm.source)
    assert len(llm.prefix_cache) == 0 and llm.score([_prompt(0)], [["left"]])[0][0].logprob_sum < 0


def test_make_llm_builds_the_transformers_backend() -> None:
    built = make_llm("transformers", max_batch_rows=4)
    assert isinstance(built, TransformersLLM) and built.max_batch_rows == 4


def test_one_env_at_a_time_reuses_the_previous_steps_prefix(llm: TransformersLLM) -> None:
    llm.prefix_cache.clear()
    llm.score([_prompt(0)], [["left"]])  # step 1 stores its prompt
    reused = llm.prefix_cache.reused_tokens
    step2 = llm.score([_prompt(1)], [["left", "go north"]])[0]
    assert llm.prefix_cache.reused_tokens - reused > 50
    assert step2[1].logprob_sum == pytest.approx(_reference(llm, _prompt(1), "go north"), abs=2e-3)
