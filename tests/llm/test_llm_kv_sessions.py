"""Per-episode KV reuse, the candidate trie and their bookkeeping, on a tiny random Llama.

The model is built from a config (2 layers, hidden 64), so these run in about a second and
need no download. Its weights are scaled up enough that a wrong position or mask changes
log-probs by far more than the tolerance (checked in the first test).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from memplay.errors import ConfigError
from memplay.llm.base import (
    CacheStats,
    CandidateScore,
    Prompt,
    SessionScorer,
    cache_stats,
    release_sessions,
    score_in_sessions,
    validate_sessions,
)
from memplay.llm.cached_scorer import CachedScorer, ScorerOptions
from memplay.llm.candidate_tree import CandidateTree
from memplay.llm.fake import ScriptedLLM
from memplay.llm.prefix_cache import KVChain
from memplay.llm.session_cache import SessionKVCache

TOL = 1e-4
# Candidates sharing leading tokens, like "go to desk 1" / "go to desk 2" / "go to drawer 3".
CANDS = [[5, 6, 7], [5, 6, 8], [5, 9], [10], [11, 12, 13, 14], [5, 6, 7, 3]]


@pytest.fixture(scope="module")
def model() -> LlamaForCausalLM:
    torch.set_num_threads(1)  # spinning OpenMP threads crawl on a shared 2-core machine
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=101, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, initializer_range=0.2,
                      max_position_embeddings=512)
    return LlamaForCausalLM(cfg).eval()


def _reference(model: LlamaForCausalLM, ids: list[int], cand: list[int]) -> float:
    """One plain forward of prompt + candidate: no cache, no padding, no batching."""
    with torch.inference_mode():
        logp = model(torch.tensor([ids + cand])).logits.log_softmax(-1)[0]
    return sum(float(logp[len(ids) - 1 + k, t]) for k, t in enumerate(cand))


def _assert_exact(model: LlamaForCausalLM, ids: list[list[int]], cands: list[list[list[int]]],
                  got: list[list[float]]) -> None:
    for row, row_cands, row_got in zip(ids, cands, got):
        for cand, value in zip(row_cands, row_got):
            assert value == pytest.approx(_reference(model, row, cand), abs=TOL)


def _episodes(episodes: int, steps: int, seed: int = 0) -> list[list[list[int]]]:
    """Per step, one prompt per episode: shared system text + goal + growing history + a
    changing observation (so consecutive prompts share everything but the tail)."""
    rng = random.Random(seed)
    system = [rng.randrange(1, 100) for _ in range(40)]
    history = [[rng.randrange(1, 100) for _ in range(3 + 2 * e)] for e in range(episodes)]
    out = []
    for _ in range(steps):
        prompts = []
        for e in range(episodes):
            history[e] += [rng.randrange(1, 100) for _ in range(rng.randrange(1, 6))]
            prompts.append(system + history[e] + [rng.randrange(1, 100) for _ in range(3)])
        out.append(prompts)
    return out


def test_a_wrong_position_or_mask_would_be_caught(model: LlamaForCausalLM) -> None:
    ids, cand = list(range(1, 51)), [5, 6, 7]
    with torch.inference_mode():
        plain = model(torch.tensor([ids + cand])).logits.log_softmax(-1)[0, -4:]
        gap = torch.arange(len(ids) + 3)
        gap[-4:] += 1
        shifted = model(torch.tensor([ids + cand]), position_ids=gap[None]).logits
    assert (plain - shifted.log_softmax(-1)[0, -4:]).abs().max() > 100 * TOL


def test_sessions_over_growing_episodes_match_plain_forwards(model: LlamaForCausalLM) -> None:
    scorer = CachedScorer(model, pad_id=0)
    keys = [f"ep{e}" for e in range(4)]
    for step, prompts in enumerate(_episodes(4, 4)):
        before = scorer.stats()
        got = scorer.score(prompts, [CANDS] * 4, keys)
        _assert_exact(model, prompts, [CANDS] * 4, got)
        done = scorer.stats().minus(before)
        if step > 0:  # every episode resumes from its own previous prompt
            assert done.session_hits == 4 and done.session_misses == 0
            assert done.computed_tokens < 0.25 * done.prompt_tokens
    assert scorer.stats().live_sessions == 4


def test_evicting_lru_keeps_scores_exact(model: LlamaForCausalLM) -> None:
    scorer = CachedScorer(model, 0, ScorerOptions(max_sessions=2, max_session_tokens=10_000))
    keys = [f"ep{e}" for e in range(3)]
    for prompts in _episodes(3, 3, seed=1):
        _assert_exact(model, prompts, [CANDS] * 3, scorer.score(prompts, [CANDS] * 3, keys))
    stats = scorer.stats()
    assert stats.evictions > 0 and stats.live_sessions == 2 and stats.session_hits > 0
    tight = CachedScorer(model, 0, ScorerOptions(max_session_tokens=120))
    for prompts in _episodes(3, 3, seed=2):
        _assert_exact(model, prompts, [CANDS] * 3, tight.score(prompts, [CANDS] * 3, keys))
        assert tight.stats().cached_tokens <= 120
    assert tight.stats().evictions > 0


def test_rows_with_and_without_pasts_mix_in_one_batch(model: LlamaForCausalLM) -> None:
    scorer = CachedScorer(model, 0, ScorerOptions(min_prefix_tokens=4, max_batch_rows=3))
    first, second = _episodes(4, 2, seed=3)
    scorer.score(first[:2], [CANDS] * 2, ["a", "b"])
    # a and b resume; c is new (starts from the batch-shared prefix); the last row is a
    # short unrelated prompt with no session and no usable past at all.
    prompts = [second[0], second[1], second[2], [42, 43]]
    got = scorer.score(prompts, [CANDS, [[1], [2, 3]], CANDS, [[9, 9, 9]]], ["a", "b", "c", None])
    _assert_exact(model, prompts, [CANDS, [[1], [2, 3]], CANDS, [[9, 9, 9]]], got)


def test_identical_prompt_reuses_all_but_its_last_token(model: LlamaForCausalLM) -> None:
    scorer = CachedScorer(model, 0)
    prompt = _episodes(1, 1)[0][0]
    scorer.score([prompt], [CANDS], ["a"])
    before = scorer.stats()
    got = scorer.score([prompt], [CANDS], ["a"])
    done = scorer.stats().minus(before)
    assert done.computed_tokens == 1 and done.session_tokens == len(prompt) - 1
    _assert_exact(model, [prompt], [CANDS], got)


def test_token_counts_are_exact(model: LlamaForCausalLM) -> None:
    scorer = CachedScorer(model, 0)
    step1 = list(range(1, 31))
    step2 = [*step1[:25], 70, 71, 72, 73, 74, 75, 76]
    scorer.score([step1], [[[4]]], ["a"])
    before = scorer.stats()
    scorer.score([step2], [[[4], [5, 6]]], ["a"])
    done = scorer.stats().minus(before)
    assert (done.prompt_tokens, done.session_tokens, done.computed_tokens) == (32, 25, 7)
    assert (done.candidate_tokens, done.candidate_computed) == (3, 1)
    assert done.hit_rate == pytest.approx(25 / 32)
    before = scorer.stats()
    scorer.score([list(range(1, 31)), [*range(1, 21), 99, 98]], [[[4]], [[4]]])
    done = scorer.stats().minus(before)
    assert (done.shared_tokens, done.prompt_tokens) == (2 * 20, 52)


def test_release_frees_the_episode(model: LlamaForCausalLM) -> None:
    scorer = CachedScorer(model, 0)
    prompts = _episodes(2, 1)[0]
    scorer.score(prompts, [CANDS] * 2, ["a", "b"])
    assert scorer.stats().live_sessions == 2
    scorer.release(["a", "never-seen"])
    stats = scorer.stats()
    assert stats.live_sessions == 1 and stats.evictions == 0
    assert stats.cached_tokens == len(prompts[1])
    before = scorer.stats()
    scorer.score([prompts[0]], [CANDS], ["a"])
    assert scorer.stats().minus(before).session_misses == 1


def test_no_reuse_plain_and_session_calls_agree(model: LlamaForCausalLM) -> None:
    prompts = _episodes(3, 1, seed=4)[0]
    plain = CachedScorer(model, 0, ScorerOptions(reuse=False)).score(prompts, [CANDS] * 3)
    shared = CachedScorer(model, 0).score(prompts, [CANDS] * 3)
    keyed = CachedScorer(model, 0).score(prompts, [CANDS] * 3, ["a", "b", "c"])
    for a, b, c in zip(plain, shared, keyed):
        assert a == pytest.approx(b, abs=TOL) and a == pytest.approx(c, abs=TOL)


def test_candidate_trie_runs_shared_tokens_once(model: LlamaForCausalLM) -> None:
    prompts = _episodes(2, 1, seed=5)[0]
    shared = CachedScorer(model, 0)
    alone = CachedScorer(model, 0, ScorerOptions(share_candidates=False))
    a, b = shared.score(prompts, [CANDS] * 2), alone.score(prompts, [CANDS] * 2)
    assert a[0] == pytest.approx(b[0], abs=TOL) and a[1] == pytest.approx(b[1], abs=TOL)
    # Nodes: 5, 5-6, 5-6-7, 11, 11-12, 11-12-13 (6) against 2+2+1+0+3+3 = 11 unshared.
    assert shared.stats().candidate_computed == 2 * 6
    assert alone.stats().candidate_computed == 2 * 11


def test_tree_forward_splits_rows_under_a_logits_budget(model: LlamaForCausalLM) -> None:
    from memplay.llm.kv_scoring import prompt_logprobs, tree_logprobs

    prompts = _episodes(3, 1, seed=6)[0]
    states = prompt_logprobs(model, [KVChain()] * 3, prompts, 0)
    trees = [CandidateTree.build(CANDS)] * 3
    whole = tree_logprobs(model, states, trees)
    one_row_each = tree_logprobs(model, states, trees, max_floats=1)
    for a, b in zip(whole, one_row_each):
        assert a.keys() == b.keys()
        assert all(a[k] == pytest.approx(b[k], abs=TOL) for k in a)


@pytest.fixture
def counted(model: LlamaForCausalLM) -> Iterable[list[int]]:
    """A one-item list counting the model's forward calls during the test."""
    calls = [0]

    def hook(*_: object) -> None:
        calls[0] += 1

    handle = model.register_forward_pre_hook(hook)
    yield calls
    handle.remove()


