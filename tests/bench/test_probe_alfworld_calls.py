"""bench/probe_alfworld_calls.py: the timer sees each row's new tokens and whether it is its
episode's first call, and the summary counts the first prompts' tokens by part."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import probe_alfworld_calls as probe  # bench/ is not a package


class CharTokenizer:
    """One token per character (ids are code points)."""

    def decode(self, ids: list[int]) -> str:
        return "".join(map(chr, ids))

    def __call__(self, text: str) -> dict[str, Any]:
        return {"input_ids": [ord(c) for c in text]}


@pytest.fixture(autouse=True)
def _fresh_calls() -> Any:
    probe.CALLS.clear()
    yield
    probe.CALLS.clear()


def test_the_timer_marks_first_calls_and_counts_only_new_tokens() -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    from memplay.llm.cached_scorer import CachedScorer

    cfg = LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    scorer = CachedScorer(LlamaForCausalLM(cfg).eval(), pad_id=0)
    timed = probe._timed(CachedScorer._score_rows)
    timed(scorer, [[1, 2, 3, 4, 5]], [[[6]]], ["ep"])
    timed(scorer, [[1, 2, 3, 4, 5, 7, 8]], [[[6]]], ["ep"])  # the session holds the first 5
    first, later = (call["rows"][0] for call in probe.CALLS)
    assert (first["first"], first["new"], first["ids"]) == (True, 5, [1, 2, 3, 4, 5])
    assert (later["first"], later["new"], later["ids"]) == (False, 2, None)
    stats = scorer.stats()  # the probe adds no look-up of its own: counters as without it
    assert (stats.session_hits, stats.session_misses) == (1, 1)
    assert "_pasts" not in vars(scorer)  # the per-call hook is gone after the call


def test_the_summary_splits_first_prompts_by_part() -> None:
    prompt = "sys\n<memories>\nmm\n</memories>\n<hint>h</hint>\nObservation:\nroom\n\nGo"
    ids = [ord(c) for c in prompt]
    probe.CALLS.extend([
        {"s": 2.0, "rows": [{"new": len(ids), "first": True, "ids": ids},
                            {"new": 3, "first": False, "ids": None}]},
        {"s": 0.5, "rows": [{"new": 4, "first": False, "ids": None}]}])
    record = probe.summary(CharTokenizer())
    parts = record["first_prompt_tokens_by_part"]
    assert parts["memories"] == len("<memories>\nmm\n</memories>\n")
    assert parts["hint"] == len("<hint>h</hint>\n")
    assert parts["observation"] == len("Observation:\nroom\n\n")
    assert sum(parts.values()) == len(ids) and parts["rest"] == len("sys\nGo")
    assert (record["first_rows"], record["later_rows"], record["later_new_tokens"]) == (1, 2, 7)
    assert (record["model_s"], record["calls_with_first_rows_s"]) == (2.5, 2.0)
    assert record["padded_tokens"] == 2 * len(ids) + 4