def test_prompt_and_trie_run_in_one_forward_with_the_same_scores(
    model: LlamaForCausalLM, counted: list[int]
) -> None:
    steps = _episodes(3, 3, seed=8)
    joint = CachedScorer(model, 0)
    split = CachedScorer(model, 0, ScorerOptions(one_forward=False))
    keys = ["a", "b", "c"]
    for step, prompts in enumerate(steps):
        cands = [CANDS, CANDS[:3], [[10]]]  # rows of different trie widths, one without nodes
        before = counted[0]
        got = joint.score(prompts, cands, keys)
        joint_calls, before = counted[0] - before, counted[0]
        ref = split.score(prompts, cands, keys)
        # The first step also runs the batch-shared prefix; later ones resume sessions.
        assert joint_calls == (2 if step == 0 else 1)
        assert counted[0] - before == joint_calls + 1
        _assert_exact(model, prompts, cands, got)
        for a, b in zip(got, ref):
            assert a == pytest.approx(b, abs=TOL)
    # Sessions kept by the joint forward hold prompt states only: the next steps resumed them.
    assert joint.stats().session_tokens == split.stats().session_tokens > 0


def test_one_forward_gives_way_when_its_logits_would_not_fit(
    model: LlamaForCausalLM, counted: list[int]
) -> None:
    prompts = _episodes(3, 1, seed=9)[0]
    # 6 nodes per row: one forward would keep 3 rows * 7 positions * 101 logits; a trie
    # forward of two rows 2 * 6 * 101 = 1,212, of one row 606.
    assert len(CandidateTree.build(CANDS)) == 6
    tight = CachedScorer(model, 0, ScorerOptions(max_logit_floats=1000))
    got = tight.score(prompts, [CANDS] * 3)
    assert counted[0] == 1 + 1 + 3  # shared prefix, prompt, then the trie one row at a time
    _assert_exact(model, prompts, [CANDS] * 3, got)


@pytest.mark.parametrize("field", ["max_batch_rows", "max_logit_floats"])
def test_scorer_options_refuse_a_budget_below_one(field: str) -> None:
    with pytest.raises(ConfigError, match=f"{field}=0 must be >= 1"):
        ScorerOptions(**{field: 0})


def test_an_int8_model_scores_its_candidates_in_one_forward(model: LlamaForCausalLM) -> None:
    import copy

    from memplay.llm.transformers_backend import QUANTIZERS

    int8 = QUANTIZERS["int8"](copy.deepcopy(model))  # its output layer has no weight tensor
    calls = [0]
    int8.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    prompts = _episodes(2, 1, seed=10)[0]
    got = CachedScorer(int8, 0).score(prompts, [CANDS] * 2)
    assert calls[0] == 2  # the batch-shared prefix, then prompts and tries together
    # int8 activations are scaled per input tensor, so padding moves values a little: not
    # the float tolerance, but far closer than two candidates' spread.
    for row, values in zip(prompts, got):
        for cand, value in zip(CANDS, values):
            assert value == pytest.approx(_reference(int8, row, cand), abs=1.0)
    assert max(got[0]) - min(got[0]) > 5.0


def test_candidate_tree_structure() -> None:
    tree = CandidateTree.build(CANDS)
    assert tree.tokens == (5, 6, 11, 12, 13, 7)  # nodes in the order candidates need them
    assert tree.parents == (-1, 0, -1, 2, 3, 1)
    assert tree.depths == (1, 2, 1, 2, 3, 3)
    assert tree.reads[5] == ((-1, 5), (0, 6), (1, 7), (5, 3))
    assert tree.reads[3] == ((-1, 10),)
    anc = tree.ancestors()
    assert anc[5].tolist() == [True, True, False, False, False, True]
    assert not anc[4, :2].any() and anc[4, 2:5].all()


def _seg(n: int, start: float = 0.0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    values = torch.arange(start, start + n).reshape(1, 1, n, 1)
    return [(values, -values)]


def test_kv_chain_head_then_compact_keep_token_order() -> None:
    chain = KVChain((_seg(3),)).then(_seg(2, 3)).then(_seg(2, 5)).then(_seg(1, 7))
    assert chain.length == 8
    assert chain.head(4).merged()[0][0].flatten().tolist() == [0, 1, 2, 3]
    small = chain.compact(2)
    assert len(small.segments) == 2 and small.segments[0] is chain.segments[0]
    assert small.merged()[0][1].flatten().tolist() == [-float(i) for i in range(8)]
    assert chain.head(0).length == 0 and chain.compact(4) is chain


def test_session_cache_bounds_and_counts() -> None:
    cache = SessionKVCache(max_sessions=3, max_tokens=10)
    cache.put("a", [1, 2, 3, 4], KVChain((_seg(4),)))
    cache.put("b", [1, 2, 3, 4], KVChain((_seg(4),)))
    cache.match("a", [1])  # a is now more recent than b
    cache.put("c", [1, 2, 3], KVChain((_seg(3),)))  # 11 tokens > 10: b goes
    assert "b" not in cache and "a" in cache and cache.tokens == 7 and cache.evictions == 1
    cache.put("huge", list(range(11)), KVChain((_seg(11),)))  # larger than the bound
    assert "huge" not in cache and cache.tokens == 7
    cache.put("a", [9], KVChain((_seg(1),)))  # replacing is not an eviction
    assert cache.tokens == 4 and cache.evictions == 1
    n, chain = cache.match("c", [1, 2, 9])
    assert (n, chain.length) == (2, 2)
    with pytest.raises(ConfigError, match="max_sessions=-1"):
        SessionKVCache(max_sessions=-1)


def test_session_keys_are_checked() -> None:
    with pytest.raises(ConfigError, match="one key"):
        validate_sessions(["a", "b"], ["x"])
    with pytest.raises(ConfigError, match="given for prompts 0 and 1"):
        validate_sessions(["a", "b"], ["x", "x"])
    with pytest.raises(ConfigError, match="not a string"):
        validate_sessions(["a"], [3])  # type: ignore[list-item]
    validate_sessions(["a", "b"], [None, None])


class _Recorder:
    """A SessionScorer that records what the helpers pass it."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[Sequence[str | None] | None] = []
        self.released: list[str] = []

    def generate(self, prompts: Sequence[Prompt], sampling: object = None) -> list[str]:
        return ["" for _ in prompts]

    def score(self, prompts: Sequence[Prompt], candidates: Sequence[Sequence[str]], *,
              sessions: Sequence[str | None] | None = None) -> list[list[CandidateScore]]:
        self.seen.append(sessions)
        return [[CandidateScore(c, -1.0, 1) for c in cs] for cs in candidates]

    def release(self, sessions: Iterable[str]) -> None:
        self.released.extend(sessions)

    def cache_stats(self) -> CacheStats:
        return CacheStats(prompts=len(self.seen))


def test_helpers_pass_sessions_only_to_backends_that_keep_them() -> None:
    rec = _Recorder()
    assert isinstance(rec, SessionScorer)
    score_in_sessions(rec, ["p", "q"], [["a"], ["b"]], ["ep1", None])
    release_sessions(rec, ["ep1"])
    assert rec.seen == [["ep1", None]] and rec.released == ["ep1"]
    assert cache_stats(rec) == CacheStats(prompts=1)
    fake = ScriptedLLM(scores={"b": -0.5})
    assert not isinstance(fake, SessionScorer)
    out = score_in_sessions(fake, ["p"], [["a", "b"]], ["ep1"])
    assert [c.logprob_sum for c in out[0]] == [-5.0, -0.5]
    release_sessions(fake, ["ep1"])  # nothing to free, no error
    assert cache_stats(fake) is None and len(fake.calls) == 1


def test_new_weights_drop_every_state_but_keep_the_counters(model: LlamaForCausalLM) -> None:
    scorer = CachedScorer(model, 0)
    prompts = _episodes(2, 1, seed=7)[0]
    scorer.score(prompts, [CANDS] * 2, ["a", "b"])
    scorer.reset(model, 0)
    stats = scorer.stats()
    assert stats.live_sessions == 0 and len(scorer.prefix_cache) == 0 and stats.prompts == 2
    scorer.score([prompts[0]], [CANDS], ["a"])
    assert scorer.stats().session_misses == 3  # two first steps, then "a" again after reset
